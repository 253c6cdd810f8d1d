"""Who may see and change what: tokens, technicians, supervisors, and the JSON errors they get."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, text

from fieldkit import domain
from tests.live_server import LiveServer, SmallOffice, small_office


@pytest.fixture(scope="module")
def office(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[SmallOffice, str]]:
    """The small office served under uvicorn for the whole module."""
    built = small_office(tmp_path_factory.mktemp("auth"))
    with LiveServer(built.db) as server:
        yield built, server.url


def get(
    office: tuple[SmallOffice, str], path: str, who: str | None = None, **params: str
) -> httpx.Response:
    built, url = office
    headers = built.headers(who) if who else {}
    return httpx.get(url + path, headers=headers, params=params)


PROTECTED = [
    "/api/v1/me",
    "/api/v1/sync/pull",
    "/api/v1/stats",
    "/api/v1/conflicts",
    "/api/v1/institutions/JG4307020001",
]


@pytest.mark.parametrize("path", PROTECTED)
def test_no_token_is_401_with_a_json_error(office: tuple[SmallOffice, str], path: str) -> None:
    answer = get(office, path)
    assert answer.status_code == 401
    assert answer.json()["error"] == "unauthorized"
    assert "登录" in answer.json()["message"] and "log in" in answer.json()["message"]
    assert answer.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize("path", PROTECTED)
def test_a_wrong_token_is_401(office: tuple[SmallOffice, str], path: str) -> None:
    _, url = office
    for header in ("Bearer fk_not-a-real-token", "Basic dXNlcjpwYXNz", "Bearer"):
        answer = httpx.get(url + path, headers={"Authorization": header})
        assert answer.status_code == 401, header
        assert answer.json()["error"] == "unauthorized"


def test_push_without_token_is_401(office: tuple[SmallOffice, str]) -> None:
    _, url = office
    answer = httpx.post(url + "/api/v1/sync/push", json={"client_id": "x", "ops": []})
    assert answer.status_code == 401


def test_health_and_office_key_need_no_token(office: tuple[SmallOffice, str]) -> None:
    assert get(office, "/healthz").json() == {"ok": True}
    answer = get(office, "/api/v1/office").json()
    assert answer["name"] == "湖南省校外培训监管办公室"
    assert len(answer["public_key"]) == 44 and answer["epoch"]


def test_me_names_the_technician_and_the_supervisor(office: tuple[SmallOffice, str]) -> None:
    assert get(office, "/api/v1/me", "tech_a").json() == {
        "id": "T0001",
        "name": "李明",
        "role": "technician",
        "zone": "430702",
        "zone_name": "常德市武陵区",
    }
    boss = get(office, "/api/v1/me", "city_supervisor").json()
    assert (boss["id"], boss["role"], boss["zone"]) == ("T0003", "supervisor", "430700")


@pytest.mark.parametrize(
    ("who", "institution", "status"),
    [
        ("tech_a", "JG4307020001", 200),  # assigned to them
        ("tech_a", "JG4307030001", 403),  # assigned to tech_b
        ("tech_a", "JG4301020001", 403),  # another city, nobody's
        ("tech_b", "JG4307030002", 200),
        ("tech_b", "JG4307020002", 403),  # inside tech_b's zone but not assigned to them
        ("city_supervisor", "JG4307020003", 200),
        ("city_supervisor", "JG4307030001", 200),
        ("city_supervisor", "JG4301020001", 403),
        ("other_supervisor", "JG4301020001", 200),
        ("other_supervisor", "JG4307020001", 403),
    ],
)
def test_institution_access_matrix(
    office: tuple[SmallOffice, str], who: str, institution: str, status: int
) -> None:
    answer = get(office, f"/api/v1/institutions/{institution}", who)
    assert answer.status_code == status
    if status == 403:
        assert answer.json()["error"] == "forbidden"
    else:
        assert answer.json()["institution"]["id"] == institution
        assert [s["step"] for s in answer.json()["steps"]] == list(domain.STEP_KEYS)


def _pulled_institutions(office: tuple[SmallOffice, str], who: str) -> set[str]:
    changes = get(office, "/api/v1/sync/pull", who, limit="1000").json()["changes"]
    return {c["data"]["institution_id"] if c["kind"] != "institution" else c["id"] for c in changes}


def test_pull_brings_only_the_callers_scope(office: tuple[SmallOffice, str]) -> None:
    built, _ = office
    assert _pulled_institutions(office, "tech_a") == set(built.wuling)
    assert _pulled_institutions(office, "tech_b") == set(built.dingcheng)
    assert _pulled_institutions(office, "city_supervisor") == set(built.wuling + built.dingcheng)
    assert _pulled_institutions(office, "other_supervisor") == set(built.changsha)


def test_push_outside_scope_is_rejected_but_the_rest_applies(
    office: tuple[SmallOffice, str],
) -> None:
    built, url = office
    clock = domain.HLC("laptop-a")
    ops = [
        {
            "op_id": str(uuid.uuid4()),
            "hlc": clock.now(),
            "kind": "step.set",
            "institution_id": inst,
            "data": {"step": "parent_app", "status": "in_progress", "reason": None, "note": None},
        }
        for inst in ("JG4307030001", "JG4307020001")
    ]
    answer = httpx.post(
        url + "/api/v1/sync/push",
        headers=built.headers("tech_a"),
        json={"client_id": "laptop-a", "ops": ops},
    )
    assert answer.status_code == 200
    first, second = answer.json()["results"]
    assert (first["status"], first["reason"]) == ("rejected", "not_assigned")
    assert "未分配" in first["message"] and "not assigned" in first["message"]
    assert second["status"] == "applied"
    steps = get(office, "/api/v1/institutions/JG4307030001", "tech_b").json()["steps"]
    assert next(s for s in steps if s["step"] == "parent_app")["status"] == "todo"


@pytest.mark.parametrize(
    ("who", "division", "status"),
    [
        ("tech_a", None, 200),
        ("tech_a", "430702", 403),
        ("city_supervisor", None, 200),
        ("city_supervisor", "430703", 200),
        ("city_supervisor", "430102", 403),
        ("city_supervisor", "430000", 403),
        ("other_supervisor", "430102", 200),
    ],
)
def test_stats_scope(
    office: tuple[SmallOffice, str], who: str, division: str | None, status: int
) -> None:
    params = {"division": division} if division else {}
    answer = get(office, "/api/v1/stats", who, **params)
    assert answer.status_code == status
    if status == 403:
        assert answer.json()["error"] == "forbidden"


def test_stats_count_only_what_the_caller_sees(office: tuple[SmallOffice, str]) -> None:
    assert get(office, "/api/v1/stats", "tech_a").json()["institutions"] == 3
    assert get(office, "/api/v1/stats", "tech_b").json()["institutions"] == 2
    city = get(office, "/api/v1/stats", "city_supervisor").json()
    assert (city["division"], city["institutions"]) == ("430700", 5)
    assert {c["division"]: c["institutions"] for c in city["children"]} == {
        "430702": 3,
        "430703": 2,
    }


def test_conflicts_are_for_supervisors_only(office: tuple[SmallOffice, str]) -> None:
    assert get(office, "/api/v1/conflicts", "tech_a").status_code == 403
    assert get(office, "/api/v1/conflicts", "city_supervisor").status_code == 200


def test_only_the_token_hash_is_stored(office: tuple[SmallOffice, str]) -> None:
    built, _ = office
    engine = create_engine(f"sqlite:///{built.db}")
    with engine.connect() as conn:
        stored = [r[0] for r in conn.execute(text("SELECT token_hash FROM technicians"))]
    engine.dispose()
    assert len(stored) == 4
    for token in built.tokens.values():
        assert token not in stored
        for path in Path(built.db).parent.glob("office.sqlite*"):
            assert token.encode() not in path.read_bytes()


def test_unknown_paths_and_methods_answer_json(office: tuple[SmallOffice, str]) -> None:
    _, url = office
    missing = httpx.get(url + "/api/v1/nothing-here")
    assert (missing.status_code, missing.json()["error"]) == (404, "not_found")
    wrong = httpx.delete(url + "/api/v1/sync/pull")
    assert (wrong.status_code, wrong.json()["error"]) == (405, "method_not_allowed")
    unknown = get(office, "/api/v1/institutions/JG4399990001", "city_supervisor")
    assert (unknown.status_code, unknown.json()["error"]) == (404, "not_found")
