"""The office's enforcement: a notice opens a case, items and escalation by op, reviews, the ledger
as JSON and .xlsx, look-back rounds, and every refusal in words."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import openpyxl
import pytest

from fieldkit import domain
from tests.evidence_files import photo
from tests.live_server import LiveServer, SmallOffice, admin, make_op, small_office, visit_data

TODAY = date(2026, 11, 28)


@pytest.fixture
def office(tmp_path: Path) -> Iterator[tuple[SmallOffice, LiveServer]]:
    built = small_office(tmp_path)
    with LiveServer(built.db) as server:
        server.app.state.today = lambda: TODAY
        yield built, server


Office = tuple[SmallOffice, LiveServer]
CLOCK = domain.HLC("laptop-a")


def push(office: Office, who: str, *ops: dict[str, Any]) -> list[dict[str, Any]]:
    built, server = office
    answer = httpx.post(
        server.url + "/api/v1/sync/push",
        headers=built.headers(who),
        json={"client_id": who, "ops": list(ops)},
    )
    assert answer.status_code == 200, answer.text
    return answer.json()["results"]


def ledger(office: Office, who: str = "city_supervisor", **params: str) -> httpx.Response:
    built, server = office
    return httpx.get(server.url + "/api/v1/cases", headers=built.headers(who), params=params)


INST = "JG4307020001"


def notice(office: Office, deadline: str = "2026-11-30") -> str:
    data = visit_data(
        outcome="partial",
        rectification={"items": ["张贴监管收款码", "开通退费流程"], "deadline": deadline},
    )
    (result,) = push(office, "tech_a", make_op("visit.create", INST, data, CLOCK))
    assert result["status"] == "applied", result
    return str(data["visit_id"])


def item(case_id: str, index: int, status: str, **more: Any) -> dict[str, Any]:
    return make_op(
        "case.item",
        INST,
        {"case_id": case_id, "item": index, "status": status, "reason": None} | more,
        CLOCK,
    )


def escalate(case_id: str, step: str, on: str = "2026-12-01", **more: Any) -> dict[str, Any]:
    return make_op(
        "case.escalate",
        INST,
        {"case_id": case_id, "step": step, "on": on, "note": ""} | more,
        CLOCK,
    )


def check_visit(office: Office) -> str:
    data = visit_data(
        kind="rectification_check", started_at="2026-11-29T09:00:00", ended_at="2026-11-29T09:30:00"
    )
    assert (
        push(office, "tech_a", make_op("visit.create", INST, data, CLOCK))[0]["status"] == "applied"
    )
    return str(data["visit_id"])


def test_a_notice_opens_a_case_in_the_ledger_as_design_md_shapes_it(office: Office) -> None:
    case_id = notice(office)
    answer = ledger(office, division="430702")
    assert answer.status_code == 200, answer.text
    (case,) = answer.json()["cases"]
    assert {k: case[k] for k in ("case_id", "institution_id", "visit_id", "issued_by")} == {
        "case_id": case_id,
        "institution_id": INST,
        "visit_id": case_id,
        "issued_by": "T0001",
    }
    assert (case["issued_on"], case["deadline"], case["state"]) == (
        "2026-11-28",
        "2026-11-30",
        "due",
    )
    assert [(i["text"], i["status"], i["reason"]) for i in case["items"]] == [
        ("张贴监管收款码", "open", None),
        ("开通退费流程", "open", None),
    ]
    assert case["escalation"] == []
    assert ledger(office, division="430702", state="overdue").json()["cases"] == []
    # the technician sees the case of their own list; the other technician does not
    assert [c["case_id"] for c in ledger(office, "tech_a").json()["cases"]] == [case_id]
    assert ledger(office, "tech_b").json()["cases"] == []


def test_the_whole_ladder_through_the_office(office: Office) -> None:
    built, server = office
    case_id = notice(office)
    server.app.state.today = lambda: date(2026, 12, 2)
    assert ledger(office, state="overdue").json()["cases"][0]["case_id"] == case_id
    results = push(
        office,
        "city_supervisor",
        escalate(case_id, "interview_scheduled", place="武陵区教育局301室", attendees="法人、校长"),
        escalate(
            case_id,
            "interview_held",
            "2026-12-03",
            outcome="承诺一周内整改",
            new_deadline="2026-12-10",
        ),
    )
    assert [r["status"] for r in results] == ["applied", "applied"], results
    (case,) = ledger(office).json()["cases"]
    assert case["state"] == "open" and case["current_deadline"] == "2026-12-10"
    assert [e["step"] for e in case["escalation"]] == ["interview_scheduled", "interview_held"]
    assert case["escalation"][0]["place"] == "武陵区教育局301室"
    check = check_visit(office)
    results = push(
        office,
        "tech_a",
        item(case_id, 0, "rectified", visit_id=check),
        item(case_id, 1, "waived", reason="该机构不收预付费"),
    )
    assert [r["status"] for r in results] == ["applied", "applied"], results
    assert ledger(office).json()["cases"][0]["state"] == "rectified"
    assert (
        push(office, "city_supervisor", escalate(case_id, "closed", "2026-12-04"))[0]["status"]
        == "applied"
    )
    (case,) = ledger(office, state="closed").json()["cases"]
    assert (
        case["items"][0]["visit_id"] == check and case["items"][1]["reason"] == "该机构不收预付费"
    )


def test_refusals_come_back_in_both_languages(office: Office) -> None:
    case_id = notice(office)
    check = check_visit(office)
    results = push(
        office,
        "city_supervisor",
        escalate(case_id, "revocation_recommended", note="拒不整改"),
    )
    assert results[0]["status"] == "rejected"
    assert (
        "须先进行约谈" in results[0]["message"]
        and "interview must be held" in results[0]["message"]
    )
    # a technician cannot escalate, nor review
    assert (
        "Only a supervisor"
        in push(office, "tech_a", escalate(case_id, "interview_scheduled", place="局"))[0][
            "message"
        ]
    )
    review = make_op(
        "visit.review", INST, {"visit_id": case_id, "decision": "approved", "comment": ""}, CLOCK
    )
    assert "Only a supervisor can review" in push(office, "tech_a", review)[0]["message"]
    # an item closed twice
    first = push(office, "tech_a", item(case_id, 0, "rectified", visit_id=check))
    again = push(office, "tech_a", item(case_id, 0, "rectified", visit_id=check))
    assert first[0]["status"] == "applied" and again[0]["status"] == "rejected"
    assert "closed twice" in again[0]["message"] and "不能再次关闭" in again[0]["message"]
    # rectified without a check visit; a case that does not exist
    assert (
        "rectification-check"
        in push(office, "tech_a", item(case_id, 1, "rectified", visit_id=case_id))[0]["message"]
    )
    assert (
        push(office, "tech_a", item("nope", 0, "waived", reason="x"))[0]["reason"] == "unknown_case"
    )
    # a deadline in the past at the time of the notice
    late = visit_data(rectification={"items": ["x"], "deadline": "2026-11-01"})
    result = push(office, "tech_a", make_op("visit.create", INST, late, CLOCK))[0]
    assert result["status"] == "rejected" and "整改期限不能早于走访日期" in result["message"]
    # an institution of another technician
    other = make_op(
        "case.item",
        "JG4307030001",
        {"case_id": case_id, "item": 1, "status": "waived", "reason": "x"},
        CLOCK,
    )
    assert push(office, "tech_a", other)[0]["reason"] == "not_assigned"


def test_a_review_reaches_the_technician_by_pull(office: Office) -> None:
    built, server = office
    case_id = notice(office)
    review = make_op(
        "visit.review",
        INST,
        {"visit_id": case_id, "decision": "returned", "comment": "请补充整改项的具体要求"},
        CLOCK,
    )
    assert push(office, "city_supervisor", review)[0]["status"] == "applied"
    answer = httpx.get(server.url + "/api/v1/sync/pull", headers=built.headers("tech_a")).json()
    kinds = {c["kind"]: c for c in answer["changes"]}
    assert kinds["review"]["data"]["decision"] == "returned"
    assert kinds["review"]["data"]["comment"] == "请补充整改项的具体要求"
    assert kinds["case"]["data"]["case_id"] == case_id
    other = httpx.get(server.url + "/api/v1/sync/pull", headers=built.headers("tech_b")).json()
    assert not {c["kind"] for c in other["changes"]} & {"review", "case"}


def test_the_ledger_as_xlsx_read_back(office: Office, tmp_path: Path) -> None:
    built, _ = office
    case_id = notice(office)
    push(office, "city_supervisor", escalate(case_id, "interview_scheduled", place="区教育局"))
    target = tmp_path / "台账.xlsx"
    code, out = admin(
        built.db, "cases", "--division", "430700", "--xlsx", str(target), "--on", "2026-12-05"
    )
    assert code == 0, out
    assert "1 cases, 2 items" in out
    sheet = openpyxl.load_workbook(target).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:4] == ("案件编号", "机构编号", "机构名称", "行政区划")
    assert len(rows) == 3
    header = rows[0]
    first = dict(zip(header, rows[1], strict=True))
    assert first["案件编号"] == case_id and first["机构名称"] == "常德星辰教育培训学校"
    assert first["整改期限"].date() == date(2026, 11, 30)  # a real date, not text
    assert first["案件状态"] == "已升级" and first["整改内容"] == "张贴监管收款码"
    assert first["约谈地点"] == "区教育局" and first["序号"] == 1
    assert dict(zip(header, rows[2], strict=True))["整改内容"] == "开通退费流程"
    code, out = admin(built.db, "cases", "--state", "soon")
    assert code == 5 and "the state must be one of" in out


def test_a_round_falls_due_on_two_technicians_lists(office: Office) -> None:
    built, server = office
    code, out = admin(
        built.db, "campaign", "--division", "430700", "--due", "2026-12-15", "--today", "2026-11-28"
    )
    assert code == 0, out
    assert "5 picked" in out and "2 technicians" in out
    for who, wanted in (("tech_a", 3), ("tech_b", 2)):
        pulled = httpx.get(server.url + "/api/v1/sync/pull", headers=built.headers(who)).json()
        picks = [c["data"] for c in pulled["changes"] if c["kind"] == "round"]
        assert len(picks) == wanted and {p["due_on"] for p in picks} == {"2026-12-15"}
    answer = httpx.get(server.url + "/api/v1/rounds", headers=built.headers("city_supervisor"))
    (progress,) = answer.json()["rounds"]
    assert (progress["picked"], progress["done"], progress["overdue"]) == (5, 0, 0)
    push(office, "tech_a", make_op("visit.create", INST, visit_data(notes="回头看"), CLOCK))
    (progress,) = httpx.get(
        server.url + "/api/v1/rounds", headers=built.headers("city_supervisor")
    ).json()["rounds"]
    assert progress["done"] == 1


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (("--sample", "0"), "1% to 100%"),
        (("--sample", "150"), "1% to 100%"),
        (("--due", "2026-11-01"), "has passed"),
        (("--filter", "rich"), "filter must be one of"),
        (("--supervisor", "T0004"), "outside your zone"),
    ],
)
def test_a_bad_round_is_refused_at_the_office(
    office: Office, argv: tuple[str, ...], words: str
) -> None:
    built, _ = office
    base = {"--division": "430702", "--due": "2026-12-15", "--today": "2026-11-28"}
    for flag, value in zip(argv[::2], argv[1::2], strict=True):
        base[flag] = value
    code, out = admin(built.db, "campaign", *[x for pair in base.items() for x in pair])
    assert code == 5 and words in out and "错误" in out


def test_a_campaign_from_the_app_is_checked_against_the_zone(office: Office) -> None:
    built, server = office
    answer = httpx.post(
        server.url + "/api/v1/campaigns",
        headers=built.headers("other_supervisor"),
        json={"division": "430702", "due": "2026-12-15", "sample": 50},
    )
    assert answer.status_code == 403 and "不在您的管辖范围" in answer.json()["message"]
    answer = httpx.post(
        server.url + "/api/v1/campaigns",
        headers=built.headers("city_supervisor"),
        json={"division": "430702", "due": "2026-12-15", "sample": 150},
    )
    assert answer.status_code == 422 and "1% to 100%" in answer.json()["message"]
    answer = httpx.post(
        server.url + "/api/v1/campaigns",
        headers=built.headers("city_supervisor"),
        json={"division": "430702", "due": "2026-12-15", "sample": 50},
    )
    assert answer.status_code == 201 and len(answer.json()["institutions"]) == 2


def test_a_reassigned_institution_brings_its_case_review_and_round_along(office: Office) -> None:
    built, server = office
    case_id = notice(office)
    review = make_op(
        "visit.review", INST, {"visit_id": case_id, "decision": "approved", "comment": ""}, CLOCK
    )
    assert push(office, "city_supervisor", review)[0]["status"] == "applied"
    code, out = admin(
        built.db, "campaign", "--division", "430702", "--due", "2026-12-15", "--today", "2026-11-28"
    )
    assert code == 0, out
    code, out = admin(built.db, "assign", "--technician", "T0002", "--institution", INST)
    assert code == 0, out
    pulled = httpx.get(server.url + "/api/v1/sync/pull", headers=built.headers("tech_b")).json()
    mine = {(c["kind"], c["data"].get("institution_id")) for c in pulled["changes"]}
    assert {("case", INST), ("review", INST), ("round", INST)} <= mine


def test_the_report_counts_open_and_overdue_cases_by_division(
    office: Office, tmp_path: Path
) -> None:
    built, _ = office
    notice(office, deadline="2026-11-30")  # past by the office's real date when the report runs
    target = tmp_path / "报表.xlsx"
    code, out = admin(built.db, "report", "--division", "430000", "--xlsx", str(target))
    assert code == 0, out
    rows = list(openpyxl.load_workbook(target).active.iter_rows(values_only=True))
    header = rows[1]
    assert "未结案件" in header and "逾期案件" in header
    by_division = {r[1]: dict(zip(header, r, strict=True)) for r in rows[3:]}
    changde = by_division["430700"]
    assert (changde["未结案件"], changde["逾期案件"]) == (1, 1)
    assert (by_division["430100"]["未结案件"], by_division["430100"]["逾期案件"]) == (0, 0)
    totals = dict(zip(header, rows[-1], strict=True))
    assert (totals["未结案件"], totals["逾期案件"]) == (1, 1)


def attachment(record: str, record_id: str, item: int | None, data: bytes, name: str) -> dict:
    """An `attachment.add` op for a file of `data`."""
    op = make_op(
        "attachment.add",
        INST,
        {
            "record": record,
            "record_id": record_id,
            "item": item,
            "sha256": hashlib.sha256(data).hexdigest(),
            "size": len(data),
            "mime": "image/jpeg",
            "name": name,
            "taken_at": "2026-11-28T09:12:00",
        },
        CLOCK,
    )
    op["data"]["attachment_id"] = op["op_id"]
    return op


def test_the_ledger_lists_each_case_s_evidence_and_each_item_s(
    office: Office, tmp_path: Path
) -> None:
    built, server = office
    case_id = notice(office)
    desk, board = photo(1, size=(640, 480)), photo(2, size=(640, 480))
    results = push(
        office,
        "tech_a",
        attachment("visit", case_id, None, desk, "前台收款码.jpg"),
        attachment("case", case_id, 0, board, "张贴后.jpg"),
    )
    assert [r["status"] for r in results] == ["applied", "applied"]
    digest = hashlib.sha256(board).hexdigest()
    put = httpx.put(
        f"{server.url}/api/v1/uploads/{digest}",
        params={"offset": 0},
        content=board,
        headers=built.headers("tech_a"),
    )
    assert put.status_code == 200 and put.json()["complete"], put.text

    (case,) = ledger(office, division="430702").json()["cases"]
    assert [(f["name"], f["stored"]) for f in case["files"]] == [("前台收款码.jpg", False)]
    first, second = case["items"]
    assert [(f["name"], f["stored"], f["size"]) for f in first["files"]] == [
        ("张贴后.jpg", True, len(board))
    ]
    assert second["files"] == []
    fetched = httpx.get(
        server.url + first["files"][0]["url"], headers=built.headers("city_supervisor")
    )
    assert fetched.status_code == 200 and fetched.content == board
    assert ledger(office, "tech_b").json()["cases"] == []  # nor its files: not their list

    target = tmp_path / "台账.xlsx"
    code, out = admin(built.db, "cases", "--division", "430700", "--xlsx", str(target))
    assert code == 0, out
    rows = list(openpyxl.load_workbook(target).active.iter_rows(values_only=True))
    header = rows[0]
    one, two = (dict(zip(header, r, strict=True)) for r in rows[1:])
    assert (one["通知书走访证据数"], one["整改证据数"]) == (1, 1)
    assert one["整改证据文件"] == f"张贴后.jpg（{digest[:12]}）"
    assert (two["整改证据数"], two["整改证据文件"]) == (0, None)
    code, out = admin(built.db, "cases", "--division", "430700")
    assert code == 0 and "证据/evidence 2" in out
