"""Pull: pages of the change log after a cursor, in server order, within the caller's scope."""

from __future__ import annotations

import threading
import zlib
from collections import OrderedDict
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from .auth import Caller, change_scope
from .store import Store, changes, joined_bodies, mark_of

DEFAULT_LIMIT = 1000
MAX_LIMIT = 10000
GZIP_LEVEL = 6
GZIP_MIN_BYTES = 1000
READ_AHEAD_PAGES = 16


class CursorUnknown(Exception):
    """The cursor is ahead of everything this store has issued (another store, or a reset one)."""


@dataclass(frozen=True)
class Page:
    """One pull answer: its JSON body (gzip-compressed when `gzipped`), and where it ends."""

    body: bytes
    gzipped: bool
    cursor: int
    more: bool
    head: int


def build_page(
    store: Store, caller: Caller, cursor: int, limit: int, epoch: str, gzipped: bool
) -> Page:
    """The page after `cursor`, spliced from the changes stored already serialised (one snapshot)."""
    with store.engine.connect() as conn:
        head = store.head(conn)
        if cursor > head:
            raise CursorUnknown(cursor)
        scope = (changes.c.seq <= head, change_scope(caller))
        if cursor == head:  # nothing new: the answer costs the same whatever the caller's scope
            count, last, joined = 0, head, b""
        else:
            count, last, joined = joined_bodies(
                conn,
                select(changes.c.seq, changes.c.body)
                .where(changes.c.seq > cursor, *scope)
                .order_by(changes.c.seq)
                .limit(limit),
            )
        more = (
            count == limit
            and conn.execute(
                select(changes.c.seq).where(changes.c.seq > last, *scope).limit(1)
            ).first()
            is not None
        )
        end = last if more else head
        mark = mark_of(conn, end)
    body = (
        b'{"changes":['
        + joined
        + b'],"cursor":%d,"more":%s,"epoch":"%s","mark":%s}'
        % (
            end,
            b"true" if more else b"false",
            epoch.encode(),
            b'"%s"' % mark.encode() if mark else b"null",
        )
    )
    if gzipped and len(body) >= GZIP_MIN_BYTES:
        packer = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
        return Page(packer.compress(body) + packer.flush(), True, end, more, head)
    return Page(body, False, end, more, head)


class Puller:
    """Answers pull requests, preparing the next page while the client reads the current one."""

    def __init__(self, store: Store, epoch: str) -> None:
        self.store, self.epoch = store, epoch
        self._ahead: OrderedDict[tuple[Caller, int, int], Future[Page]] = OrderedDict()
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="pull-ahead")

    def page(self, caller: Caller, cursor: int, limit: int, gzipped: bool) -> Page:
        """The page after `cursor` (CursorUnknown if the cursor is ahead of the store)."""
        page = self._prepared(caller, cursor, limit) if gzipped else None
        if page is None:
            page = build_page(self.store, caller, cursor, limit, self.epoch, gzipped)
        if page.more and gzipped:
            self._read_ahead(caller, page.cursor, limit)
        return page

    def _prepared(self, caller: Caller, cursor: int, limit: int) -> Page | None:
        """A page read ahead for exactly this request, if the store has not changed since."""
        with self._lock:
            future = self._ahead.pop((caller, cursor, limit), None)
        if future is None:
            return None
        try:
            page = future.result()
        except (CursorUnknown, SQLAlchemyError):
            return None
        with self.store.engine.connect() as conn:
            return page if self.store.head(conn) == page.head else None

    def _read_ahead(self, caller: Caller, cursor: int, limit: int) -> None:
        """Start building the next page in the background."""
        with self._lock:
            key = (caller, cursor, limit)
            if key in self._ahead:
                return
            self._ahead[key] = self._pool.submit(
                build_page, self.store, caller, cursor, limit, self.epoch, True
            )
            while len(self._ahead) > READ_AHEAD_PAGES:
                self._ahead.popitem(last=False)[1].cancel()

    def close(self) -> None:
        """Stop reading ahead."""
        self._pool.shutdown(wait=True, cancel_futures=True)
