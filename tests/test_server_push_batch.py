"""A pushed batch is applied as a batch: one transaction, one allocation of sequence numbers,
idempotency by the database, and a bad op still refused alone."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, text

from fieldkit import domain
from tests.live_server import LiveServer, SmallOffice, make_op, small_office, visit_data


@pytest.fixture
def office(tmp_path: Path) -> Iterator[tuple[SmallOffice, str]]:
    built = small_office(tmp_path)
    with LiveServer(built.db) as server:
        yield built, server.url


def post(office: tuple[SmallOffice, str], ops: list[dict[str, Any]], **more: Any) -> httpx.Response:
    built, url = office
    return httpx.post(
        url + "/api/v1/sync/push",
        headers=built.headers("tech_a"),
        json={"client_id": "laptop-a", "ops": ops} | more,
        timeout=30,
    )


def rows(db: Path | str, sql: str) -> list[tuple[Any, ...]]:
    engine = create_engine(f"sqlite:///{db}")
    with engine.connect() as conn:
        found = [tuple(r) for r in conn.execute(text(sql))]
    engine.dispose()
    return found


def a_day_of_work(built: SmallOffice, clock: domain.HLC) -> list[dict[str, Any]]:
    """200 ops of one laptop: visits, posters and code checks on its three institutions."""
    ops = []
    for n in range(200):
        inst = built.wuling[n % 3]
        if n % 4 == 0:
            ops.append(make_op("visit.create", inst, visit_data(f"第{n}次走访"), clock))
        elif n % 4 == 1:
            data = {"size": "a4", "payload_sha256": "ab" * 32, "copies": 1 + n % 3}
            ops.append(make_op("poster.printed", inst, data, clock))
        else:
            data = {
                "visit_id": None,
                "result": "match",
                "found": "supervised",
                "content_sha256": "cd" * 32,
            }
            ops.append(make_op("qr.checked", inst, data, clock))
    return ops


def test_200_ops_with_3_bad_ones_apply_197_in_one_write_and_refuse_3_with_reasons(
    office: tuple[SmallOffice, str],
) -> None:
    built, _ = office
    clock = domain.HLC("laptop-a")
    ops = a_day_of_work(built, clock)
    ops[7] = make_op(
        "step.set", built.wuling[0], {"step": "bank_verified", "status": "done"}, clock
    )
    ops[99] = make_op("visit.create", built.changsha[0], visit_data("不是我的"), clock)
    ops[150] = make_op("step.set", built.wuling[1], {"step": "flying", "status": "done"}, clock)
    marks_before = rows(built.db, "SELECT count(*) FROM change_marks")[0][0]
    head = rows(built.db, "SELECT max(seq) FROM changes")[0][0]
    answer = post(office, ops)
    assert answer.status_code == 200, answer.text
    results = answer.json()["results"]
    assert [r["op_id"] for r in results] == [o["op_id"] for o in ops]
    refused = {i: r for i, r in enumerate(results) if r["status"] == "rejected"}
    assert sorted(refused) == [7, 99, 150]
    assert refused[7]["reason"] == "server_owned" and "银行核验" in refused[7]["message"]
    assert refused[99]["reason"] == "not_assigned" and "not assigned" in refused[99]["message"]
    assert refused[150]["reason"] == "invalid" and "flying" in refused[150]["message"]
    assert sum(r["status"] == "applied" for r in results) == 197
    assert rows(built.db, "SELECT count(*) FROM ops")[0][0] == 200
    # one write: one mark, and its changes (50 visits, the refused step's office value)
    # numbered one after another
    assert rows(built.db, "SELECT count(*) FROM change_marks")[0][0] == marks_before + 1
    seqs = [
        r[0] for r in rows(built.db, f"SELECT seq FROM changes WHERE seq > {head} ORDER BY seq")
    ]
    assert len(seqs) == 51 and seqs == list(range(head + 1, head + 52))
    assert answer.json()["mark"].startswith(f"{seqs[-1]}.")


def test_the_same_batch_sent_again_answers_duplicate_and_the_same_refusals(
    office: tuple[SmallOffice, str],
) -> None:
    built, _ = office
    clock = domain.HLC("laptop-a")
    ops = a_day_of_work(built, clock)[:50]
    ops[3] = make_op("visit.create", built.changsha[0], visit_data("不是我的"), clock)
    first = post(office, ops).json()["results"]
    changes = rows(built.db, "SELECT count(*) FROM changes")[0][0]
    again = post(office, ops).json()["results"]
    assert [r["status"] for r in again] == ["duplicate"] * 3 + ["rejected"] + ["duplicate"] * 46
    assert again[3]["duplicate"] is True and again[3]["reason"] == first[3]["reason"]
    assert rows(built.db, "SELECT count(*) FROM changes")[0][0] == changes
    assert rows(built.db, "SELECT count(*) FROM visits")[0][0] == 13


def test_one_op_twice_in_a_batch_and_an_op_id_reused_for_another_change(
    office: tuple[SmallOffice, str],
) -> None:
    built, _ = office
    clock = domain.HLC("laptop-a")
    visit = make_op("visit.create", built.wuling[0], visit_data("一次"), clock)
    other = make_op("visit.create", built.wuling[1], visit_data("另一次"), clock, visit["op_id"])
    results = post(office, [visit, visit, other]).json()["results"]
    assert [r["status"] for r in results] == ["applied", "duplicate", "rejected"]
    assert "already used" in results[2]["message"]
    assert rows(built.db, "SELECT count(*) FROM visits")[0][0] == 1


def test_a_mark_from_another_history_refuses_the_whole_batch_with_410(
    office: tuple[SmallOffice, str],
) -> None:
    built, _ = office
    clock = domain.HLC("laptop-a")
    ops = a_day_of_work(built, clock)[:5]
    answer = post(office, ops, mark="3.00000000deadbeef")
    assert answer.status_code == 410 and answer.json()["error"] == "diverged"
    assert "pulls again" in answer.json()["message"]
    assert rows(built.db, "SELECT count(*) FROM ops")[0][0] == 0
    good = post(office, ops).json()["mark"]
    assert post(office, ops, mark=good).status_code == 200
    far = f"{int(good.split('.')[0]) + 100}.{good.split('.')[1]}"
    assert post(office, ops, mark=far).status_code == 410  # ahead of everything it holds
