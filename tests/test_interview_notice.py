"""The interview notice (约谈通知书): an A4 PDF with real text, read back."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest

from fieldkit import domain
from fieldkit.domain import cases as dc
from fieldkit.interview_notice import save_interview_notice
from tests.test_qr_fixtures import pdf_texts

INST = {
    "id": "JG4307020001",
    "name": "常德星辰教育培训学校",
    "address": "湖南省常德市武陵区人民路1号",
}


def a_case(scheduled: bool = True) -> domain.Case:
    visit = domain.Visit(
        "c0ffee00-case",
        INST["id"],
        "T0001",
        "guidance",
        datetime(2026, 11, 2, 9),
        outcome="partial",
        rectification=domain.Rectification(("张贴监管收款码", "开通退费流程"), date(2026, 11, 20)),
    )
    case = dc.open_case(visit)
    assert case is not None
    check = domain.Visit("chk", INST["id"], "T0001", "rectification_check", datetime(2026, 11, 19))
    case = dc.change_item(
        case, 1, "rectified", reason=None, visit=check, by="T0001", on=date(2026, 11, 19)
    )
    if scheduled:
        step = domain.Escalation(
            "interview_scheduled",
            date(2026, 11, 25),
            "S0001",
            place="武陵区教育局301室",
            attendees="法定代表人、校长",
        )
        case = dc.escalate(case, step, supervisor=True)
    return case


def test_the_notice_names_the_open_items_the_time_and_the_place(tmp_path: Path) -> None:
    path = tmp_path / "约谈通知书.pdf"
    assert save_interview_notice(INST, a_case(), path, "常德市教育局", date(2026, 11, 22)) == 1
    [text] = pdf_texts(path.read_bytes())
    for words in (
        "约谈通知书",
        "常德星辰教育培训学校",
        "1.张贴监管收款码",
        "约谈时间：2026-11-25",
        "约谈地点：武陵区教育局301室",
        "参加人员：法定代表人、校长",
        "常德市教育局（盖章）",
    ):
        assert words in text, words
    assert "开通退费流程" not in text  # rectified already: not a reason to be summoned


def test_no_notice_before_an_interview_is_scheduled(tmp_path: Path) -> None:
    with pytest.raises(domain.ValidationError) as refused:
        save_interview_notice(INST, a_case(scheduled=False), tmp_path / "x.pdf")
    assert "还没有安排约谈" in refused.value.zh and not (tmp_path / "x.pdf").exists()
