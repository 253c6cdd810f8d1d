"""One pull of a sync round: the office's pages after a cursor, each applied with its cursor.

While a page is applied (in a thread), the next one is already on its way and is checked when
it comes: the office, the network and the checks work while the cache writes, so a full pull
costs little more than its download. What a page says (a restart, a new epoch, its changes) is
acted on only once the one before it is applied, as one at a time; a nonsense page ends the
round once the page before it is in.

What the loop needs from the cache between pages (the epoch the cache was pulled under, the
office's mark it holds) is read once, before the first page, and then followed in memory: a
read of the cache would wait for the page being applied (the store has one connection and one
lock) and the next page would not leave before the last was in. The office's mark of a page is
kept in that page's transaction, so the page and its proof are in the cache together or not at
all.
"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from . import wire
from .errors import protocol
from .http import request_json

if TYPE_CHECKING:
    from .client import Progress, RoundResult, SyncClient

PULL = "/api/v1/sync/pull"
# meta: the office's mark of the furthest change this cache has seen or sent ("seq.hex"). Sent
# with every push and pull, it lets the office tell that it no longer holds what this computer
# saw, even when an old copy of the office's store was put back and has since handed out the
# same sequence numbers to other changes (a cursor alone cannot tell).
MARK = "office_mark"


# Pages queued for the writer before the next is asked for: the one being written and one
# waiting, so a page the office or the network is slow to give does not leave the writer idle
# (a province's page is ~5,000 changes, ~15 MB decoded).
AHEAD = 2


def newer(mark: str | None, kept: str | None) -> bool:
    """Whether the office's `mark` stands for a change at least as late as the `kept` one."""
    return mark is not None and wire.mark_seq(mark) >= wire.mark_seq(kept)


@contextmanager
def _no_cycle_collection() -> Iterator[None]:
    """Python's cycle collector paused while pages come and go.

    A page is a tree of dicts and lists, freed by reference counting the moment it is written;
    the collector finds no cycle in it, but a province's pull allocates enough of them to make
    it walk every live object, the page being written and the one arriving, again and again:
    0.3-0.45 s of a 4 s pull, holding the GIL the writer needs. It runs again when the pull ends
    (however it ends), as it was."""
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.enable()


class Pull:
    """The pages of one pull, for one round of `client` (its store, HTTP client and restart)."""

    def __init__(self, client: SyncClient, result: RoundResult, report: Progress) -> None:
        self.client, self.store = client, client.store
        self.result, self.report = result, report
        self.epoch: str | None = None  # the epoch the cache holds
        self.proof: str | None = None  # the furthest mark the cache holds once the page is in
        # one thread writes the pages, in the order queued: a page never overtakes another
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="fieldkit-pull")
        self._sizes: dict[asyncio.Future[None], int] = {}  # changes in each queued page
        self._failed = False  # a page could not be written: none after it is

    async def run(self, cursor: int) -> None:
        """Pull pages after `cursor` until the office has no more."""
        with _no_cycle_collection():
            await self._pages(cursor)

    async def _pages(self, cursor: int) -> None:
        client = self.client
        self.epoch, self.proof = await client._db(self._kept)
        restarted = False
        pending: list[asyncio.Future[None]] = []  # pages queued for the writer, oldest first
        try:
            for _ in range(client.max_pages):
                params: dict[str, Any] = {"cursor": cursor, "limit": client.page_limit}
                if self.proof:
                    params["mark"] = self.proof
                status, body = await request_json(client._http, "GET", PULL, params=params)
                # checked while the pages before are still being written; one of the same
                # epoch as the cache's is queued at once, for the writer to take up the moment
                # it is done with the page before; anything else waits until those are in
                page = wire.check_page(body, cursor) if status == 200 else None
                queued = False
                if page is not None and self._follows(page):
                    pending.append(self._queue(page))
                    queued = True
                while len(pending) > (AHEAD if queued else 0):  # wait until those are in
                    await self._applied(pending.pop(0))
                if status == 410:
                    if restarted or (cursor == 0 and not self.proof):
                        raise protocol("服务器不认识游标 0", "the server does not know cursor 0")
                    await self._restart(None)
                    cursor, restarted = 0, True
                    continue
                if page is None:
                    raise protocol(f"拉取返回了 HTTP {status}", f"pull answered HTTP {status}")
                if not queued:
                    if await self._diverged(page, cursor):
                        if restarted:
                            raise protocol(
                                "同一轮同步中服务器的数据标识变了两次",
                                "the server's epoch changed twice in one round",
                            )
                        await self._restart(page.epoch)
                        cursor, restarted = 0, True
                        continue
                    pending.append(self._queue(page))
                cursor = page.cursor
                if not page.more:
                    while pending:
                        await self._applied(pending.pop(0))
                    return
        finally:
            # the round stopped meanwhile: let the writer finish (a page after one that
            # failed is not written)
            await asyncio.gather(*pending, return_exceptions=True)
            self._writer.shutdown(wait=False)
        raise protocol(
            f"拉取超过 {client.max_pages} 页仍未结束",
            f"the pull did not end after {client.max_pages} pages",
        )

    def _follows(self, page: wire.Page) -> bool:
        """Whether the page is of the epoch the cache holds (nothing to decide before it)."""
        return page.epoch is None or (self.epoch is not None and page.epoch == self.epoch)

    def _queue(self, page: wire.Page) -> asyncio.Future[None]:
        """Hand the page to the writer, with the office's mark if later than the one held."""
        keep = page.mark if newer(page.mark, self.proof) else None
        self.proof = keep or self.proof
        loop = asyncio.get_running_loop()
        written = loop.run_in_executor(self._writer, self._apply, page, keep)
        self._sizes[written] = len(page.changes)
        return written

    def _kept(self) -> tuple[str | None, str | None]:
        return self.store.get_meta("epoch"), self.store.get_meta(MARK)

    async def _applied(self, written: asyncio.Future[None]) -> None:
        """Wait until a page is applied, then count it."""
        await written
        self.result.pulled += self._sizes.pop(written)
        self.report("pull", self.result.pulled, 0)

    async def _diverged(self, page: wire.Page, cursor: int) -> bool:
        """Whether the server's store is not the one this cache was pulled from."""
        if page.epoch is None:
            return False
        if self.epoch is None and cursor == 0:
            await self.client._db(self.store.set_meta, "epoch", page.epoch)
            self.epoch = page.epoch
            return False
        return self.epoch != page.epoch

    async def _restart(self, epoch: str | None) -> None:
        """Start over from 0 (client._restart: unsent ops kept, the office checked again)."""
        await self.client._restart(epoch)
        self.client._restarted = True
        self.epoch, self.proof = epoch, None

    def _apply(self, page: wire.Page, mark: str | None) -> None:
        """Apply a page, its cursor and (if later than the one held) the office's mark, together
        (in the writer thread). Its stamps, checked and each distinct one once, are observed by
        the clock first. After a page that failed, nothing is written: its changes would be
        skipped over."""
        if self._failed:
            raise _NotWritten
        try:
            for stamp in page.stamps:
                self.store.clock.observe(stamp)
            meta = {MARK: mark} if mark else None
            self.store.apply_changes(page.changes, page.cursor, meta=meta, observed=True)
        except BaseException:
            self._failed = True
            raise


class _NotWritten(Exception):
    """A page queued after one that could not be written (never seen outside the pull)."""
