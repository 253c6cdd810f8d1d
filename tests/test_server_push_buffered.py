"""The batch path (rows fetched once, writes held in memory and sent per table) answers and
writes exactly what applying the same ops one by one in savepoints does, for every kind of answer
and for ops that must leave the batch path (another kind, a visit that opens a case)."""

from __future__ import annotations

import contextlib
import shutil
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, text

from fieldkit import domain
from fieldkit.server import push
from fieldkit.server.batch import Batch
from tests.live_server import LiveServer, SmallOffice, make_op, small_office, visit_data

# What differs between two runs whatever the path: clocks of receipt, random marks.
TABLES = {
    "visits": "visit_id, institution_id, technician_id, data, field_hlcs, has_rectification, hlc",
    "steps": "institution_id, step, status, reason, note, hlc, updated_by",
    "records": "op_id, kind, institution_id, technician_id, data, hlc",
    "conflicts": "id, institution_id, register_name, kept_hlc, kept_value, lost_hlc, lost_value, "
    "op_id, technician_id, resolved",
    "cases": "case_id, institution_id, division_code, data, hlc",
    "institutions": "*",
    "ops": "op_id, technician_id, client_id, kind, institution_id, hlc, result",
    "changes": "seq, kind, entity_id, institution_id, division_code, audience, body",
}


def dump(db: Path | str) -> dict[str, list[tuple[Any, ...]]]:
    engine = create_engine(f"sqlite:///{db}")
    with engine.connect() as conn:
        found = {
            table: [tuple(r) for r in conn.execute(text(f"SELECT {cols} FROM {table} ORDER BY 1"))]
            for table, cols in TABLES.items()
        }
    engine.dispose()
    return found


def post(url: str, built: SmallOffice, who: str, ops: list[dict[str, Any]]) -> list[Any]:
    answer = httpx.post(
        url + "/api/v1/sync/push",
        headers=built.headers(who),
        json={"client_id": f"laptop-{who}", "ops": ops},
        timeout=30,
    )
    assert answer.status_code == 200, answer.text
    return list(answer.json()["results"])


def mixed_batch(built: SmallOffice, sup: domain.HLC) -> tuple[list[Any], list[Any]]:
    """A supervisor's earlier edit, then one laptop's batch holding every kind of answer."""
    w0, w1, w2 = built.wuling
    clock = domain.HLC("laptop-a")
    stale = clock.now()  # stamped before the supervisor's edit below: it loses, concurrently
    first = [make_op("step.set", w2, {"step": "registered", "status": "done"}, sup)]
    visit = make_op("visit.create", w0, visit_data("第一次走访"), clock)
    notice = visit_data(
        "开具整改通知书",
        rectification={"items": ["公示收费标准", "退费流程上墙"], "deadline": "2026-12-20"},
    )
    step = {"step": "registered", "status": "done", "reason": None, "note": None}
    ops = [
        visit,
        make_op("poster.printed", w1, {"size": "a4", "payload_sha256": "ab" * 32}, clock),
        make_op("step.set", w0, step, clock),
        make_op("step.set", w0, {"step": "flying", "status": "done"}, clock),
        make_op("step.set", w1, {"step": "parent_app", "status": "done"}, clock),
        make_op("contact.set", w0, {"contact_phone": "13907361234"}, clock),
        make_op("step.set", w0, step | {"step": "qualification"}, clock),
        {**make_op("contact.set", w0, {"contact_phone": "13907369999"}, clock), "hlc": stale},
        make_op("visit.amend", w0, {"visit_id": visit["data"]["visit_id"], "notes": "补记"}, clock),
        make_op("visit.create", w2, notice, clock),
        make_op(
            "visit.create",
            w1,
            visit_data("重复编号") | {"visit_id": visit["data"]["visit_id"]},
            clock,
        ),
        make_op("qr.checked", w1, {"result": "match", "found": "x", "content_sha256": "no"}, clock),
        make_op("visit.create", built.changsha[0], visit_data("不是我的"), clock),
        make_op("step.set", "JG4307029999", step, clock),
        {**make_op("step.set", w2, step | {"note": "晚了"}, clock), "hlc": stale},
        visit,
        make_op(
            "qr.checked",
            w1,
            {
                "visit_id": None,
                "result": "match",
                "found": "supervised",
                "content_sha256": "cd" * 32,
            },
            clock,
        ),
        make_op("step.set", w0, step | {"status": "todo"}, clock),
        make_op("visit.create", w1, visit_data("最后一次"), clock),
    ]
    return first, ops


def run(db: Path, built: SmallOffice, first: list[Any], ops: list[Any]) -> list[Any]:
    with LiveServer(db) as server:
        post(server.url, built, "city_supervisor", first)
        results = post(server.url, built, "tech_a", ops)
        assert post(server.url, built, "tech_a", ops[:3]) == [
            r | {"status": "duplicate"} for r in results[:3]
        ]
    return results


def test_the_batch_path_answers_and_writes_what_one_op_at_a_time_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    built = small_office(tmp_path)
    one_by_one = tmp_path / "one_by_one.sqlite"
    shutil.copy(built.db, one_by_one)
    first, ops = mixed_batch(built, domain.HLC("supervisor"))

    batched = run(Path(built.db), built, first, ops)
    with monkeypatch.context() as m:
        # every op in its own savepoint, every read and write at once: as before the batch path
        m.setattr(push, "BUFFERED", frozenset())
        m.setattr(Batch, "active", lambda self: contextlib.nullcontext(self))
        reference = run(one_by_one, built, first, ops)

    assert batched == reference
    statuses = [
        (r["status"], r.get("reason"), r.get("superseded"), r.get("conflict")) for r in batched
    ]
    assert statuses == [
        ("applied", None, None, None),
        ("applied", None, None, None),
        ("applied", None, None, None),
        ("rejected", "invalid", None, None),
        ("rejected", "prerequisite", None, None),
        ("applied", None, None, None),
        ("applied", None, None, None),
        ("applied", None, True, None),
        ("applied", None, None, None),
        ("applied", None, None, None),
        ("rejected", "invalid", None, None),
        ("rejected", "invalid", None, None),
        ("rejected", "not_assigned", None, None),
        ("rejected", "unknown_institution", None, None),
        ("applied", None, True, True),
        ("duplicate", None, None, None),
        ("applied", None, None, None),
        ("rejected", "prerequisite", None, None),
        ("applied", None, None, None),
    ]
    ours, theirs = dump(built.db), dump(one_by_one)
    for table in TABLES:
        assert ours[table] == theirs[table], table
    assert len(ours["cases"]) == 1 and len(ours["conflicts"]) == 1
    assert len(ours["visits"]) == 3 and len(ours["records"]) == 2
