"""Pull: pages of the change log after a cursor, in server order, within the caller's scope."""

from __future__ import annotations

import json

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
            select(changes.c.seq, changes.c.kind, changes.c.entity_id, changes.c.data)
            .where(changes.c.seq > cursor, changes.c.seq <= head, change_scope(caller))
            .order_by(changes.c.seq).limit(limit + 1)
        ).all()
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = rows[-1].seq if more else head
    parts = [f'{{"seq":{seq},"kind":"{kind}","id":{json.dumps(entity)},"data":{data}}}'
             for seq, kind, entity, data in rows]
    tail = f'],"cursor":{next_cursor},"more":{"true" if more else "false"},"epoch":"{epoch}"}}'
    return ('{"changes":[' + ",".join(parts) + tail).encode("utf-8")
