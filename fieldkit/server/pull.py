"""Pull: pages of the change log after a cursor, in server order, within the caller's scope."""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import Connection, select

from .auth import Caller, change_scope
from .store import Store, changes

DEFAULT_LIMIT = 1000
MAX_LIMIT = 10000
CHUNK_ROWS = 1000  # rows per streamed chunk: ~250 KB of JSON, compressed while the next is read


class CursorUnknown(Exception):
    """The cursor is ahead of everything this store has issued (another store, or a reset one)."""


def pull_chunks(store: Store, caller: Caller, cursor: int, limit: int,
                epoch: str) -> Iterator[bytes]:
    """The JSON answer for one page as chunks, spliced from the stored (serialised) changes.

    Raises CursorUnknown before anything is produced; the read is one snapshot.
    """
    conn = store.engine.connect()
    try:
        head = store.head(conn)
        if cursor > head:
            raise CursorUnknown(cursor)
    except BaseException:
        conn.close()
        raise
    return _chunks(conn, caller, cursor, limit, head, epoch)


def _chunks(conn: Connection, caller: Caller, cursor: int, limit: int, head: int,
            epoch: str) -> Iterator[bytes]:
    """Yield the page; the connection is closed when the page is done (or abandoned)."""
    try:
        result = conn.execute(
            select(changes.c.seq, changes.c.body)
            .where(changes.c.seq > cursor, changes.c.seq <= head, change_scope(caller))
            .order_by(changes.c.seq).limit(limit + 1))
        sent, last, opening = 0, cursor, b'{"changes":['
        while sent < limit:
            rows = result.fetchmany(min(CHUNK_ROWS, limit - sent))
            if not rows:
                break
            chunk = b",".join([body for _, body in rows])
            yield (opening if sent == 0 else b",") + chunk
            sent, last = sent + len(rows), rows[-1][0]
        more = result.fetchone() is not None
        result.close()
    finally:
        conn.close()
    yield (b"" if sent else b'{"changes":[') + b'],"cursor":%d,"more":%s,"epoch":"%s"}' % (
        last if more else head, b"true" if more else b"false", epoch.encode())


def pull_body(store: Store, caller: Caller, cursor: int, limit: int, epoch: str) -> bytes:
    """The whole JSON answer for one page."""
    return b"".join(pull_chunks(store, caller, cursor, limit, epoch))
