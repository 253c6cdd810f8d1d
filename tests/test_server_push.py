"""Push: idempotent by op id, last writer wins by HLC, concurrent edits flagged, bad ops refused alone."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fieldkit import domain
from tests.live_server import LiveServer, SmallOffice, make_op, small_office, visit_data


@pytest.fixture(scope="module")
def office(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[SmallOffice, str]]:
    """The small office served under uvicorn for the whole module."""
    built = small_office(tmp_path_factory.mktemp("push"))
    with LiveServer(built.db) as server:
        yield built, server.url


op = make_op


def step_op(
    institution: str, step: str, status: str, clock: domain.HLC, reason: str | None = None
) -> dict[str, Any]:
    return op(
        "step.set",
        institution,
        {"step": step, "status": status, "reason": reason, "note": None},
        clock,
    )


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


def detail(office: tuple[SmallOffice, str], institution: str) -> dict[str, Any]:
    built, url = office
    return httpx.get(
        f"{url}/api/v1/institutions/{institution}", headers=built.headers("city_supervisor")
    ).json()


def step_state(office: tuple[SmallOffice, str], institution: str, step: str) -> dict[str, Any]:
    return next(s for s in detail(office, institution)["steps"] if s["step"] == step)


def pulled(office: tuple[SmallOffice, str], who: str) -> list[dict[str, Any]]:
    built, url = office
    return httpx.get(
        url + "/api/v1/sync/pull", headers=built.headers(who), params={"limit": 10000}
    ).json()["changes"]


def test_the_same_op_pushed_three_times_is_applied_once(office: tuple[SmallOffice, str]) -> None:
    clock = domain.HLC("laptop-a")
    registered = step_op("JG4307020001", "registered", "done", clock)
    visit = op(
        "visit.create",
        "JG4307020001",
        visit_data("首次上门", steps_advanced=["registered"]),
        clock,
    )
    answers = [push(office, "tech_a", [registered, visit]) for _ in range(3)]
    assert [a["status"] for a in answers[0]] == ["applied", "applied"]
    assert [a["status"] for a in answers[1]] == ["duplicate", "duplicate"]
    assert answers[2] == answers[1]
    assert step_state(office, "JG4307020001", "registered")["status"] == "done"
    visits = detail(office, "JG4307020001")["visits"]
    assert [v["visit_id"] for v in visits] == [visit["data"]["visit_id"]]
    changes = [c for c in pulled(office, "tech_a") if c["id"] == "JG4307020001:registered"]
    assert len(changes) == 1 and changes[0]["data"]["hlc"] == registered["hlc"]


def test_a_resent_rejected_op_gets_the_same_rejection(office: tuple[SmallOffice, str]) -> None:
    clock = domain.HLC("laptop-a")
    early = step_op("JG4307020003", "first_purchase", "done", clock)
    first, again = push(office, "tech_a", [early])[0], push(office, "tech_a", [early])[0]
    assert (first["status"], first["reason"]) == ("rejected", "prerequisite")
    assert (again["status"], again["reason"], again["duplicate"]) == (
        "rejected",
        "prerequisite",
        True,
    )


def _clock(client_id: str, at_ms: int) -> domain.HLC:
    return domain.HLC(client_id, wall=lambda: at_ms)


def test_an_older_edit_arriving_late_loses_and_is_flagged(office: tuple[SmallOffice, str]) -> None:
    an_hour_ago = time.time_ns() // 1_000_000 - 3_600_000
    supervisor, technician = (
        _clock("sup-laptop", an_hour_ago),
        _clock("a-laptop", an_hour_ago + 1000),
    )
    newer = step_op("JG4307020002", "parent_app", "in_progress", technician)
    older = step_op("JG4307020002", "parent_app", "blocked", supervisor, reason="前台无人")
    assert push(office, "tech_a", [newer], "a-laptop")[0] == {
        "op_id": newer["op_id"],
        "status": "applied",
    }
    late = push(office, "city_supervisor", [older], "sup-laptop")[0]
    assert late["status"] == "applied" and late["superseded"] and late["conflict"]
    state = step_state(office, "JG4307020002", "parent_app")
    assert (state["status"], state["hlc"], state["updated_by"]) == (
        "in_progress",
        newer["hlc"],
        "T0001",
    )
    flagged = [c for c in _conflicts(office) if c["register_name"] == "step:parent_app"]
    assert len(flagged) == 1
    assert flagged[0]["kept_value"]["status"] == "in_progress"
    assert flagged[0]["lost_value"] == {"status": "blocked", "reason": "前台无人", "note": None}


def test_a_newer_edit_made_unseen_wins_and_is_flagged(office: tuple[SmallOffice, str]) -> None:
    an_hour_ago = time.time_ns() // 1_000_000 - 3_600_000
    supervisor, technician = (
        _clock("sup-laptop", an_hour_ago),
        _clock("a-laptop", an_hour_ago + 1000),
    )
    first = step_op("JG4307020002", "personnel", "blocked", supervisor, reason="教师资格证缺失")
    second = step_op("JG4307020002", "personnel", "in_progress", technician)
    assert push(office, "city_supervisor", [first], "sup-laptop")[0]["status"] == "applied"
    won = push(office, "tech_a", [second], "a-laptop")[0]
    assert won == {"op_id": second["op_id"], "status": "applied", "conflict": True}
    assert step_state(office, "JG4307020002", "personnel")["status"] == "in_progress"
    flagged = [c for c in _conflicts(office) if c["register_name"] == "step:personnel"]
    assert [(c["kept_hlc"], c["lost_hlc"]) for c in flagged] == [(second["hlc"], first["hlc"])]


def test_an_edit_made_after_seeing_the_other_is_no_conflict(
    office: tuple[SmallOffice, str],
) -> None:
    supervisor = domain.HLC("sup-laptop")
    first = step_op("JG4307020002", "courses", "in_progress", supervisor)
    assert push(office, "city_supervisor", [first], "sup-laptop")[0]["status"] == "applied"
    technician = domain.HLC("a-laptop")
    technician.observe(first["hlc"])  # the technician pulled the supervisor's edit
    time.sleep(0.002)
    second = step_op("JG4307020002", "courses", "blocked", technician, reason="课程未上架")
    assert push(office, "tech_a", [second], "a-laptop")[0] == {
        "op_id": second["op_id"],
        "status": "applied",
    }
    assert not [c for c in _conflicts(office) if c["register_name"] == "step:courses"]


def _conflicts(office: tuple[SmallOffice, str]) -> list[dict[str, Any]]:
    built, url = office
    answer = httpx.get(url + "/api/v1/conflicts", headers=built.headers("city_supervisor"))
    return answer.json()


@pytest.mark.parametrize(
    ("kind", "data", "reason"),
    [
        ("step.set", {"step": "bank_verified", "status": "done"}, "server_owned"),
        ("contact.set", {"name": "改个名字"}, "server_owned"),
        ("contact.set", {"contact_phone": "13900001111", "uscc": "x"}, "server_owned"),
        ("institution.update", {"name": "改个名字"}, "server_owned"),
        ("payment.set", {"payload": "000201"}, "server_owned"),
        ("step.set", {"step": "qualification", "status": "done"}, "prerequisite"),
        ("step.set", {"step": "payment_enabled", "status": "done"}, "prerequisite"),
        ("step.set", {"step": "registered", "status": "blocked"}, "invalid"),
        ("step.set", {"step": "no_such_step", "status": "done"}, "invalid"),
        ("step.set", {"step": "registered", "status": "finished"}, "invalid"),
        ("step.set", {"step": 5, "status": "done"}, "invalid"),
        ("contact.set", {"contact_phone": "12345"}, "invalid"),
        ("contact.set", {}, "invalid"),
        (
            "visit.create",
            {"visit_id": "v-bad", "kind": "party", "started_at": "2026-11-28T09:00:00"},
            "invalid",
        ),
        ("visit.create", {"kind": "guidance"}, "invalid"),
        ("visit.amend", {"visit_id": "never-created", "notes": "x"}, "unknown_visit"),
        ("poster.printed", {"size": "a3", "payload_sha256": "0" * 64, "copies": 1}, "invalid"),
        (
            "qr.checked",
            {"visit_id": None, "result": "maybe", "found": "text", "content_sha256": "0" * 64},
            "invalid",
        ),
        ("teleport", {}, "unknown_kind"),
    ],
)
def test_bad_ops_are_rejected_with_a_reason_and_the_rest_go_on(
    office: tuple[SmallOffice, str], kind: str, data: dict[str, Any], reason: str
) -> None:
    clock = domain.HLC("laptop-a")
    before = step_op("JG4307020003", "parent_app", "in_progress", clock)
    bad = op(kind, "JG4307020003", data, clock)
    after = op(
        "poster.printed",
        "JG4307020003",
        {"size": "a4", "payload_sha256": "a" * 64, "copies": 2},
        clock,
    )
    results = push(office, "tech_a", [before, bad, after])
    assert [r["status"] for r in results] == ["applied", "rejected", "applied"]
    assert results[1]["reason"] == reason
    zh, en = results[1]["message"].split(" / ", 1)
    assert zh and en


def test_unknown_institution_and_malformed_hlc(office: tuple[SmallOffice, str]) -> None:
    clock = domain.HLC("laptop-a")
    ghost = step_op("JG4307029999", "registered", "done", clock)
    skewed = step_op("JG4307020003", "registered", "done", clock) | {"hlc": "yesterday"}
    results = push(office, "tech_a", [ghost, skewed])
    assert [r["reason"] for r in results] == ["unknown_institution", "invalid"]


def test_prerequisites_are_checked_against_the_servers_steps(
    office: tuple[SmallOffice, str],
) -> None:
    clock = domain.HLC("laptop-a")
    chain = [
        step_op("JG4307020003", "registered", "done", clock),
        step_op("JG4307020003", "account", "done", clock),
        step_op("JG4307020003", "payment_enabled", "done", clock),
    ]
    results = push(office, "tech_a", chain)
    assert [r["status"] for r in results] == ["applied", "applied", "rejected"]
    assert results[2]["reason"] == "prerequisite" and "银行核验" in results[2]["message"]
    reopen = push(office, "tech_a", [step_op("JG4307020003", "registered", "todo", clock)])
    assert reopen[0]["reason"] == "prerequisite"


def test_contact_and_visit_amendments_reach_the_office(office: tuple[SmallOffice, str]) -> None:
    clock = domain.HLC("laptop-a")
    visit_id = str(uuid.uuid4())
    ops = [
        op(
            "contact.set",
            "JG4307020001",
            {"contact_name": "周老师", "contact_phone": "+86 139-0731-2345"},
            clock,
        ),
        op(
            "visit.create",
            "JG4307020001",
            {
                "visit_id": visit_id,
                "kind": "follow_up",
                "started_at": "2026-11-28T14:00:00",
                "ended_at": None,
                "outcome": "partial",
                "steps_advanced": [],
                "issues": ["前台张贴个人收款码"],
                "rectification": {"items": ["撤下个人收款码"], "deadline": "2026-12-05"},
                "interview_recommended": True,
                "next_visit_on": "2026-12-06",
                "notes": "",
            },
            clock,
        ),
        op(
            "visit.amend",
            "JG4307020001",
            {"visit_id": visit_id, "ended_at": "2026-11-28T15:30:00", "outcome": "completed"},
            clock,
        ),
        op(
            "qr.checked",
            "JG4307020001",
            {
                "visit_id": visit_id,
                "result": "mismatch",
                "found": "wechat_personal",
                "content_sha256": "b" * 64,
            },
            clock,
        ),
    ]
    assert [r["status"] for r in push(office, "tech_a", ops)] == ["applied"] * 4
    seen = detail(office, "JG4307020001")
    assert seen["institution"]["contact_name"] == "周老师"
    assert seen["institution"]["contact_phone"] == "13907312345"
    visit = next(v for v in seen["visits"] if v["visit_id"] == visit_id)
    assert (visit["outcome"], visit["ended_at"]) == ("completed", "2026-11-28T15:30:00")
    assert visit["rectification"] == {"items": ["撤下个人收款码"], "deadline": "2026-12-05"}
    assert visit["technician_id"] == "T0001"
    stale = op(
        "visit.amend",
        "JG4307020001",
        {"visit_id": visit_id, "outcome": "refused"},
        domain.HLC("old-laptop", wall=lambda: 1_000),
    )
    assert push(office, "tech_a", [stale])[0]["superseded"] is True
    stats = httpx.get(office[1] + "/api/v1/stats", headers=office[0].headers("tech_a")).json()
    assert stats["visits"] >= 2 and stats["rectification_notices"] == 1
    assert stats["qr_checks"] >= 1 and stats["qr_mismatches"] == 1
    assert stats["posters_printed"] >= 1
    check = next(r for r in detail(office, "JG4307020001")["records"] if r["kind"] == "qr.checked")
    assert (check["result"], check["found"], check["visit_id"]) == (
        "mismatch",
        "wechat_personal",
        visit_id,
    )


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (b"{not json", "body"),
        (b"[]", "body"),
        (b'{"ops": []}', "client_id"),
        (b'{"client_id": "x", "ops": "many"}', "ops"),
        (
            b'{"client_id": "x", "ops": [{"hlc": "h", "kind": "k", "institution_id": "i", "data": {}}]}',
            "ops.0.op_id",
        ),
        (
            b'{"client_id": "x", "ops": [{"op_id": "o", "hlc": "h", "kind": "k", '
            b'"institution_id": "i", "data": [1]}]}',
            "ops.0.data",
        ),
        (b'{"client_id": "", "ops": []}', "client_id"),
    ],
)
def test_malformed_bodies_are_422_naming_the_field(
    office: tuple[SmallOffice, str], body: bytes, field: str
) -> None:
    built, url = office
    answer = httpx.post(
        url + "/api/v1/sync/push",
        content=body,
        headers=built.headers("tech_a") | {"Content-Type": "application/json"},
    )
    assert answer.status_code == 422
    assert answer.json()["error"] == "invalid"
    assert answer.json()["field"] == field
    assert field in answer.json()["message"]


def test_too_many_ops_or_too_many_bytes_are_413(office: tuple[SmallOffice, str]) -> None:
    built, url = office
    clock = domain.HLC("laptop-a")
    ops = [step_op("JG4307020001", "parent_app", "in_progress", clock) for _ in range(501)]
    answer = httpx.post(
        url + "/api/v1/sync/push",
        headers=built.headers("tech_a"),
        json={"client_id": "laptop-a", "ops": ops},
    )
    assert (answer.status_code, answer.json()["error"]) == (413, "batch_too_large")
    huge = {
        "client_id": "laptop-a",
        "ops": [op("visit.create", "JG4307020001", {"notes": "x" * (3 * 1024 * 1024)}, clock)],
    }
    answer = httpx.post(url + "/api/v1/sync/push", headers=built.headers("tech_a"), json=huge)
    assert (answer.status_code, answer.json()["error"]) == (413, "too_large")
    nothing = [c for c in pulled(office, "tech_a") if c["id"] == "JG4307020001:parent_app"]
    assert nothing[0]["data"]["status"] == "todo"


def test_bad_input_never_answers_500(office: tuple[SmallOffice, str]) -> None:
    built, url = office
    headers = built.headers("tech_a")
    weird: list[Any] = [None, 1, "x", [], {"a": 1}, {"op_id": None}, {"data": "x"}]
    for item in weird:
        answer = httpx.post(
            url + "/api/v1/sync/push", headers=headers, json={"client_id": "z", "ops": [item]}
        )
        assert answer.status_code == 422, item
    for params in ({"cursor": "-1"}, {"cursor": "abc"}, {"limit": "0"}, {"limit": "100001"}):
        answer = httpx.get(url + "/api/v1/sync/pull", headers=headers, params=params)
        assert answer.status_code == 422, params
    answer = httpx.get(
        url + "/api/v1/stats",
        headers=built.headers("city_supervisor"),
        params={"division": "43070"},
    )
    assert answer.status_code == 422
    clock = domain.HLC("laptop-a")
    odd = [
        op("step.set", "JG4307020001", {"step": ["x"], "status": {"y": 1}}, clock),
        op(
            "visit.create",
            "JG4307020001",
            {"visit_id": 7, "kind": "guidance", "started_at": "not a date"},
            clock,
        ),
        op("visit.amend", "JG4307020001", {"visit_id": None}, clock),
        op("contact.set", "JG4307020001", {"contact_name": 12}, clock),
        op("poster.printed", "JG4307020001", {"copies": True}, clock),
        op("qr.checked", "JG4307020001", {"found": None}, clock),
    ]
    assert [r["status"] for r in push(office, "tech_a", odd)] == ["rejected"] * len(odd)


def test_a_rejected_op_leaves_nothing_half_applied(office: tuple[SmallOffice, str]) -> None:
    clock = domain.HLC("laptop-a")
    before = detail(office, "JG4307020002")["institution"]
    half = op(
        "contact.set", "JG4307020002", {"contact_name": "新联系人", "contact_phone": "123"}, clock
    )
    assert push(office, "tech_a", [half])[0]["reason"] == "invalid"
    after = detail(office, "JG4307020002")["institution"]
    assert (after["contact_name"], after["contact_phone"]) == (
        before["contact_name"],
        before["contact_phone"],
    )


def test_a_supervisor_marks_a_conflict_resolved(office: tuple[SmallOffice, str]) -> None:
    built, url = office
    an_hour_ago = time.time_ns() // 1_000_000 - 3_600_000
    newer = step_op("JG4307020001", "personnel", "in_progress", _clock("a2", an_hour_ago + 9))
    older = step_op(
        "JG4307020001", "personnel", "blocked", _clock("s2", an_hour_ago), reason="资料不全"
    )
    push(office, "tech_a", [newer], "a2")
    assert push(office, "city_supervisor", [older], "s2")[0]["conflict"] is True
    flagged = next(c for c in _conflicts(office) if c["op_id"] == older["op_id"])
    assert flagged["resolved"] is False
    before = httpx.get(url + "/api/v1/stats", headers=built.headers("city_supervisor")).json()
    path = f"{url}/api/v1/conflicts/{flagged['id']}/resolve"
    assert httpx.post(path, headers=built.headers("tech_a")).status_code == 403
    assert httpx.post(path, headers=built.headers("other_supervisor")).status_code == 404
    answer = httpx.post(path, headers=built.headers("city_supervisor"))
    assert answer.status_code == 200 and answer.json()["resolved"] is True
    after = httpx.get(url + "/api/v1/stats", headers=built.headers("city_supervisor")).json()
    assert after["open_conflicts"] == before["open_conflicts"] - 1


# httpx refuses to encode NaN and infinities; raw bodies with them are tested in test_security_input.
JUNK = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)
FIELDS = st.sampled_from(
    [
        "step",
        "status",
        "reason",
        "note",
        "visit_id",
        "kind",
        "started_at",
        "ended_at",
        "outcome",
        "steps_advanced",
        "issues",
        "rectification",
        "next_visit_on",
        "contact_name",
        "contact_phone",
        "size",
        "copies",
        "payload_sha256",
        "result",
        "found",
        "content_sha256",
    ]
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    kind=st.sampled_from(
        [
            "step.set",
            "visit.create",
            "visit.amend",
            "contact.set",
            "poster.printed",
            "qr.checked",
            "other.kind",
        ]
    ),
    data=st.dictionaries(
        FIELDS,
        JUNK
        | st.sampled_from(
            ["2026-11-28T09:00:00+08:00", "2026-11-28T10:00:00", "done", "guidance", "a4"]
        ),
        max_size=6,
    ),
)
def test_any_op_data_gets_an_answer_never_a_500(
    office: tuple[SmallOffice, str], kind: str, data: dict[str, Any]
) -> None:
    built, url = office
    sent = op(kind, "JG4307020003", data, domain.HLC("fuzz"))
    answer = httpx.post(
        url + "/api/v1/sync/push",
        headers=built.headers("tech_a"),
        json={"client_id": "fuzz", "ops": [sent]},
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["results"][0]["status"] in ("applied", "rejected")


def _pull_after(office: tuple[SmallOffice, str], who: str, cursor: int) -> dict[str, Any]:
    built, url = office
    answer = httpx.get(
        url + "/api/v1/sync/pull",
        headers=built.headers(who),
        params={"cursor": cursor, "limit": 10000},
    )
    assert answer.status_code == 200, answer.text
    return answer.json()


def _head(office: tuple[SmallOffice, str], who: str) -> int:
    return int(_pull_after(office, who, 0)["cursor"])


def test_a_superseded_edit_brings_the_winner_back_on_the_next_pull(
    office: tuple[SmallOffice, str],
) -> None:
    an_hour_ago = time.time_ns() // 1_000_000 - 3_600_000
    winner = step_op("JG4307020001", "courses", "in_progress", _clock("sup-w", an_hour_ago + 50))
    loser = step_op(
        "JG4307020001", "courses", "blocked", _clock("a-w", an_hour_ago), reason="课程未上架"
    )
    assert push(office, "city_supervisor", [winner], "sup-w")[0]["status"] == "applied"
    # Laptop A pulls past the winner while its own edit is still unsent (so it skips the winner).
    seen_by_a = _head(office, "tech_a")
    seen_by_sup = _head(office, "city_supervisor")
    result = push(office, "tech_a", [loser], "a-w")[0]
    assert result["status"] == "applied" and result["superseded"] is True
    for who, cursor in (("tech_a", seen_by_a), ("city_supervisor", seen_by_sup)):
        fresh = [
            c
            for c in _pull_after(office, who, cursor)["changes"]
            if c["id"] == "JG4307020001:courses"
        ]
        assert [(c["data"]["status"], c["data"]["hlc"]) for c in fresh] == [
            ("in_progress", winner["hlc"])
        ], who


def test_a_rejected_edit_brings_the_registers_current_value_back(
    office: tuple[SmallOffice, str],
) -> None:
    clock = domain.HLC("laptop-r")
    seen = _head(office, "tech_a")
    early = step_op("JG4307020002", "first_consumption", "done", clock)
    assert push(office, "tech_a", [early], "laptop-r")[0]["reason"] == "prerequisite"
    fresh = [
        c
        for c in _pull_after(office, "tech_a", seen)["changes"]
        if c["id"] == "JG4307020002:first_consumption"
    ]
    assert [c["data"]["status"] for c in fresh] == ["todo"]


def test_a_partly_superseded_contact_edit_brings_the_winning_field(
    office: tuple[SmallOffice, str],
) -> None:
    an_hour_ago = time.time_ns() // 1_000_000 - 3_600_000
    phone = op(
        "contact.set",
        "JG4307020003",
        {"contact_phone": "13911112222"},
        _clock("sup-c", an_hour_ago + 50),
    )
    both = op(
        "contact.set",
        "JG4307020003",
        {"contact_name": "周老师", "contact_phone": "13933334444"},
        _clock("a-c", an_hour_ago),
    )
    assert push(office, "city_supervisor", [phone], "sup-c")[0]["status"] == "applied"
    seen = _head(office, "tech_a")
    assert push(office, "tech_a", [both], "a-c")[0]["status"] == "applied"
    fresh = [c for c in _pull_after(office, "tech_a", seen)["changes"] if c["id"] == "JG4307020003"]
    assert [(c["data"]["contact_name"], c["data"]["contact_phone"]) for c in fresh][-1] == (
        "周老师",
        "13911112222",
    )


def test_a_refused_op_on_someone_elses_institution_leaks_nothing(
    office: tuple[SmallOffice, str],
) -> None:
    seen = _head(office, "tech_a")
    other = step_op("JG4307030001", "registered", "done", domain.HLC("laptop-x"))
    assert push(office, "tech_a", [other], "laptop-x")[0]["reason"] == "not_assigned"
    assert _pull_after(office, "tech_a", seen)["changes"] == []


def test_an_edit_from_a_clock_days_ahead_is_refused_so_it_cannot_win_for_good(
    office: tuple[SmallOffice, str],
) -> None:
    now = time.time_ns() // 1_000_000
    ahead = step_op(
        "JG4307020003", "personnel", "in_progress", _clock("2027-laptop", now + 3 * 86_400_000)
    )
    result = push(office, "tech_a", [ahead])[0]
    assert (result["status"], result["reason"]) == ("rejected", "invalid")
    assert "快了约3天" in result["message"] and "correct the date and time" in result["message"]
    assert step_state(office, "JG4307020003", "personnel")["status"] == "todo"
    fine = step_op("JG4307020003", "personnel", "in_progress", _clock("a-laptop", now + 60_000))
    assert push(office, "tech_a", [fine])[0]["status"] == "applied"
