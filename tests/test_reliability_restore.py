"""An office restored from a backup gets back, from the laptops, every change it lost."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from cache import Store
from tests.live_server import LiveServer
from tests.test_cache_fixtures import institution, open_loaded
from tests.test_sync_office import Person, RealOffice, connect, disconnect, replica, visit


def restore(real: RealOffice, backup: Path, new_epoch: str | None = None) -> None:
    """Put the backup back in place of the office's file (the server is stopped)."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{real.db}{suffix}").unlink(missing_ok=True)
    shutil.copy(backup, real.db)
    if new_epoch is not None:  # a restore procedure that marks the store as another one
        with real.server_store() as store, store.writing() as conn:
            store.set_meta(conn, "epoch", new_epoch)


def edits(person: Person, ids: list[str], start: int) -> list[str]:
    """A few saves of every kind that travels: visits, steps, a contact; their op ids."""
    store = person.store
    assert store is not None
    ops = [
        store.create_visit(visit(person, ids[n % len(ids)], start + n, f"走访{start + n}"))
        for n in range(3)
    ]
    status = "in_progress" if start == 0 else "blocked"
    ops.append(
        store.set_step(
            ids[0], "parent_app", status, "家长端未安装" if start else None, by=person.id
        )
    )
    ops.append(store.set_contact(ids[1], contact_phone=f"1390000{start:04d}"))
    return [op["op_id"] for op in ops]


async def test_a_backup_restored_over_the_office_file_gets_back_every_lost_change(
    tmp_path: Path,
) -> None:
    """Restored by copying the file: the office no longer knows the laptop's cursor (410)."""
    real = RealOffice(tmp_path, institutions=4)
    tech = real.add("李娜")
    real.assign(tech, real.ids)
    backup = tmp_path / "office-backup.sqlite"
    with LiveServer(real.db) as server:
        port = server.port
        await connect(tech, server.url)
        assert tech.client and tech.store
        await tech.client.run_round()
        first = edits(tech, real.ids, 0)
        await tech.client.run_round()
    shutil.copy(real.db, backup)  # last night's backup, taken with the server stopped
    with LiveServer(real.db, port=port):
        second = edits(tech, real.ids, 10)
        await tech.client.run_round()
        assert set(first + second) <= set(real.op_counts())
    restore(real, backup)
    assert not set(second) & set(real.op_counts())  # the restore lost the second batch
    try:
        with LiveServer(real.db, port=port):
            result = await tech.client.run_round()
            assert result.pushed >= len(second)
            counts = real.op_counts()
            assert set(first + second) <= set(counts)
            assert all(counts[op][0] == 1 for op in first + second)  # each recorded once
            assert {counts[op][1] for op in first} == {"applied"}  # answered at first sending
            assert real.visit_ids() == sorted(f"{tech.id}-v{n}" for n in (0, 1, 2, 10, 11, 12))
            assert tech.store.pending_ops(100) == []
            assert replica(tech.store) == real.registers()
            step = real.registers()[real.ids[0]]["steps"]["parent_app"]
            assert step[:2] == ("blocked", "家长端未安装")  # the newest edit won again
    finally:
        await disconnect(tech)


async def test_a_restored_office_with_a_new_epoch_that_moved_past_the_cursor(
    tmp_path: Path,
) -> None:
    """The restore marks a new epoch and others sync first, so the cursor alone would not tell."""
    real = RealOffice(tmp_path, institutions=6)
    tech, other = real.add("李娜"), real.add("王强")
    real.assign(tech, real.ids[:3])
    real.assign(other, real.ids[3:])
    backup = tmp_path / "office-backup.sqlite"
    with LiveServer(real.db) as server:
        port = server.port
        await connect(tech, server.url)
        await connect(other, server.url)
        assert tech.client and other.client
        await tech.client.run_round()
        await other.client.run_round()
    shutil.copy(real.db, backup)
    with LiveServer(real.db, port=port):
        lost = edits(tech, real.ids[:3], 0)
        await tech.client.run_round()
    restore(real, backup, new_epoch="restored-2026-11-28")
    try:
        with LiveServer(real.db, port=port):
            for n in range(4):  # the office moves on past this laptop's cursor
                edits(other, real.ids[3:], 20 * (n + 1))
                await other.client.run_round()
            await tech.client.run_round()
            assert set(lost) <= set(real.op_counts())
            assert tech.store is not None and tech.store.get_meta("epoch") == "restored-2026-11-28"
            assert replica(tech.store) == {
                k: v for k, v in real.registers().items() if k in real.ids[:3]
            }
    finally:
        await disconnect(tech, other)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = open_loaded(tmp_path / "cache.sqlite")
    yield s
    s.close()


I1, I2, I3 = (institution(n)["id"] for n in (1, 2, 3))


def test_requeue_puts_synced_ops_back_in_order_and_rows_back_to_unsent(store: Store) -> None:
    ops = [
        store.set_step(I1, "registered", "done", by="T1"),
        store.set_contact(I2, contact_phone="13900001111"),
        store.set_step(I3, "registered", "done", by="T1"),
    ]
    store.record_results(
        [{"op_id": o["op_id"], "status": "applied", "superseded": True} for o in ops]
    )
    assert store.pending_ops(10) == [] and len(store.conflicts()) == 3
    store.apply_changes([{"seq": 1, "kind": "unassigned", "id": I3, "data": {}}], cursor=1)
    assert store.institution(I3) is None
    assert store.requeue_synced(exclude={ops[1]["op_id"]}) == 1  # I3 left: its op stays settled
    assert [o["op_id"] for o in store.pending_ops(10)] == [ops[0]["op_id"]]
    assert store.step_states(I1)["registered"].sync_state == "unsent"
    assert len(store.conflicts()) == 2 and store.counts()["unsent"] == 1  # flags cleared on it
    store.reset_for_full_pull()  # the requeued op keeps its institution and row
    assert store.step_states(I1)["registered"].status == "done"
    assert store.institution(I2) is None  # the office's copies go; the pull brings them back


def test_forget_synced_drops_only_settled_ops_older_than_asked(store: Store) -> None:
    old = store.set_step(I1, "registered", "done", by="T1")
    store.record_results([{"op_id": old["op_id"], "status": "applied"}])
    waiting = store.set_step(I2, "registered", "done", by="T1")
    assert store.forget_synced("2000-01-01T00:00:00+00:00") == 0
    assert store.forget_synced() == 1
    assert store.requeue_synced() == 0
    assert [o["op_id"] for o in store.pending_ops(10)] == [waiting["op_id"]]
