"""Pull: pages of changes in server order after a cursor, gzip on the wire, reassignment."""

from __future__ import annotations

import gzip
import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from fieldkit import domain
from tests.live_server import LiveServer, SmallOffice, admin, small_office


@pytest.fixture
def office(tmp_path: Path) -> Iterator[tuple[SmallOffice, str]]:
    """A fresh small office under uvicorn for each test."""
    built = small_office(tmp_path)
    with LiveServer(built.db) as server:
        yield built, server.url


def pull(
    office: tuple[SmallOffice, str], who: str, cursor: int = 0, limit: int = 1000
) -> dict[str, Any]:
    built, url = office
    answer = httpx.get(
        url + "/api/v1/sync/pull",
        headers=built.headers(who),
        params={"cursor": cursor, "limit": limit},
    )
    assert answer.status_code == 200, answer.text
    return answer.json()


def pull_all(
    office: tuple[SmallOffice, str], who: str, cursor: int = 0, limit: int = 1000
) -> tuple[list[dict[str, Any]], int]:
    changes: list[dict[str, Any]] = []
    for _ in range(1000):
        page = pull(office, who, cursor, limit)
        changes += page["changes"]
        cursor = page["cursor"]
        if not page["more"]:
            return changes, cursor
    raise AssertionError("pull never finished")


def push(office: tuple[SmallOffice, str], who: str, ops: list[dict[str, Any]]) -> list[dict]:
    built, url = office
    answer = httpx.post(
        url + "/api/v1/sync/push",
        headers=built.headers(who),
        json={"client_id": "laptop", "ops": ops},
    )
    return answer.json()["results"]


def step_op(institution: str, step: str, status: str, clock: domain.HLC) -> dict[str, Any]:
    return {
        "op_id": str(uuid.uuid4()),
        "hlc": clock.now(),
        "kind": "step.set",
        "institution_id": institution,
        "data": {"step": step, "status": status, "reason": None, "note": None},
    }


def apply(state: dict[str, dict[str, Any]], changes: list[dict[str, Any]]) -> None:
    """What a client's cache does with pulled changes (latest wins, unassigned removes)."""
    for change in changes:
        if change["kind"] == "unassigned":
            gone = change["id"]
            for key in [
                k for k, v in state.items() if k == gone or v.get("institution_id") == gone
            ]:
                del state[key]
        else:
            state[change["id"]] = change["data"]


def test_paging_by_cursor_survives_pushes_between_pages(office: tuple[SmallOffice, str]) -> None:
    clock = domain.HLC("laptop-a")
    first = pull(office, "tech_a", 0, 5)
    assert len(first["changes"]) == 5 and first["more"] is True
    seen = [c["seq"] for c in first["changes"]]
    delivered = {c["id"] for c in first["changes"]}
    early = next(
        c["id"]
        for c in first["changes"]  # a step already on the laptop
        if c["kind"] == "step" and c["data"]["step"] != "bank_verified"
    )
    inst, step = early.split(":")
    pending = "JG4307020003:registered"
    assert pending not in delivered
    answers = push(
        office,
        "tech_a",
        [
            step_op(inst, step, "in_progress", clock),
            step_op("JG4307020003", "registered", "done", clock),
        ],
    )
    assert [a["status"] for a in answers] == ["applied", "applied"]
    rest, cursor = pull_all(office, "tech_a", first["cursor"], 5)
    seen += [c["seq"] for c in rest]
    assert seen == sorted(seen) and len(seen) == len(set(seen))
    state: dict[str, dict[str, Any]] = {}
    apply(state, first["changes"] + rest)
    assert state[early]["status"] == "in_progress"
    assert state[pending]["status"] == "done"
    assert len(state) == 3 * 12
    assert [c["id"] for c in first["changes"] + rest].count(pending) == 1
    again = pull(office, "tech_a", cursor)
    assert again == {
        "changes": [],
        "cursor": cursor,
        "more": False,
        "epoch": again["epoch"],
        "mark": again["mark"],
    }
    assert again["mark"].startswith(f"{cursor}.")


def test_an_unknown_cursor_is_410_and_the_epoch_names_the_store(
    office: tuple[SmallOffice, str],
) -> None:
    built, url = office
    page = pull(office, "tech_a")
    epoch = httpx.get(url + "/api/v1/office").json()["epoch"]
    assert page["epoch"] == epoch and len(epoch) >= 8
    ahead = httpx.get(
        url + "/api/v1/sync/pull",
        headers=built.headers("tech_a"),
        params={"cursor": page["cursor"] + 1},
    )
    assert ahead.status_code == 410
    assert ahead.json()["error"] == "cursor_unknown"
    assert "从头" in ahead.json()["message"] and "from 0" in ahead.json()["message"]


def test_pages_are_gzipped_on_the_wire(office: tuple[SmallOffice, str]) -> None:
    built, url = office
    with httpx.Client() as client:
        request = client.build_request(
            "GET", url + "/api/v1/sync/pull", headers=built.headers("city_supervisor")
        )
        answer = client.send(request, stream=True)
        raw = b"".join(answer.iter_raw())
    assert answer.headers["content-encoding"] == "gzip"
    body = json.loads(gzip.decompress(raw))
    assert len(body["changes"]) == 5 * 12
    assert len(raw) < len(json.dumps(body).encode()) / 3


def test_reassignment_moves_the_institution_with_its_history(
    office: tuple[SmallOffice, str],
) -> None:
    built, _ = office
    clock = domain.HLC("laptop-a")
    visit_id = str(uuid.uuid4())
    visit = {
        "op_id": str(uuid.uuid4()),
        "hlc": clock.now(),
        "kind": "visit.create",
        "institution_id": "JG4307020001",
        "data": {
            "visit_id": visit_id,
            "kind": "guidance",
            "started_at": "2026-11-28T09:00:00",
            "ended_at": None,
            "outcome": None,
            "steps_advanced": [],
            "issues": [],
            "rectification": None,
            "interview_recommended": False,
            "next_visit_on": None,
            "notes": "",
        },
    }
    assert (
        push(office, "tech_a", [visit, step_op("JG4307020001", "registered", "done", clock)])[1][
            "status"
        ]
        == "applied"
    )
    a_changes, a_cursor = pull_all(office, "tech_a")
    b_changes, b_cursor = pull_all(office, "tech_b")
    boss_changes, boss_cursor = pull_all(office, "city_supervisor")
    code, out = admin(built.db, "assign", "--technician", "T0002", "--institution", "JG4307020001")
    assert code == 0 and "1" in out

    a_after, _ = pull_all(office, "tech_a", a_cursor)
    assert [(c["kind"], c["id"]) for c in a_after] == [("unassigned", "JG4307020001")]
    a_state: dict[str, dict[str, Any]] = {}
    apply(a_state, a_changes + a_after)
    assert {d.get("institution_id", k) for k, d in a_state.items()} == {
        "JG4307020002",
        "JG4307020003",
    }

    b_after, _ = pull_all(office, "tech_b", b_cursor)
    kinds = [(c["kind"], c["id"]) for c in b_after]
    assert ("institution", "JG4307020001") in kinds and ("visit", visit_id) in kinds
    assert sum(1 for k, _ in kinds if k == "step") == 11
    b_state: dict[str, dict[str, Any]] = {}
    apply(b_state, b_changes + b_after)
    assert b_state["JG4307020001:registered"]["status"] == "done"
    assert b_state[visit_id]["technician_id"] == "T0001"

    boss_after, _ = pull_all(office, "city_supervisor", boss_cursor)
    assert "unassigned" not in {c["kind"] for c in boss_after}

    late = push(office, "tech_a", [step_op("JG4307020001", "qualification", "in_progress", clock)])
    assert late[0]["reason"] == "not_assigned"
    now_b = push(
        office,
        "tech_b",
        [step_op("JG4307020001", "qualification", "in_progress", domain.HLC("laptop-b"))],
    )
    assert now_b[0]["status"] == "applied"


def test_assigning_to_the_same_technician_again_changes_nothing(
    office: tuple[SmallOffice, str],
) -> None:
    built, _ = office
    _, cursor = pull_all(office, "tech_a")
    code, out = admin(built.db, "assign", "--technician", "T0001", "--division", "430702")
    assert code == 0 and "0" in out
    assert pull(office, "tech_a", cursor)["changes"] == []


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (("--technician", "T0009", "--division", "430702"), "T0009"),
        (("--technician", "T0003", "--division", "430702"), "supervisor"),
        (("--technician", "T0001", "--institution", "JG4301020001"), "zone"),
        (("--technician", "T0001", "--institution", "JG4307029999"), "JG4307029999"),
        (("--technician", "T0001", "--division", "431300"), "431300"),
    ],
)
def test_assign_refuses_clearly(
    office: tuple[SmallOffice, str], argv: tuple[str, ...], words: str
) -> None:
    built, _ = office
    _, cursor = pull_all(office, "tech_a")
    code, out = admin(built.db, "assign", *argv)
    assert code == 1
    assert "错误" in out and words in out
    assert pull(office, "tech_a", cursor)["changes"] == []


def test_a_page_read_ahead_is_not_served_once_the_store_changed(
    office: tuple[SmallOffice, str],
) -> None:
    first = pull(office, "tech_a", 0, 5)  # the server now prepares the next page
    peek = pull(office, "tech_a", first["cursor"], 6)["changes"]
    target = next(
        c["id"] for c in peek if c["kind"] == "step" and c["data"]["step"] != "bank_verified"
    )
    inst, step = target.split(":")
    clock = domain.HLC("laptop-a")
    assert (
        push(office, "tech_a", [step_op(inst, step, "in_progress", clock)])[0]["status"]
        == "applied"
    )
    second = pull(office, "tech_a", first["cursor"], 5)
    assert target not in {c["id"] for c in second["changes"]}
    rest, _ = pull_all(office, "tech_a", second["cursor"], 5)
    found = [c for c in rest if c["id"] == target]
    assert len(found) == 1 and found[0]["data"]["status"] == "in_progress"


def test_a_client_without_gzip_gets_plain_json(office: tuple[SmallOffice, str]) -> None:
    built, url = office
    for accept in ("identity", "br"):
        answer = httpx.get(
            url + "/api/v1/sync/pull",
            params={"limit": 100},
            headers=built.headers("city_supervisor") | {"Accept-Encoding": accept},
        )
        assert "content-encoding" not in answer.headers, accept
        assert len(answer.json()["changes"]) == 60
