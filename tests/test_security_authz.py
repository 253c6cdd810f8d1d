"""Authorization beyond the matrix: guessed and replayed ids, zones, token comparison, failed logins."""

from __future__ import annotations

import hmac
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, text

from fieldkit import domain
from fieldkit.server import auth
from fieldkit.server.auth import FailedLogins, token_hash
from fieldkit.server.store import Store
from tests.live_server import LiveServer, SmallOffice, admin, make_op, small_office, visit_data


@pytest.fixture(scope="module")
def office(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[SmallOffice, str]]:
    """The small office served under uvicorn for the whole module."""
    built = small_office(tmp_path_factory.mktemp("authz"))
    with LiveServer(built.db) as server:
        yield built, server.url


def push(
    office: tuple[SmallOffice, str], who: str, ops: list[dict[str, Any]], client_id: str = "laptop"
) -> list[dict[str, Any]]:
    built, url = office
    answer = httpx.post(
        url + "/api/v1/sync/push",
        headers=built.headers(who),
        json={"client_id": client_id, "ops": ops},
    )
    assert answer.status_code == 200, answer.text
    return answer.json()["results"]


op = make_op


def detail(office: tuple[SmallOffice, str], institution: str) -> dict[str, Any]:
    built, url = office
    return httpx.get(
        f"{url}/api/v1/institutions/{institution}", headers=built.headers("city_supervisor")
    ).json()


def test_amending_another_technicians_visit_is_refused(office: tuple[SmallOffice, str]) -> None:
    theirs = op("visit.create", "JG4307030001", visit_data("王芳的走访"), domain.HLC("b-laptop"))
    assert push(office, "tech_b", [theirs])[0]["status"] == "applied"
    visit_id = theirs["data"]["visit_id"]
    clock = domain.HLC("a-laptop")
    # by its own institution id, and smuggled under one of tech_a's institutions
    direct = op("visit.amend", "JG4307030001", {"visit_id": visit_id, "notes": "改掉"}, clock)
    smuggled = op("visit.amend", "JG4307020001", {"visit_id": visit_id, "notes": "改掉"}, clock)
    results = push(office, "tech_a", [direct, smuggled])
    assert [r["reason"] for r in results] == ["not_assigned", "unknown_visit"]
    assert "王芳的走访" not in str(results)
    [visit] = detail(office, "JG4307030001")["visits"]
    assert visit["notes"] == "王芳的走访"


def test_creating_a_visit_under_an_existing_visit_id_leaks_nothing(
    office: tuple[SmallOffice, str],
) -> None:
    theirs = op("visit.create", "JG4307030002", visit_data("机密备注"), domain.HLC("b-laptop"))
    assert push(office, "tech_b", [theirs])[0]["status"] == "applied"
    mine = op(
        "visit.create",
        "JG4307020002",
        visit_data("我的") | {"visit_id": theirs["data"]["visit_id"]},
        domain.HLC("a-laptop"),
    )
    [result] = push(office, "tech_a", [mine])
    assert result["status"] == "rejected" and "机密备注" not in str(result)
    assert [v["notes"] for v in detail(office, "JG4307030002")["visits"]] == ["机密备注"]


def test_replaying_another_technicians_op_id_gets_neither_their_answer_nor_their_data(
    office: tuple[SmallOffice, str],
) -> None:
    theirs = op(
        "step.set",
        "JG4307030001",
        {"step": "registered", "status": "done", "reason": None, "note": "b 的备注"},
        domain.HLC("b-laptop"),
    )
    first = push(office, "tech_b", [theirs])[0]
    assert first["status"] == "applied"
    mine = op(
        "step.set",
        "JG4307020003",
        {"step": "registered", "status": "done", "reason": None, "note": None},
        domain.HLC("a-laptop"),
        op_id=theirs["op_id"],
    )
    for replay in (mine, theirs):  # different content, and the very same op sent by tech_a
        [result] = push(office, "tech_a", [replay])
        assert result["status"] == "rejected" and result["reason"] == "invalid", result
        assert "b 的备注" not in str(result) and "duplicate" not in result
    # tech_b's own re-send is still a duplicate with the first answer
    assert push(office, "tech_b", [theirs])[0] == first | {"status": "duplicate"}


def test_reusing_ones_own_op_id_for_a_different_change_is_refused(
    office: tuple[SmallOffice, str],
) -> None:
    clock = domain.HLC("a-laptop")
    first = op(
        "step.set",
        "JG4307020001",
        {"step": "parent_app", "status": "in_progress", "reason": None, "note": None},
        clock,
    )
    assert push(office, "tech_a", [first])[0]["status"] == "applied"
    other = op(
        "step.set",
        "JG4307020001",
        {"step": "parent_app", "status": "todo", "reason": None, "note": None},
        clock,
        op_id=first["op_id"],
    )
    assert push(office, "tech_a", [other])[0]["status"] == "rejected"
    steps = {s["step"]: s for s in detail(office, "JG4307020001")["steps"]}
    assert steps["parent_app"]["status"] == "in_progress"


@pytest.mark.parametrize(
    "path", ["/api/v1/institutions/JG4307030001", "/api/v1/institutions/JG4301020001"]
)
def test_guessed_institution_ids_are_refused(office: tuple[SmallOffice, str], path: str) -> None:
    built, url = office
    answer = httpx.get(url + path, headers=built.headers("tech_a"))
    assert answer.status_code == 403 and answer.json()["error"] == "forbidden"
    assert "steps" not in answer.text and "name" not in answer.json()


def test_a_supervisor_is_confined_to_their_zone(office: tuple[SmallOffice, str]) -> None:
    built, url = office
    outsider = built.headers("other_supervisor")  # 长沙 430100, the office data is in 常德
    assert httpx.get(url + "/api/v1/institutions/JG4307020001", headers=outsider).status_code == 403
    assert (
        httpx.get(
            url + "/api/v1/stats", params={"division": "430700"}, headers=outsider
        ).status_code
        == 403
    )
    assert (
        httpx.get(
            url + "/api/v1/stats", params={"division": "430000"}, headers=outsider
        ).status_code
        == 403
    )
    pulled = httpx.get(url + "/api/v1/sync/pull", params={"limit": 10000}, headers=outsider).json()[
        "changes"
    ]
    assert {c["data"].get("institution_id", c["data"].get("id")) for c in pulled} == {
        "JG4301020001"
    }
    step = op(
        "step.set",
        "JG4307020001",
        {"step": "registered", "status": "done", "reason": None, "note": None},
        domain.HLC("cs"),
    )
    assert push(office, "other_supervisor", [step])[0]["reason"] == "not_assigned"
    conflicts = httpx.get(url + "/api/v1/conflicts", headers=outsider).json()
    assert all(not c["institution_id"].startswith("JG4307") for c in conflicts)


def test_tokens_are_compared_as_hashes_in_constant_time(
    office: tuple[SmallOffice, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    built, _ = office
    compared: list[tuple[str, str]] = []
    real = hmac.compare_digest

    def spy(a: str, b: str) -> bool:
        compared.append((a, b))
        return real(a, b)

    monkeypatch.setattr(auth.hmac, "compare_digest", spy)
    store = Store(built.db)
    try:
        with store.engine.connect() as conn:
            token = built.tokens["tech_a"]
            assert auth.find_caller(conn, token) is not None
            assert auth.find_caller(conn, token[:-1] + ("A" if token[-1] != "A" else "B")) is None
    finally:
        store.close()
    # the database looks up the hash of what was sent (a guess reveals nothing about a real
    # token's characters); the found hash is compared again in constant time
    assert compared == [(token_hash(token), token_hash(token))]
    assert all(token not in pair for pair in compared)
    engine = create_engine(f"sqlite:///{built.db}")
    with engine.connect() as conn:
        stored = conn.execute(text("SELECT token_hash FROM technicians")).scalars().all()
    engine.dispose()
    assert token_hash(token) in stored and token not in stored


def test_repeated_bad_tokens_from_one_address_are_slowed_down(tmp_path: Path) -> None:
    built = small_office(tmp_path)
    with LiveServer(built.db, failed_logins=FailedLogins(limit=5, window=60)) as server:
        bad = {"Authorization": "Bearer fk_guess"}
        answers = [httpx.get(server.url + "/api/v1/me", headers=bad) for _ in range(7)]
        assert [a.status_code for a in answers] == [401] * 5 + [429] * 2
        last = answers[-1]
        assert last.json()["error"] == "too_many_attempts"
        assert 1 <= int(last.headers["retry-after"]) <= 61
        assert "秒后再试" in last.json()["message"] and "try again in" in last.json()["message"]
        # the address is slowed, not the technicians behind it (one proxy or NAT): a valid
        # token still gets in (tokens are 256-bit random: telling one valid is no help to guess)
        assert (
            httpx.get(server.url + "/api/v1/me", headers=built.headers("tech_a")).status_code == 200
        )
        # no token at all is not a guess, and the health check stays open
        assert httpx.get(server.url + "/api/v1/me").status_code == 401
        assert httpx.get(server.url + "/healthz").status_code == 200


def test_failed_logins_expire_after_the_window() -> None:
    now = [1000.0]
    guard = FailedLogins(limit=3, window=60, clock=lambda: now[0])
    for _ in range(3):
        guard.failed("10.0.0.9")
    assert guard.retry_after("10.0.0.9") == 61 and guard.retry_after("10.0.0.8") == 0
    now[0] += 30
    assert guard.retry_after("10.0.0.9") == 31
    now[0] += 31
    assert guard.retry_after("10.0.0.9") == 0


def test_failed_login_memory_is_bounded() -> None:
    guard = FailedLogins(limit=3, window=60, max_addresses=100)
    for i in range(1000):
        guard.failed(f"10.0.{i // 256}.{i % 256}")
    assert len(guard._seen) == 100


def test_a_visit_recorded_by_someone_else_stays_theirs_after_reassignment(tmp_path: Path) -> None:
    built = small_office(tmp_path)
    with LiveServer(built.db) as server:
        office = (built, server.url)
        theirs = op("visit.create", "JG4307020001", visit_data("李明记录"), domain.HLC("a"))
        assert push(office, "tech_a", [theirs])[0]["status"] == "applied"
        assert (
            admin(built.db, "assign", "--technician", "T0002", "--institution", "JG4307020001")[0]
            == 0
        )
        visit_id = theirs["data"]["visit_id"]
        amend = op(
            "visit.amend", "JG4307020001", {"visit_id": visit_id, "notes": "改写"}, domain.HLC("b")
        )
        [result] = push(office, "tech_b", [amend])
        assert (result["status"], result["reason"]) == ("rejected", "not_assigned")
        by_supervisor = op(
            "visit.amend",
            "JG4307020001",
            {"visit_id": visit_id, "notes": "主管补充"},
            domain.HLC("s"),
        )
        assert push(office, "city_supervisor", [by_supervisor])[0]["status"] == "applied"
        [visit] = detail(office, "JG4307020001")["visits"]
        assert (visit["notes"], visit["technician_id"]) == ("主管补充", "T0001")
