"""An old copy of the office's store put back by hand while others go on syncing: every client
finds out at its next sync (its mark proves what it saw), re-pulls, re-sends what the office lost."""

from __future__ import annotations

import shutil
from pathlib import Path

from fieldkit.sync import SyncClient
from tests.fault_proxy import FaultProxy
from tests.live_server import LiveServer
from tests.test_sync_office import Person, RealOffice, connect, disconnect, replica, visit


def put_back(db: Path, copy: Path) -> None:
    """What an office does by hand: the server stopped, yesterday's file copied over today's."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    shutil.copy(copy, db)


def client(person: Person) -> SyncClient:
    assert person.client is not None
    return person.client


async def test_a_hand_copied_old_store_is_found_out_after_others_synced_past(
    tmp_path: Path,
) -> None:
    real = RealOffice(tmp_path, institutions=6)
    li, wang = real.add("李娜"), real.add("王强")
    real.assign(li, real.ids[:3])
    real.assign(wang, real.ids[3:])
    old_copy = tmp_path / "yesterday.sqlite"
    with LiveServer(real.db) as server:
        port = server.port
        await connect(li, server.url)
        await connect(wang, server.url)
        await client(li).run_round()
        await client(wang).run_round()
    shutil.copy(real.db, old_copy)
    with LiveServer(real.db, port=port):  # this morning: 李娜 sends three visits and a step
        assert li.store is not None and wang.store is not None
        for n in range(3):
            li.store.create_visit(visit(li, real.ids[n], n, "上午走访"))
        li.store.set_step(real.ids[0], "registered", "done", by=li.id)
        await client(li).run_round()
        assert len(real.visit_ids()) == 3
    put_back(real.db, old_copy)
    with LiveServer(real.db, port=port) as server:
        # 王强 goes on working: the restored office hands out the same numbers to his changes
        for n in range(12):
            wang.store.create_visit(visit(wang, real.ids[3 + n % 3], n))
        await client(wang).run_round()
        assert len(real.visit_ids()) == 12
        # 李娜 only pulls this time: her mark shows the office lost what she saw
        with FaultProxy(server.url) as proxy:
            await disconnect(li)
            await connect(li, server.url, via=proxy.url)
            result = await client(li).run_round()
            pulls = [e.path for e in proxy.events if e.path.startswith("/api/v1/sync/pull")]
            assert "mark=" in pulls[0] and "cursor=0&" in pulls[1], pulls
            assert result.applied == 4  # what the office lost, sent again
            assert li.store.pending_ops(10) == []
            await client(li).run_round()
            await client(wang).run_round()
        counts = real.op_counts()
        assert all(n == 1 for n, _ in counts.values())
        assert len(real.visit_ids()) == 15
        office_view = real.registers()
        assert replica(li.store) == {i: office_view[i] for i in real.ids[:3]}
        assert replica(wang.store) == {i: office_view[i] for i in real.ids[3:]}
        assert office_view[real.ids[0]]["steps"]["registered"][0] == "done"
    await disconnect(li, wang)


async def test_a_push_to_a_store_put_back_is_refused_whole_then_sent_again_with_the_lost_ones(
    tmp_path: Path,
) -> None:
    real = RealOffice(tmp_path, institutions=4)
    li, wang = real.add("李娜"), real.add("王强")
    real.assign(li, real.ids[:2])
    real.assign(wang, real.ids[2:])
    old_copy = tmp_path / "yesterday.sqlite"
    with LiveServer(real.db) as server:
        port = server.port
        await connect(li, server.url)
        await connect(wang, server.url)
        await client(li).run_round()
        await client(wang).run_round()
        shutil.copy(real.db, old_copy)  # a copy taken by hand while serving, before her edits
        assert li.store is not None and wang.store is not None
        li.store.create_visit(visit(li, real.ids[0], 1, "第一次"))
        await client(li).run_round()
        lost = li.store.pending_ops(10)
    put_back(real.db, old_copy)
    with LiveServer(real.db, port=port) as server:
        for n in range(6):
            wang.store.create_visit(visit(wang, real.ids[2 + n % 2], n))
        await client(wang).run_round()
        li.store.create_visit(visit(li, real.ids[1], 2, "第二次"))  # new work, unsent
        with FaultProxy(server.url) as proxy:
            await disconnect(li)
            await connect(li, server.url, via=proxy.url)
            await client(li).run_round()
            await client(li).run_round()
            pushes = [e.path for e in proxy.events if e.path == "/api/v1/sync/push"]
            pulls = [e.path for e in proxy.events if e.path.startswith("/api/v1/sync/pull")]
        # refused whole (410), then her new visit with the lost one, then a pull from scratch
        assert len(pushes) >= 2 and "cursor=0&" in pulls[0], (pushes, pulls)
        assert lost == [] and li.store.pending_ops(10) == []
        assert sorted(real.visit_ids()) == sorted(
            [f"{li.id}-v1", f"{li.id}-v2"] + [f"{wang.id}-v{n}" for n in range(6)]
        )
        assert all(n == 1 for n, _ in real.op_counts().values())
        office_view = real.registers()
        assert replica(li.store) == {i: office_view[i] for i in real.ids[:2]}
    await disconnect(li, wang)
