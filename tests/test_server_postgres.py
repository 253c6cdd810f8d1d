"""PostgreSQL is only a different URL: the office runs its flows on a throwaway local cluster.

Skipped where PostgreSQL's server binaries or the psycopg driver are not installed, except under
CI, where that fails (tests/pg_cluster.py).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from fieldkit import domain
from fieldkit.payment import signing
from tests.live_server import (
    LiveServer,
    SmallOffice,
    admin,
    make_op,
    make_uscc,
    small_office,
    token_from,
    visit_data,
    write_csv,
)
from tests.pg_cluster import cluster


@pytest.fixture(scope="module")
def pg_url() -> Iterator[str]:
    """A PostgreSQL cluster on 127.0.0.1 with a free port, for this module only."""
    with cluster() as url:
        yield url


@pytest.fixture(scope="module")
def office(
    pg_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[SmallOffice, str]]:
    """The small office built on PostgreSQL, served under uvicorn."""
    tmp = tmp_path_factory.mktemp("pg-office")
    built = small_office(tmp, pg_url)
    bank = ["uscc,result,reason,account_no", f"{make_uscc(1, '430702')},passed,,43050338847530"]
    code, out = admin(pg_url, "import-bank-results", str(write_csv(tmp / "bank.csv", bank)))
    assert code == 0, out
    with LiveServer(pg_url) as server:
        yield built, server.url


def call(
    office: tuple[SmallOffice, str], method: str, path: str, who: str, **kwargs: Any
) -> httpx.Response:
    built, url = office
    return httpx.request(method, url + path, headers=built.headers(who), **kwargs)


def test_pull_scope_and_signed_codes_on_postgres(office: tuple[SmallOffice, str]) -> None:
    page = call(office, "GET", "/api/v1/sync/pull", "tech_a").json()
    ids = {c["id"] for c in page["changes"] if c["kind"] == "institution"}
    assert ids == {"JG4307020001", "JG4307020002", "JG4307020003"}
    first = next(c["data"] for c in page["changes"] if c["id"] == "JG4307020001")
    key = httpx.get(office[1] + "/api/v1/office").json()["public_key"]
    assert signing.verify(key, first["payment"]["payload"], first["payment"]["signature"])
    ahead = call(
        office, "GET", "/api/v1/sync/pull", "tech_a", params={"cursor": page["cursor"] + 1}
    )
    assert ahead.status_code == 410


def test_push_idempotence_and_conflicts_on_postgres(office: tuple[SmallOffice, str]) -> None:
    clock = domain.HLC("pg-laptop", wall=lambda: 1_700_000_000_000)
    late = domain.HLC("pg-boss", wall=lambda: 1_600_000_000_000)
    op = {
        "op_id": str(uuid.uuid4()),
        "hlc": clock.now(),
        "kind": "step.set",
        "institution_id": "JG4307020002",
        "data": {"step": "registered", "status": "done", "reason": None, "note": None},
    }
    answers = [
        call(
            office,
            "POST",
            "/api/v1/sync/push",
            "tech_a",
            json={"client_id": "pg-laptop", "ops": [op]},
        ).json()["results"][0]
        for _ in range(3)
    ]
    assert [a["status"] for a in answers] == ["applied", "duplicate", "duplicate"]
    older = dict(
        op,
        op_id=str(uuid.uuid4()),
        hlc=late.now(),
        data={"step": "registered", "status": "in_progress", "reason": None, "note": None},
    )
    result = call(
        office,
        "POST",
        "/api/v1/sync/push",
        "city_supervisor",
        json={"client_id": "pg-boss", "ops": [older]},
    ).json()["results"][0]
    assert result["superseded"] and result["conflict"]
    conflicts = call(office, "GET", "/api/v1/conflicts", "city_supervisor").json()
    assert [c["register_name"] for c in conflicts] == ["step:registered"]
    bad = dict(op, op_id=str(uuid.uuid4()), kind="x" * 40)
    rejected = call(
        office, "POST", "/api/v1/sync/push", "tech_a", json={"client_id": "pg-laptop", "ops": [bad]}
    ).json()["results"][0]
    assert rejected["reason"] == "unknown_kind"


def test_stats_and_reassignment_on_postgres(
    office: tuple[SmallOffice, str], pg_url: str, tmp_path: Path
) -> None:
    # the field's mark this test counts, made here (the module's office is shared: the push test
    # marks the same step, so in either order one institution is registered in the field)
    mark = {
        "op_id": str(uuid.uuid4()),
        "hlc": domain.HLC("pg-stats").now(),  # now: later than the push test's marks
        "kind": "step.set",
        "institution_id": "JG4307020002",
        "data": {"step": "registered", "status": "done", "reason": None, "note": None},
    }
    pushed = call(
        office, "POST", "/api/v1/sync/push", "tech_a", json={"client_id": "pg-stats", "ops": [mark]}
    )
    assert pushed.json()["results"][0]["status"] == "applied", pushed.text
    stats = call(office, "GET", "/api/v1/stats", "city_supervisor").json()
    # the field's marks and the bank's answer, beside figures the platform has not reported yet
    assert (stats["institutions"], stats["field"]["bank_verified"]) == (5, 1)
    assert stats["field"]["by_step"]["registered"] == 1 and stats["bank_verified"] == 0
    platform = [
        "uscc,registered_on,bank_verified_on,orders,order_amount",
        f'{make_uscc(1, "430702")},2025-03-02,2025-04-01,2,"1,234.50"',
    ]
    code, out = admin(pg_url, "import-platform", str(write_csv(tmp_path / "p.csv", platform)))
    assert code == 0, out
    stats = call(office, "GET", "/api/v1/stats", "city_supervisor").json()
    assert (stats["bank_verified"], stats["by_step"]["registered"]) == (1, 1)
    assert (stats["orders"], stats["order_amount_fen"]) == (2, 123450)
    # A later export moves a date and the trade: batched updates through the driver on PostgreSQL
    platform[1] = f'{make_uscc(1, "430702")},2025-03-05,,3,"1,300.00"'
    code, out = admin(pg_url, "import-platform", str(write_csv(tmp_path / "p2.csv", platform)))
    assert code == 0 and "更新 1" in out, out
    stats = call(office, "GET", "/api/v1/stats", "city_supervisor").json()
    assert (stats["bank_verified"], stats["by_step"]["registered"]) == (0, 1)
    assert (stats["orders"], stats["order_amount_fen"]) == (3, 130000)
    cursor = call(office, "GET", "/api/v1/sync/pull", "tech_a", params={"limit": 1000}).json()[
        "cursor"
    ]
    assert admin(pg_url, "assign", "--technician", "T0002", "--institution", "JG4307020003")[0] == 0
    after = call(office, "GET", "/api/v1/sync/pull", "tech_a", params={"cursor": cursor}).json()
    assert [(c["kind"], c["id"]) for c in after["changes"]] == [("unassigned", "JG4307020003")]


def test_the_seeded_province_figures_on_postgres(pg_url: str) -> None:
    import psycopg

    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("CREATE DATABASE province")
    url = pg_url.rsplit("/", 1)[0] + "/province"
    assert admin(url, "init")[0] == 0
    code, out = admin(url, "seed-demo")
    assert code == 0, out
    token = token_from(
        admin(url, "add-technician", "省主管", "--zone", "430000", "--supervisor")[1]
    )
    with LiveServer(url) as server:
        stats = httpx.get(
            server.url + "/api/v1/stats", timeout=60, headers={"Authorization": f"Bearer {token}"}
        ).json()
    assert {
        k: stats[k]
        for k in (
            "institutions",
            "bank_verified",
            "bank_verified_rate",
            "full_process",
            "orders",
            "order_amount_fen",
        )
    } == {
        "institutions": 7750,
        "bank_verified": 6760,
        "bank_verified_rate": 0.8723,
        "full_process": 4179,
        "orders": 6885,
        "order_amount_fen": 688_670_000,
    }


def test_nul_characters_get_clear_answers_on_postgres(office: tuple[SmallOffice, str]) -> None:
    """PostgreSQL refuses NUL in text: such input must be refused before it reaches the store."""
    assert call(office, "GET", "/api/v1/institutions/JG43%0007020001", "tech_a").status_code == 422
    ops = [
        {
            "op_id": str(uuid.uuid4()),
            "hlc": hlc,
            "kind": kind,
            "institution_id": "JG4307020001",
            "data": {"step": "registered", "status": "done"},
        }
        for hlc, kind in (
            ("001700000000000-0000-pg\x00laptop", "step.set"),
            ("\x00", "step.set"),
            ("\x00", "nonsense"),
        )
    ]
    answer = call(
        office, "POST", "/api/v1/sync/push", "tech_a", json={"client_id": "pg-laptop", "ops": ops}
    )
    assert answer.status_code == 200, answer.text
    assert [r["status"] for r in answer.json()["results"]] == ["rejected"] * 3
    huge = call(office, "POST", f"/api/v1/conflicts/{2**62}/resolve", "city_supervisor")
    assert huge.status_code == 422  # past PostgreSQL's INTEGER: refused, not a crash
    assert (
        call(office, "GET", "/api/v1/stats?division=４３０７０２", "city_supervisor").status_code
        == 422
    )


# --- issue 16 ---
def test_a_case_escalated_and_listed_in_the_ledger_on_postgres(
    office: tuple[SmallOffice, str],
) -> None:
    clock = domain.HLC("pg-cases")
    notice = visit_data(
        outcome="partial",
        started_at="2026-11-20T09:00:00",
        ended_at="2026-11-20T10:00:00",
        rectification={"items": ["张贴监管收款码", "开通退费流程"], "deadline": "2026-11-25"},
    )
    case_id = notice["visit_id"]
    ops = [make_op("visit.create", "JG4307020002", notice, clock)]
    answer = call(
        office, "POST", "/api/v1/sync/push", "tech_a", json={"client_id": "a", "ops": ops}
    )
    assert answer.json()["results"][0]["status"] == "applied"
    steps = [
        {
            "case_id": case_id,
            "step": "revocation_recommended",
            "on": "2026-11-26",
            "note": "拒不整改",
        },
        {
            "case_id": case_id,
            "step": "interview_scheduled",
            "on": "2026-11-26",
            "note": "",
            "place": "区教育局",
        },
    ]
    ops = [make_op("case.escalate", "JG4307020002", data, clock) for data in steps]
    results = call(
        office, "POST", "/api/v1/sync/push", "city_supervisor", json={"client_id": "s", "ops": ops}
    ).json()["results"]
    assert [r["status"] for r in results] == ["rejected", "applied"]
    assert "须先进行约谈" in results[0]["message"]
    ledger = call(office, "GET", "/api/v1/cases", "city_supervisor", params={"division": "430702"})
    (case,) = [c for c in ledger.json()["cases"] if c["case_id"] == case_id]
    assert case["state"] == "escalated" and [e["step"] for e in case["escalation"]] == [
        "interview_scheduled"
    ]
    made = call(
        office,
        "POST",
        "/api/v1/campaigns",
        "city_supervisor",
        json={"division": "430702", "due": "2099-01-01", "sample": 100},
    )
    assert made.status_code == 201 and len(made.json()["institutions"]) == 3
