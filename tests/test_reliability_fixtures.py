"""A cache written at each earlier schema step (committed files) opens with today's code, losing nothing."""

from __future__ import annotations

import gzip
import json
import sqlite3
from pathlib import Path

import pytest

from cache import Store, schema
from fieldkit import domain
from tests.fixtures import make_old_caches as old

STEPS = range(1, len(schema.known_names()) + 1)
I1, I2, I3 = (row[0] for row in old.INSTITUTIONS)


def unpack(k: int, tmp_path: Path) -> Path:
    path = tmp_path / "cache.sqlite"
    path.write_bytes(gzip.decompress((old.HERE / old.fixture_name(k)).read_bytes()))
    return path


def test_every_schema_step_has_its_committed_file() -> None:
    """Adding a migration means committing the file of the step before it: run the generator."""
    committed = sorted(p.name for p in old.HERE.glob("schema-*.sqlite.gz"))
    assert committed == [old.fixture_name(k) for k in STEPS]


@pytest.mark.parametrize("k", STEPS)
def test_the_file_is_of_its_own_step(tmp_path: Path, k: int) -> None:
    conn = sqlite3.connect(unpack(k, tmp_path))
    try:
        applied = [r[0] for r in conn.execute("SELECT name FROM _sqlite_migrations ORDER BY id")]
    finally:
        conn.close()
    assert applied == schema.known_names()[:k]


@pytest.mark.parametrize("k", STEPS)
def test_opening_an_earlier_schema_keeps_everything(tmp_path: Path, k: int) -> None:
    path = unpack(k, tmp_path)
    with Store.open(path) as store:
        assert store.client_id == old.CLIENT
        for key, value in (
            ("cursor", "137"),
            ("epoch", "5eed0ffice"),
            ("last_sync", "2026-11-27T18:00:00+00:00"),
        ):
            assert store.get_meta(key) == value
        with_visits = k >= 2
        pending = [o["op_id"] for o in store.pending_ops(100)]
        assert pending == ["op-unsent", "op-sending"] + (
            ["op-visit", "op-poster"] if with_visits else []
        )
        sending = store.pending_ops(100)[1]
        assert sending["data"] == {"contact_phone": "13800001234"}
        [rejected] = store.rejected_ops()
        assert (rejected["op_id"], rejected["reason"]) == ("op-rejected", "not_assigned")
        assert rejected["message"] == "该机构不在您的名单中 / not on your list"
        assert store.counts() == {
            "unsent": len(pending),
            "rejected": 1,
            "institutions": 3,
            "visits": 2 if with_visits else 0,
        }

        first = store.institution(I1)
        assert first is not None and first["payment"] == old.PAYMENT
        assert (first["bank_status"], first["orders"], first["order_amount_fen"]) == (
            "passed",
            3,
            12_000,
        )
        assert store.institution(I3)["bank_reason"] == "账户名不符"  # type: ignore[index]
        states = store.step_states(I1)
        assert states["qualification"].note == "证照齐全"
        assert (
            states["personnel"].status,
            states["personnel"].reason,
            states["personnel"].sync_state,
        ) == ("blocked", "缺教师资格证", "unsent")
        assert states["bank_verified"].updated_by == "office"

        rows = {r.id: r for r in store.assignments()}
        assert (rows[I1].done, rows[I1].blocked, rows[I1].unsent) == (4, True, 1 + with_visits)
        assert [r.id for r in store.assignments(query="童趣")] == [I2]  # search built or kept
        assert [r.id for r in store.assignments(query="cdmlsf")] == [I3]
        if with_visits:
            [local] = store.visits(I2)
            assert local["rectification"] == {"items": ["更换收款码"], "deadline": "2026-12-05"}
            assert local["sync_state"] == "unsent" and local["interview_recommended"]
            assert rows[I2].next_visit_on == "2026-12-06"
            assert store.visits(I1)[0]["steps_advanced"] == ["registered"]
            assert [e["kind"] for e in store.events(I1)] == ["poster.printed"]

        op = store.set_step(I1, "courses", "in_progress", by="T0001")  # today's work goes on
        assert domain.newer(op["hlc"], old.LOCAL[5])
        store.record_results([{"op_id": "op-unsent", "status": "applied"}])
        assert store.step_states(I1)["personnel"].sync_state == "synced"
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        applied = [r[0] for r in conn.execute("SELECT name FROM _sqlite_migrations ORDER BY id")]
        assert applied == schema.known_names()
        data = conn.execute("SELECT data FROM outbox WHERE op_id = 'op-unsent'").fetchone()[0]
        assert json.loads(data)["reason"] == "缺教师资格证"
    finally:
        conn.close()


@pytest.mark.parametrize("k", [1, len(STEPS)])
def test_an_earlier_schema_held_by_the_office_restore_path_requeues(tmp_path: Path, k: int) -> None:
    """The synced op of an old file is still there to send again to a restored office."""
    with Store.open(unpack(k, tmp_path)) as store:
        assert store.requeue_synced() == 1
        assert "op-synced" in [o["op_id"] for o in store.pending_ops(100)]
