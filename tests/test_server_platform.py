"""import-platform end to end: the CLI into a real office, out through the API; stats and rules."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from openpyxl import Workbook

from fieldkit import domain
from tests.live_server import LiveServer, admin, make_op, make_uscc, small_office, write_csv

ZH_HEADER = (
    "统一社会信用代码,注册日期,资质审核通过日期,账户审核通过日期,银行核验通过日期,支付开通日期,"
    "首次购课日期,首次销课日期,退费流程开通日期,订单数,订单金额（元）,销课节数,退费笔数,退费金额（元）"
)
EN_HEADER = (
    "uscc,registered_on,qualification_on,account_on,bank_verified_on,payment_enabled_on,"
    "first_purchase_on,first_consumption_on,refund_flow_on,orders,order_amount,lessons_consumed,"
    "refunds,refund_amount"
)
FULL = "2025-03-02,2025-03-10,2025-03-20,2025-04-01,2025-04-15,2025-05-02,2025-05-20,2025-06-01"


def _lines(header: str = ZH_HEADER) -> list[str]:
    """Three Wuling institutions: one full-process, one registered only, one with nothing yet."""
    return [
        header,
        f'{make_uscc(1, "430702")},{FULL},12,"1,234.50",96,1,100.00',
        f"{make_uscc(2, '430702')},2025/3/5,,,,,,,,0,0,0,0,0",
        f"{make_uscc(3, '430702')},,,,,,,,,,,,,",
    ]


def _stats(url: str, token: str, **params: Any) -> dict[str, Any]:
    answer = httpx.get(
        url + "/api/v1/stats", params=params, headers={"Authorization": f"Bearer {token}"}
    )
    assert answer.status_code == 200, answer.text
    return answer.json()


def _pull(url: str, token: str) -> list[dict[str, Any]]:
    answer = httpx.get(
        url + "/api/v1/sync/pull",
        params={"cursor": 0, "limit": 10000},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert answer.status_code == 200, answer.text
    return list(answer.json()["changes"])


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-8", "gb18030"])
def test_import_platform_csv_reaches_the_figures_and_the_pull(
    tmp_path: Path, encoding: str
) -> None:
    office = small_office(tmp_path)
    with LiveServer(office.db) as server:
        before = _stats(server.url, office.tokens["city_supervisor"], division="430702")
        assert (before["full_process"], before["orders"], before["by_step"]["registered"]) == (
            0,
            0,
            0,
        )
        code, out = admin(
            office.db, "import-platform", str(write_csv(tmp_path / "p.csv", _lines(), encoding))
        )
        assert code == 0 and "新增 3" in out, out
        after = _stats(server.url, office.tokens["city_supervisor"], division="430702")
        assert after["full_process"] == 1 and after["bank_verified"] == 1
        assert (after["orders"], after["order_amount_fen"]) == (12, 123450)
        assert after["by_step"]["registered"] == 2
        assert after["field"]["by_step"]["registered"] == 0  # the field's marks, beside
        readings = {
            c["id"]: c["data"]
            for c in _pull(server.url, office.tokens["tech_a"])
            if c["kind"] == "platform"
        }
    first = readings[office.wuling[0]]
    assert first["steps"]["refund_flow"] == "2025-06-01" and first["orders"] == 12
    assert first["refund_amount_fen"] == 10000 and first["lessons_consumed"] == 96
    assert readings[office.wuling[2]]["steps"]["registered"] is None
    assert "personnel" not in first["steps"]  # the export did not carry it


def test_import_platform_xlsx_with_english_headers_and_excel_dates(tmp_path: Path) -> None:
    office = small_office(tmp_path)
    book = Workbook()
    sheet = book.active
    sheet.append(EN_HEADER.split(","))
    sheet.append([make_uscc(1, "430702"), date(2025, 3, 2), *[None] * 7, 3, 1234.5, 10, 0, 0])
    book.save(tmp_path / "platform.xlsx")
    code, out = admin(office.db, "import-platform", str(tmp_path / "platform.xlsx"))
    assert code == 0 and "xlsx" in out, out
    with LiveServer(office.db) as server:
        stats = _stats(server.url, office.tokens["city_supervisor"], division="430702")
    assert stats["by_step"]["registered"] == 1 and stats["order_amount_fen"] == 123450


def test_reimport_is_idempotent_and_emits_nothing_new(tmp_path: Path) -> None:
    office = small_office(tmp_path)
    path = write_csv(tmp_path / "p.csv", _lines())
    assert admin(office.db, "import-platform", str(path))[0] == 0
    with LiveServer(office.db) as server:
        head = len(_pull(server.url, office.tokens["tech_a"]))
        code, out = admin(office.db, "import-platform", str(path))
        assert code == 0 and "新增 0，更新 0" in out, out
        assert len(_pull(server.url, office.tokens["tech_a"])) == head


def test_bad_rows_are_each_refused_with_their_line_and_nothing_is_imported(tmp_path: Path) -> None:
    office = small_office(tmp_path)
    wrong_check = make_uscc(1, "430702")[:-1] + ("0" if make_uscc(1, "430702")[-1] != "0" else "1")
    future = (date.today() + timedelta(days=3)).isoformat()
    lines = [
        ZH_HEADER,
        f"{make_uscc(1, '430702')},{FULL},12,1234.50,0,0,0",  # fine
        f"{make_uscc(99, '430702')},2025-01-01,,,,,,,,0,0,0,0,0",  # unknown
        f"{wrong_check},2025-01-01,,,,,,,,0,0,0,0,0",  # check character
        f"{make_uscc(2, '430702')},{future},,,,,,,,0,0,0,0,0",  # future
        f"{make_uscc(3, '430702')},2020-12-31,,,,,,,,0,0,0,0,0",  # before 2021
        f"{make_uscc(2, '430702')},2025-01-01,,,,,,,,1,12.345,0,0,0",  # three decimals
        f"{make_uscc(1, '430702')},2025-01-01,,,,,,,,0,0,0,0,0",  # the same institution twice
    ]
    code, out = admin(office.db, "import-platform", str(write_csv(tmp_path / "bad.csv", lines)))
    assert code == 5
    for line, words in (
        (3, "no institution with credit code"),
        (4, "check character"),
        (5, "in the future"),
        (6, "before 2021"),
        (7, "more than two decimals"),
        (8, "same institution as line 2"),
    ):
        assert f"line {line}:" in out and words in out, (line, out)
    assert "nothing was imported" in out and "line 2:" not in out
    with LiveServer(office.db) as server:
        stats = _stats(server.url, office.tokens["city_supervisor"], division="430702")
        assert stats["platform_reported"] == 0 and stats["orders"] == 0


def test_a_file_without_an_institution_column_is_refused_whole(tmp_path: Path) -> None:
    office = small_office(tmp_path)
    code, out = admin(
        office.db, "import-platform", str(write_csv(tmp_path / "x.csv", ["名称,订单数", "a,1"]))
    )
    assert code == 5 and "uscc or platform_id column" in out and "nothing was imported" in out


def test_a_platform_confirmed_done_cannot_be_undone_by_a_client(tmp_path: Path) -> None:
    office = small_office(tmp_path)
    assert admin(office.db, "import-platform", str(write_csv(tmp_path / "p.csv", _lines())))[0] == 0
    clock = domain.HLC("laptop-a")
    inst = office.wuling[1]  # registered on the platform 2025-03-05
    ops = [
        make_op("step.set", inst, {"step": "registered", "status": "done"}, clock),
        make_op("step.set", inst, {"step": "registered", "status": "in_progress"}, clock),
        make_op("step.set", inst, {"step": "personnel", "status": "in_progress"}, clock),
    ]
    with LiveServer(office.db) as server:
        answer = httpx.post(
            server.url + "/api/v1/sync/push",
            json={"client_id": "laptop-a", "ops": ops},
            headers=office.headers("tech_a"),
        ).json()["results"]
    assert [r["status"] for r in answer] == ["applied", "rejected", "applied"]
    assert answer[1]["reason"] == "platform_confirmed"
    assert "2025-03-05" in answer[1]["message"] and "cannot be undone" in answer[1]["message"]


def test_the_platform_id_matches_too(tmp_path: Path) -> None:
    office = small_office(tmp_path)
    lines = ["平台机构编号,注册日期,订单数", f"{office.dingcheng[0]},2025-02-01,4"]
    code, out = admin(office.db, "import-platform", str(write_csv(tmp_path / "p.csv", lines)))
    assert code == 0, out
    with LiveServer(office.db) as server:
        stats = _stats(server.url, office.tokens["city_supervisor"], division="430703")
    assert stats["by_step"]["registered"] == 1 and stats["orders"] == 4
