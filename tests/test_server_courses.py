"""import-courses end to end, the `courses` step refused while a course breaks a rule, charge.observed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
from openpyxl import Workbook

from fieldkit import domain
from tests.live_server import LiveServer, admin, make_op, make_uscc, small_office, write_csv

HEADER = (
    "统一社会信用代码,课程编号,课程名称,类别,总课时,开课日期,结课日期,单次收费金额（元）,单次收费课时,"
    "单次收费月数,最早收费日期"
)


def _course_lines(extra: list[str] | None = None) -> list[str]:
    a, b = make_uscc(1, "430702"), make_uscc(2, "430702")
    return [
        HEADER,
        f"{a},KC01,少儿美术季度班,非学科类,60,2026-01-31,2026-04-30,5000.00,60,,2025-12-31",
        f"{a},KC01,少儿美术季度班,非学科类,60,2026-01-31,2026-04-30,1000.00,12,1,2025-12-31",
        f'{b},KC02,素描年卡班,非学科类,61,2026-09-01,2026-11-30,"5,000.01",61,3,2026-07-31',
        *(extra or []),
    ]


def _detail(url: str, headers: dict[str, str], inst: str) -> dict[str, Any]:
    answer = httpx.get(f"{url}/api/v1/institutions/{inst}", headers=headers)
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def _push(url: str, headers: dict[str, str], ops: list[dict[str, Any]]) -> list[dict[str, Any]]:
    answer = httpx.post(
        url + "/api/v1/sync/push", json={"client_id": "laptop-a", "ops": ops}, headers=headers
    )
    assert answer.status_code == 200, answer.text
    return list(answer.json()["results"])


def test_courses_arrive_with_their_verdicts_at_each_edge(tmp_path: Path) -> None:
    office = small_office(tmp_path)
    code, out = admin(
        office.db, "import-courses", str(write_csv(tmp_path / "c.csv", _course_lines()))
    )
    assert code == 0 and "新增 2" in out and "1 courses break" in out, out
    with LiveServer(office.db) as server:
        keeps = _detail(server.url, office.headers("tech_a"), office.wuling[0])["courses"]
        breaks = _detail(server.url, office.headers("tech_a"), office.wuling[1])["courses"]
        pulled = httpx.get(
            server.url + "/api/v1/sync/pull",
            params={"limit": 1000},
            headers=office.headers("tech_a"),
        ).json()["changes"]
    assert [c["course_id"] for c in keeps] == ["KC01"] and len(keeps[0]["plans"]) == 2
    assert keeps[0]["breaches"] == [] and keeps[0]["verdict"]["en"] == "keeps the prepaid-fee rules"
    rules = [b["rule"] for b in breaks[0]["breaches"]]
    assert rules == ["prepaid_hours", "prepaid_amount", "prepaid_early"]
    assert "61" in breaks[0]["verdict"]["zh"] and "5,000.01" in breaks[0]["verdict"]["zh"]
    assert {c["id"] for c in pulled if c["kind"] == "course"} == {
        f"{office.wuling[0]}:KC01",
        f"{office.wuling[1]}:KC02",
    }


def test_courses_from_xlsx_and_a_reimport_that_drops_a_course(tmp_path: Path) -> None:
    office = small_office(tmp_path)
    book = Workbook()
    sheet = book.active
    for line in _course_lines():
        sheet.append(line.replace('"5,000.01"', "5000.01").split(","))
    book.save(tmp_path / "courses.xlsx")
    code, out = admin(office.db, "import-courses", str(tmp_path / "courses.xlsx"))
    assert code == 0 and "xlsx" in out, out
    again = _course_lines()[:3]  # the platform no longer lists KC02 of the second institution…
    again.append(
        f"{make_uscc(2, '430702')},KC03,书法班,非学科类,20,2026-09-01,2026-11-30,800,20,3,"
    )
    code, out = admin(office.db, "import-courses", str(write_csv(tmp_path / "c2.csv", again)))
    assert code == 0 and "1 courses no longer listed" in out, out
    with LiveServer(office.db) as server:
        listed = _detail(server.url, office.headers("tech_a"), office.wuling[1])["courses"]
    assert [c["course_id"] for c in listed] == ["KC03"]


def test_bad_course_rows_are_refused_by_line_and_nothing_is_imported(tmp_path: Path) -> None:
    office = small_office(tmp_path)
    a = make_uscc(1, "430702")
    lines = _course_lines(
        [
            f"{a},KC01,另一个名字,非学科类,60,2026-01-31,2026-04-30,100,10,1,",
            f"{a},KC05,钢琴,艺术类,10,2026-01-01,2026-02-01,100,10,1,",
            f"{a},KC06,钢琴,非学科类,10,2026-03-01,2026-02-01,100,10,1,",
            f"{a},KC07,钢琴,非学科类,10,2026-01-01,2026-02-01,100.001,10,1,",
        ]
    )
    code, out = admin(office.db, "import-courses", str(write_csv(tmp_path / "bad.csv", lines)))
    assert code == 5 and "nothing was imported" in out
    for line, words in (
        (5, "another name, kind, hours or dates on line 2"),
        (6, "must be academic or non_academic"),
        (7, "ends (2026-02-01) before it starts"),
        (8, "more than two decimals"),
    ):
        assert f"line {line}:" in out and words in out, (line, out)
    with LiveServer(office.db) as server:
        assert _detail(server.url, office.headers("tech_a"), office.wuling[0])["courses"] == []


def test_the_courses_step_is_refused_while_a_course_breaks_a_rule(tmp_path: Path) -> None:
    office = small_office(tmp_path)
    assert (
        admin(office.db, "import-courses", str(write_csv(tmp_path / "c.csv", _course_lines())))[0]
        == 0
    )
    clock = domain.HLC("laptop-a")
    good, bad = office.wuling[0], office.wuling[1]
    ops = [
        make_op("step.set", inst, {"step": "registered", "status": "done"}, clock)
        for inst in (good, bad)
    ] + [
        make_op("step.set", good, {"step": "courses", "status": "done"}, clock),
        make_op("step.set", bad, {"step": "courses", "status": "done"}, clock),
        make_op("step.set", bad, {"step": "courses", "status": "in_progress"}, clock),
    ]
    with LiveServer(office.db) as server:
        results = _push(server.url, office.headers("tech_a"), ops)
    assert [r["status"] for r in results] == [
        "applied",
        "applied",
        "applied",
        "rejected",
        "applied",
    ]
    assert results[3]["reason"] == "course_rules"
    assert "素描年卡班" in results[3]["message"] and "KC02" in results[3]["message"]


def test_an_observed_charge_is_kept_with_the_visit_and_checked_again(tmp_path: Path) -> None:
    office = small_office(tmp_path)
    assert (
        admin(office.db, "import-courses", str(write_csv(tmp_path / "c.csv", _course_lines())))[0]
        == 0
    )
    clock = domain.HLC("laptop-a")
    inst = office.wuling[0]
    seen = {
        "visit_id": "v-1",
        "course_id": "KC01",
        "amount_fen": 520_000,
        "hours": 60,
        "months": 3,
        "collected_on": "2025-12-30",
        "source": "price_board",
    }
    ops = [
        make_op("charge.observed", inst, seen, clock),
        make_op("charge.observed", inst, seen | {"amount_fen": "lots"}, clock),
    ]
    with LiveServer(office.db) as server:
        results = _push(server.url, office.headers("tech_a"), ops)
        charges = _detail(server.url, office.headers("tech_a"), inst)["charges"]
    assert [r["status"] for r in results] == ["applied", "rejected"]
    assert "amount_fen" in results[1]["message"]
    assert len(charges) == 1 and charges[0]["visit_id"] == "v-1"
    assert [b["rule"] for b in charges[0]["breaches"]] == [
        "prepaid_amount",
        "prepaid_early",
        "listing",
    ]


def test_a_course_whose_plans_are_far_apart_and_a_reimport_that_writes_nothing(
    tmp_path: Path,
) -> None:
    office = small_office(tmp_path)
    a = make_uscc(1, "430702")
    filler = [
        f"{a},KF{n:04d},口才班{n},非学科类,24,2026-09-01,2026-11-20,{1000 + n}.00,24,3,2026-08-10"
        for n in range(700)  # more than one write batch between the two plans of KC01
    ]
    lines = _course_lines()
    lines = [lines[0], lines[1], *filler, lines[2], lines[3]]
    path = write_csv(tmp_path / "long.csv", lines)
    code, out = admin(office.db, "import-courses", str(path))
    assert code == 0 and "新增 702" in out, out
    with LiveServer(office.db) as server:
        kc01 = [
            c
            for c in _detail(server.url, office.headers("tech_a"), office.wuling[0])["courses"]
            if c["course_id"] == "KC01"
        ]
        assert [p["amount_fen"] for p in kc01[0]["plans"]] == [500000, 100000]
        changes = "/api/v1/sync/pull"
        head = httpx.get(
            server.url + changes, params={"limit": 5000}, headers=office.headers("tech_a")
        ).json()["cursor"]
        code, out = admin(office.db, "import-courses", str(path))
        assert code == 0 and "新增 0，更新 0" in out, out
        after = httpx.get(
            server.url + changes,
            params={"cursor": head, "limit": 5000},
            headers=office.headers("tech_a"),
        ).json()["changes"]
        assert after == []  # nothing written, so nothing new to pull
        lines[5] = lines[5].replace(",1003.00,", ",1003.50,")
        code, out = admin(office.db, "import-courses", str(write_csv(tmp_path / "b.csv", lines)))
        assert code == 0 and "新增 0，更新 1" in out, out
        after = httpx.get(
            server.url + changes,
            params={"cursor": head, "limit": 5000},
            headers=office.headers("tech_a"),
        ).json()["changes"]
    assert [(c["id"], c["data"]["plans"][0]["amount_fen"]) for c in after] == [
        (f"{office.wuling[0]}:KF0003", 100350)
    ]
    del lines[2 + len(filler)]  # the platform now lists one plan of KC01, not two
    code, out = admin(office.db, "import-courses", str(write_csv(tmp_path / "c.csv", lines)))
    assert code == 0 and "新增 0，更新 1" in out, out
    with LiveServer(office.db) as server:
        listed = _detail(server.url, office.headers("tech_a"), office.wuling[0])["courses"]
    assert [len(c["plans"]) for c in listed if c["course_id"] == "KC01"] == [1]
