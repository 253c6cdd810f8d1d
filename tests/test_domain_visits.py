"""Visits: what a valid visit is, and its wire shape going out and coming back unchanged."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import date, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fieldkit.domain import (
    AMENDABLE,
    OUTCOME_NAMES,
    OUTCOMES,
    STEP_KEYS,
    VISIT_KIND_NAMES,
    VISIT_KINDS,
    Rectification,
    ValidationError,
    Visit,
    validate_visit,
    visit_from_wire,
    visit_to_wire,
)

CJK = re.compile(r"[\u4e00-\u9fff]")
CST = timezone(timedelta(hours=8))
STARTED = datetime(2026, 11, 28, 9, 30, tzinfo=CST)


def a_visit(**changes: object) -> Visit:
    visit = Visit(
        visit_id="6f1c0f3e-1b7a-4a51-9a0e-2c8d7d1f0a11",
        institution_id="JG4307020001",
        technician_id="T001",
        kind="guidance",
        started_at=STARTED,
        ended_at=STARTED + timedelta(minutes=50),
        outcome="partial",
        steps_advanced=("registered", "qualification"),
        issues=("前台张贴了个人微信收款码",),
        rectification=Rectification(("撤下个人收款码", "张贴平台收款码"), date(2026, 12, 5)),
        interview_recommended=True,
        next_visit_on=date(2026, 12, 8),
        notes="负责人下午不在，下次带开户资料",
    )
    return replace(visit, **changes)  # type: ignore[arg-type]


def refused(visit: Visit, field: str, code: str) -> ValidationError:
    with pytest.raises(ValidationError) as info:
        validate_visit(visit)
    err = info.value
    assert (err.field, err.code) == (field, code)
    assert CJK.search(err.zh) and re.search(r"[A-Za-z]{4,}", err.en)
    return err


def test_kinds_and_outcomes_have_names_in_both_languages() -> None:
    assert VISIT_KINDS == ("guidance", "follow_up", "rectification_check")
    assert set(OUTCOMES) == {
        "completed",
        "partial",
        "closed",
        "not_found",
        "refused",
        "rescheduled",
    }
    assert VISIT_KIND_NAMES["follow_up"][0] == "回头看"
    for zh, en in list(VISIT_KIND_NAMES.values()) + list(OUTCOME_NAMES.values()):
        assert CJK.search(zh) and re.fullmatch(r"[a-z -]+", en)
    assert "visit_id" not in AMENDABLE and "started_at" not in AMENDABLE


def test_a_full_visit_is_valid() -> None:
    visit = a_visit()
    assert validate_visit(visit) is visit


def test_a_visit_still_under_way_is_valid() -> None:
    validate_visit(a_visit(ended_at=None, outcome=None, rectification=None, next_visit_on=None))


@pytest.mark.parametrize(
    "changes,field,code",
    [
        ({"kind": "inspection"}, "kind", "visit_kind"),
        ({"outcome": "great"}, "outcome", "visit_outcome"),
        ({"steps_advanced": ("registered", "teleport")}, "steps_advanced", "visit_steps"),
        ({"ended_at": STARTED - timedelta(minutes=1)}, "ended_at", "visit_times"),
        ({"ended_at": datetime(2026, 11, 28, 10, 30)}, "ended_at", "visit_times"),
        (
            {"rectification": Rectification((), date(2026, 12, 5))},
            "rectification",
            "rectification_items",
        ),
        (
            {"rectification": Rectification(("  ",), date(2026, 12, 5))},
            "rectification",
            "rectification_items",
        ),
        (
            {"rectification": Rectification(("撤下个人收款码",), date(2026, 11, 27))},
            "rectification",
            "rectification_deadline",
        ),
        ({"next_visit_on": date(2026, 11, 27)}, "next_visit_on", "next_visit"),
    ],
)
def test_invalid_visits_are_refused(changes: dict[str, object], field: str, code: str) -> None:
    refused(a_visit(**changes), field, code)


def test_unknown_steps_are_named() -> None:
    err = refused(a_visit(steps_advanced=("teleport",)), "steps_advanced", "visit_steps")
    assert "teleport" in err.zh and "teleport" in err.en


def test_unknown_kind_and_outcome_list_the_allowed_values() -> None:
    err = refused(a_visit(kind="inspection"), "kind", "visit_kind")
    assert "follow_up" in err.zh and "rectification_check" in err.en
    err = refused(a_visit(outcome="great"), "outcome", "visit_outcome")
    assert "rescheduled" in err.zh and "not_found" in err.en


def test_same_day_deadline_and_next_visit_are_allowed() -> None:
    validate_visit(
        a_visit(
            rectification=Rectification(("整改",), STARTED.date()), next_visit_on=STARTED.date()
        )
    )


def test_wire_shape_is_the_visit_create_data() -> None:
    data = visit_to_wire(a_visit())
    assert set(data) >= {
        "visit_id",
        "kind",
        "started_at",
        "ended_at",
        "outcome",
        "steps_advanced",
        "issues",
        "rectification",
        "interview_recommended",
        "next_visit_on",
        "notes",
    }
    assert data["started_at"] == "2026-11-28T09:30:00+08:00"
    assert data["rectification"] == {
        "items": ["撤下个人收款码", "张贴平台收款码"],
        "deadline": "2026-12-05",
    }
    assert data["next_visit_on"] == "2026-12-08"
    assert data["steps_advanced"] == ["registered", "qualification"]
    assert "extra" not in data
    json.dumps(data, ensure_ascii=False)  # plain JSON, nothing else


def test_wire_round_trip_through_json() -> None:
    visit = a_visit()
    text = json.dumps(visit_to_wire(visit), ensure_ascii=False)
    assert visit_from_wire(json.loads(text)) == visit


def test_wire_round_trip_of_an_open_visit() -> None:
    visit = a_visit(
        ended_at=None,
        outcome=None,
        rectification=None,
        next_visit_on=None,
        issues=(),
        steps_advanced=(),
        notes="",
    )
    data = visit_to_wire(visit)
    assert data["ended_at"] is None and data["rectification"] is None
    assert visit_from_wire(data) == visit


@pytest.mark.parametrize(
    "broken",
    [
        {"visit_id": None},
        {"kind": None},
        {"started_at": "yesterday"},
        {"next_visit_on": "2026-13-01"},
        {"rectification": {"items": "撤码", "deadline": "2026-12-05"}},
        {"rectification": {"items": ["撤码"]}},
        {"rectification": "撤码"},
        {"issues": "一个问题"},
        {"steps_advanced": "registered"},
    ],
)
def test_malformed_wire_data_is_refused_clearly(broken: dict[str, object]) -> None:
    data = visit_to_wire(a_visit())
    for key, value in broken.items():
        if value is None:
            del data[key]
        else:
            data[key] = value
    with pytest.raises(ValidationError) as info:
        visit_from_wire(data)
    assert (info.value.field, info.value.code) == ("visit", "visit_shape")
    assert "走访" in info.value.zh and "visit" in info.value.en


texts = st.text(alphabet=st.characters(codec="utf-8"), max_size=20)
days = st.dates(min_value=date(2025, 1, 1), max_value=date(2028, 12, 31))


@st.composite
def visits(draw: st.DrawFn) -> Visit:
    start = datetime.combine(draw(days), datetime.min.time(), CST) + timedelta(
        minutes=draw(st.integers(0, 1439))
    )
    later = st.integers(0, 400)
    rect = draw(
        st.none()
        | st.builds(
            Rectification,
            st.lists(texts.filter(str.strip), min_size=1, max_size=4).map(tuple),
            later.map(lambda d: start.date() + timedelta(days=d)),
        )
    )
    return Visit(
        visit_id=draw(st.uuids()).hex,
        institution_id="JG" + draw(st.sampled_from(["430702", "430102"])) + "0001",
        technician_id=draw(st.sampled_from(["T001", "T002"])),
        kind=draw(st.sampled_from(VISIT_KINDS)),
        started_at=start,
        ended_at=draw(st.none() | later.map(lambda m: start + timedelta(minutes=m))),
        outcome=draw(st.none() | st.sampled_from(OUTCOMES)),
        steps_advanced=tuple(draw(st.lists(st.sampled_from(STEP_KEYS), max_size=4, unique=True))),
        issues=tuple(draw(st.lists(texts, max_size=3))),
        rectification=rect,
        interview_recommended=draw(st.booleans()),
        next_visit_on=draw(st.none() | later.map(lambda d: start.date() + timedelta(days=d))),
        notes=draw(texts),
    )


@given(visits())
def test_any_valid_visit_survives_the_wire(visit: Visit) -> None:
    validate_visit(visit)
    back = visit_from_wire(json.loads(json.dumps(visit_to_wire(visit))))
    assert back == visit
    validate_visit(back)
