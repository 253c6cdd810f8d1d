"""Pull: pages of the change log after a cursor, in server order, within the caller's scope."""

from __future__ import annotations

from sqlalchemy import select

from .auth import Caller, change_scope
from .store import Store, changes

DEFAULT_LIMIT = 1000
MAX_LIMIT = 10000


class CursorUnknown(Exception):
    """The cursor is ahead of everything this store has issued (another store, or a reset one)."""


def pull_body(store: Store, caller: Caller, cursor: int, limit: int, epoch: str) -> bytes:
    """The JSON answer for one page, built from the stored (already serialised) change data."""
    with store.engine.connect() as conn:
        head = store.head(conn)
        if cursor > head:
            raise CursorUnknown(cursor)
        rows = conn.execute(
            select(changes.c.seq, changes.c.body)
            .where(changes.c.seq > cursor, changes.c.seq <= head, change_scope(caller))
            .order_by(changes.c.seq).limit(limit + 1)
        ).all()
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = rows[-1][0] if more else head
    parts = b",".join([b'{"seq":%d,%s' % (seq, body) for seq, body in rows])
    tail = b'],"cursor":%d,"more":%s,"epoch":"%s"}' % (next_cursor, b"true" if more else b"false",
                                                       epoch.encode())
    return b'{"changes":[' + parts + tail
