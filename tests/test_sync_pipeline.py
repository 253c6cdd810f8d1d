"""A pull's next page leaves while the one before is being written, and each page is written
with its cursor and the office's mark together (the real office under uvicorn, a real cache)."""

from __future__ import annotations

import gc
import threading
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from cache.errors import MalformedChange
from cache.store import Store
from fieldkit.sync import SyncClient, login
from fieldkit.sync.pulling import MARK
from tests.live_server import LiveServer
from tests.test_sync_office import RealOffice

PAGE = 40  # 12 institutions and their steps: four pages


@asynccontextmanager
async def pulling(tmp_path: Path) -> AsyncIterator[tuple[RealOffice, Store, SyncClient, list[str]]]:
    """A technician of 12 institutions logged in to the real office, with a client pulling
    PAGE changes a page; the list holds the cursor of every page asked for, in order."""
    real = RealOffice(tmp_path)
    tech = real.add("李娜")
    real.assign(tech, real.ids)
    with LiveServer(real.db) as server:
        settings = await login(server.url, tech.token)
        with Store.open(settings.cache_path) as store:
            client = SyncClient(settings, store, tech.token, page_limit=PAGE)
            asked: list[str] = []

            async def note(request: httpx.Request) -> None:
                if request.url.path == "/api/v1/sync/pull":
                    asked.append(request.url.params["cursor"])

            client._http.event_hooks["request"].append(note)
            try:
                yield real, store, client, asked
            finally:
                await client.aclose()


async def test_the_next_page_is_asked_for_while_a_page_is_written(tmp_path: Path) -> None:
    async with pulling(tmp_path) as (real, store, client, asked):
        apply = store.apply_changes
        asked_meanwhile: list[bool] = []
        collecting: list[bool] = []  # whether the cycle collector ran while a page was written
        kept: list[tuple[int, str | None]] = []

        def slow_apply(changes: list[dict[str, Any]], cursor: int, **kw: Any) -> None:
            """Hold a full page until the page after it is asked for (or 10 s pass)."""
            waited = time.monotonic()
            last = len(changes) < PAGE  # nothing is asked for after the last page
            while not last and str(cursor) not in asked and time.monotonic() - waited < 10:
                time.sleep(0.01)
            asked_meanwhile.append(str(cursor) in asked)
            collecting.append(gc.isenabled())
            apply(changes, cursor, **kw)
            assert threading.current_thread() is not threading.main_thread()
            kept.append((cursor, store.get_meta(MARK)))

        store.apply_changes = slow_apply  # type: ignore[method-assign]
        result = await client.run_round()
        del store.apply_changes
        pulled = [i for i in real.ids if store.institution(i) is not None]
        cursor = store.get_meta("cursor")
    assert len(asked_meanwhile) == 4
    # every page but the last was still being written when the next one was asked for (the
    # last has none after it)
    assert asked_meanwhile == [True, True, True, False], asked_meanwhile
    assert result.pulled == 12 * 12 and len(pulled) == 12
    # the cycle collector is paused while pages are written, and runs again after
    assert collecting == [False] * 4 and gc.isenabled()
    # each page's mark was kept by the page's own transaction: "cursor.hex", the cursor's seq
    assert all(mark and mark.split(".")[0] == str(at) for at, mark in kept), kept
    assert cursor == str(kept[-1][0])


async def test_a_page_queued_after_one_that_fails_is_not_written(tmp_path: Path) -> None:
    async with pulling(tmp_path) as (real, store, client, asked):
        apply = store.apply_changes
        written: list[int] = []  # the cursors of the pages stored
        failed: list[int] = []

        def second_fails(changes: list[dict[str, Any]], cursor: int, **kw: Any) -> None:
            """The second page cannot be stored, once the third is on its way to the writer."""
            if written:
                waited = time.monotonic()
                while str(cursor) not in asked and time.monotonic() - waited < 10:
                    time.sleep(0.01)
                time.sleep(0.3)  # the third page arrives and is queued meanwhile
                failed.append(cursor)
                raise MalformedChange(changes[0], "the disk said no")
            apply(changes, cursor, **kw)
            written.append(cursor)

        store.apply_changes = second_fails  # type: ignore[method-assign]
        with pytest.raises(MalformedChange):
            await client.run_round()
        del store.apply_changes
        # the third page was asked for (and queued) but never written: its changes would
        # have skipped the second's
        assert len(written) == 1 and len(failed) == 1 and str(failed[0]) in asked, asked
        assert store.get_meta("cursor") == str(written[0])
        result = await client.run_round()  # the next round takes up from the first page
        assert result.pulled == 12 * 12 - PAGE
        assert all(store.institution(i) is not None for i in real.ids)
