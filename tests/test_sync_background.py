"""Background sync: at start, after local changes (debounced), on demand, and when the office is back."""

from __future__ import annotations

import asyncio
import random
import sqlite3
import threading
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from fieldkit.sync import BackgroundSync, Backoff, SyncStatus
from tests.fault_proxy import FaultProxy, Faults
from tests.live_server import LiveServer
from tests.test_sync_office import Person, RealOffice, connect, disconnect


async def until(condition: Callable[[], bool], timeout: float = 10) -> None:
    """Wait (polling the loop) until condition holds, or fail."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.01)


@pytest.fixture
async def laptop(tmp_path: Path) -> AsyncIterator[tuple[Person, FaultProxy, RealOffice]]:
    real = RealOffice(tmp_path, institutions=4)
    tech = real.add("李娜")
    real.assign(tech, real.ids)
    with LiveServer(real.db) as server, FaultProxy(server.url) as proxy:
        await connect(tech, server.url, via=proxy.url)
        yield tech, proxy, real
        await disconnect(tech)


def start(tech: Person, **options: float) -> tuple[BackgroundSync, list[SyncStatus], asyncio.Task]:
    assert tech.client is not None
    seen: list[SyncStatus] = []
    backoff = Backoff(base=0.05, cap=0.2, rng=random.Random(1))
    background = BackgroundSync(
        tech.client, seen.append, backoff=backoff, **{"period": 600.0, "debounce": 0.2, **options}
    )
    return background, seen, asyncio.create_task(background.run())


async def stop(task: asyncio.Task) -> None:
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(task, 5)


async def test_syncs_at_start_and_reports_its_status(laptop: tuple) -> None:
    tech, proxy, real = laptop
    background, seen, task = start(tech)
    try:
        await until(lambda: background.rounds == 1 and not background.status.sending)
        status = background.status
        assert status.online is True and status.unsent == 0 and status.last_error is None
        assert status.last_success is not None
        assert any(s.sending for s in seen)
        assert tech.store is not None and tech.store.counts()["institutions"] == 4
    finally:
        await stop(task)


async def test_local_changes_are_sent_after_a_quiet_spell(laptop: tuple) -> None:
    tech, proxy, real = laptop
    background, seen, task = start(tech, debounce=0.5)
    try:
        await until(lambda: background.rounds == 1)
        assert tech.store is not None
        for step in ("personnel", "courses", "parent_app"):
            tech.store.set_step(real.ids[0], step, "in_progress", by=tech.id)
            background.poke()
        await asyncio.sleep(0.05)
        assert background.rounds == 1  # still inside the debounce
        await until(lambda: background.rounds == 2 and not background.status.sending)
        assert background.status.unsent == 0
        await asyncio.sleep(0.7)
        assert background.rounds == 2  # three pokes, one round
        assert tech.store.counts()["unsent"] == 0
    finally:
        await stop(task)


async def test_steady_typing_cannot_put_the_sync_off_forever(laptop: tuple) -> None:
    tech, proxy, real = laptop
    background, seen, task = start(tech)
    try:
        await until(lambda: background.rounds == 1)
        started = asyncio.get_running_loop().time()
        while background.rounds == 1:  # a poke every 0.1 s, inside the 0.2 s debounce
            assert asyncio.get_running_loop().time() - started < 3, "never synced"
            background.poke()
            await asyncio.sleep(0.1)
    finally:
        await stop(task)


async def test_syncs_periodically_without_being_asked(laptop: tuple) -> None:
    tech, proxy, real = laptop
    background, seen, task = start(tech, period=0.2)
    try:
        await until(lambda: background.rounds >= 3, timeout=5)
        pulls = [e for e in proxy.events if e.path.startswith("/api/v1/sync/pull")]
        assert len(pulls) >= 3
    finally:
        await stop(task)


async def test_sync_now_skips_the_wait(laptop: tuple) -> None:
    tech, proxy, real = laptop
    background, seen, task = start(tech)
    try:
        await until(lambda: background.rounds == 1)
        background.sync_now()
        await until(lambda: background.rounds == 2, timeout=2)
    finally:
        await stop(task)


async def test_offline_then_back_syncs_as_soon_as_the_office_answers(laptop: tuple) -> None:
    tech, proxy, real = laptop
    background, seen, task = start(tech)
    try:
        await until(lambda: background.rounds == 1)
        proxy.faults = Faults(drop_before=1.0)  # the hotspot is gone
        assert tech.store is not None
        tech.store.set_step(real.ids[0], "parent_app", "in_progress", by=tech.id)
        background.poke()
        await until(lambda: background.status.online is False)
        assert background.status.last_error and "无法连接服务器" in background.status.last_error
        await until(lambda: sum(e.path == "/healthz" for e in proxy.events) >= 2)
        await until(lambda: background.status.unsent == 1)
        assert background.rounds == 1
        proxy.enabled = False  # the hotspot is back
        await until(lambda: background.rounds == 2, timeout=5)
        assert background.status.online is True and background.status.unsent == 0
        assert background.status.last_error is None
    finally:
        await stop(task)


async def test_it_stops_when_cancelled_even_while_waiting_for_the_office(laptop: tuple) -> None:
    tech, proxy, real = laptop
    proxy.faults = Faults(fixed_delay=5)
    background, seen, task = start(tech)
    await until(lambda: background.status.sending)
    await stop(task)


async def test_the_event_loop_keeps_running_while_another_writer_holds_the_cache(
    laptop: tuple,
) -> None:
    """Another process (a `fieldkit sync` in a terminal) writing the file must not freeze the app."""
    tech, proxy, real = laptop
    assert tech.store is not None and tech.client is not None
    await tech.client.run_round()  # the list is on the laptop
    other = sqlite3.connect(tech.store.path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # the other process's write, held for a second
    edit = threading.Thread(  # an edit in a thread worker waits for it, holding this store
        target=tech.store.set_step,
        args=(real.ids[0], "parent_app", "in_progress"),
        kwargs={"by": tech.id},
    )
    edit.start()
    await asyncio.sleep(0.1)
    loop = asyncio.get_running_loop()
    gaps, last = [], loop.time()
    background, seen, task = start(tech)
    try:
        for _ in range(50):  # the loop ticks every 20 ms for a second
            await asyncio.sleep(0.02)
            gaps.append(loop.time() - last)
            last = loop.time()
        other.execute("COMMIT")
        edit.join(5)
        await until(lambda: background.rounds >= 1 and not background.status.sending)
        assert max(gaps) < 0.5, f"the event loop stalled for {max(gaps):.2f} s"
        assert tech.store.step_states(real.ids[0])["parent_app"].status == "in_progress"
        assert background.status.unsent == 0  # the edit, saved once the file was free, went out
    finally:
        other.close()
        await stop(task)


def test_backoff_grows_exponentially_with_jitter_up_to_a_cap() -> None:
    backoff = Backoff(base=1, cap=30, rng=random.Random(7))
    delays = [backoff.next() for _ in range(10)]
    ceilings = [min(30, 2**n) for n in range(10)]
    assert all(c / 2 <= d <= c for d, c in zip(delays, ceilings, strict=True))
    assert len(set(delays)) == len(delays)  # jittered
    backoff.reset()
    assert backoff.next() <= 1
