"""Sync by itself for the app: at start, after local changes, periodically, and when the office is back."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from .client import SyncClient, SyncStatus, utc_now
from .errors import SyncError

log = logging.getLogger(__name__)
MAX_DEBOUNCES = 5  # pokes keep postponing a sync by `debounce`, up to this many times its length


class Backoff:
    """Exponential delays with jitter, capped: base, 2·base, 4·base … each drawn in [d/2, d]."""

    def __init__(
        self, base: float = 2.0, cap: float = 300.0, rng: random.Random | None = None
    ) -> None:
        self.base = base
        self.cap = cap
        self.rng = rng or random.Random()
        self.attempt = 0

    def next(self) -> float:
        """The next delay in seconds."""
        ceiling = min(self.cap, self.base * 2 ** min(self.attempt, 30))
        self.attempt += 1
        return ceiling / 2 + self.rng.uniform(0, ceiling / 2)

    def reset(self) -> None:
        """Start again from the base delay."""
        self.attempt = 0


class BackgroundSync:
    """Runs sync rounds forever and reports a SyncStatus after every change of state."""

    def __init__(
        self,
        client: SyncClient,
        on_status: Callable[[SyncStatus], None],
        *,
        period: float = 60,
        debounce: float = 2,
        backoff: Backoff | None = None,
    ) -> None:
        self.client = client
        self.on_status = on_status
        self.period = period
        self.debounce = debounce
        self.backoff = backoff or Backoff()
        self.rounds = 0
        self.status = SyncStatus()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake: asyncio.Event | None = None
        self._poke_due: float | None = None
        self._poke_first: float | None = None
        self._now = False

    async def run(self) -> None:
        """Sync at start, then whenever asked, periodically, and as soon as the office answers again."""
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        last_sync = await asyncio.to_thread(self.client.store.get_meta, "last_sync")
        self._publish(last_success=last_sync, **(await self._counts()))
        while True:
            error = await self._round()
            if error is None:
                self.backoff.reset()
                await self._wait(self.period)
            elif error.retry_soon:
                await self._until_reachable()
            else:
                await self._wait(self.period)

    def poke(self) -> None:
        """A local change was saved: sync after a short quiet spell."""
        self._call(self._on_poke)

    def sync_now(self) -> None:
        """Sync as soon as possible, skipping any wait."""
        self._call(self._on_now)

    def _call(self, fn: Callable[[], None]) -> None:
        """Run fn on the sync loop, whichever thread asks."""
        if self._loop is None:
            fn()
        else:
            self._loop.call_soon_threadsafe(fn)

    def _on_poke(self) -> None:
        now = self._loop.time() if self._loop else 0.0
        if self._poke_first is None:
            self._poke_first = now
        # each change waits for a quiet spell, but steady typing cannot put the sync off forever
        self._poke_due = min(now + self.debounce, self._poke_first + MAX_DEBOUNCES * self.debounce)
        if self._wake is not None:
            self._wake.set()

    def _on_now(self) -> None:
        self._now = True
        if self._wake is not None:
            self._wake.set()

    async def _round(self) -> SyncError | None:
        """One round, with the status published before and after."""
        self._poke_due = self._poke_first = None
        self._publish(sending=True)
        try:
            await self.client.run_round(self._progress)
        except SyncError as exc:
            log.warning("sync round not finished (%s): %s", exc.kind, exc.en)
            self._publish(
                sending=False,
                online=exc.kind != "offline",
                last_error=exc.message(self.client.settings.language),
                **(await self._counts()),
            )
            return exc
        except Exception as exc:  # a bug must not stop syncing forever; say it and carry on
            log.exception("sync round failed")
            error = SyncError("server", f"同步出错：{exc}", f"Sync failed: {exc}")
            self._publish(
                sending=False,
                last_error=error.message(self.client.settings.language),
                **(await self._counts()),
            )
            return SyncError("config", error.zh, error.en)
        counts = await self._counts()  # read before the round counts as done: no await between
        self.rounds += 1
        self._publish(
            clock_warning=self.client.clock_warning(self.client.settings.language),
            sending=False,
            online=True,
            last_success=utc_now(),
            last_error=None,
            **counts,
        )
        return None

    async def _until_reachable(self) -> None:
        """Probe /healthz with backoff until the office answers (or someone asks to sync now)."""
        while True:
            if await self._wait(self.backoff.next()):
                return
            if await self.client.probe():
                return

    async def _wait(self, timeout: float) -> bool:
        """Sleep up to timeout; True if woken by sync_now or a debounced poke."""
        assert self._loop is not None and self._wake is not None
        deadline = self._loop.time() + timeout
        while True:
            if self._now:
                self._now = False
                return True
            now = self._loop.time()
            until = deadline
            if self._poke_due is not None:
                if self._poke_due <= now:
                    return True
                until = min(until, self._poke_due)
            if until <= now:
                return False
            self._wake.clear()
            try:
                await asyncio.wait_for(self._wake.wait(), until - now)
            except TimeoutError:
                pass

    async def _counts(self) -> dict[str, Any]:
        """Unsent and rejected ops, read in a thread (another worker may be writing the cache)."""
        counts = await asyncio.to_thread(self.client.store.counts)
        files = await asyncio.to_thread(self.client.store.evidence_usage)
        return {
            "unsent": int(counts.get("unsent", 0)),
            "rejected": int(counts.get("rejected", 0)),
            "files_waiting": int(files["waiting"]),
            "uploading": None,
        }

    def _progress(self, phase: str, done: int, total: int) -> None:
        """Publish upload progress (each hundredth), so the status bar can show it."""
        if phase != "upload" or not total:
            return
        shown = self.status.uploading
        if shown is None or shown[1] != total or (done - shown[0]) * 100 >= total or done == total:
            self._publish(uploading=(done, total))

    def _publish(self, **changes: object) -> None:
        """Update the status and tell the app."""
        self.status = replace(self.status, **changes)  # type: ignore[arg-type]
        try:
            self.on_status(self.status)
        except Exception:  # the app's callback failing must not stop sync
            log.exception("sync status callback failed")
