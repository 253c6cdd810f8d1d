"""Cases in the domain: state by items and date, escalation order, reviews, rounds, follow-ups."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fieldkit import domain
from fieldkit.domain import cases

ISSUED = date(2026, 11, 2)
DEADLINE = date(2026, 11, 20)


def notice_visit(items: tuple[str, ...] = ("张贴收款码", "开通退费流程")) -> domain.Visit:
    return domain.Visit(
        visit_id="v-notice",
        institution_id="JG1",
        technician_id="T0001",
        kind=domain.visits.GUIDANCE,
        started_at=datetime(2026, 11, 2, 9, 0),
        outcome="partial",
        rectification=domain.Rectification(items, DEADLINE),
    )


def check_visit(inst: str = "JG1") -> domain.Visit:
    return domain.Visit(
        visit_id="v-check",
        institution_id=inst,
        technician_id="T0001",
        kind=domain.visits.RECTIFICATION_CHECK,
        started_at=datetime(2026, 11, 19, 9, 0),
        outcome="completed",
    )


def a_case() -> domain.Case:
    case = cases.open_case(notice_visit())
    assert case is not None
    return case


def rectify(case: domain.Case, index: int) -> domain.Case:
    return cases.change_item(
        case, index, cases.RECTIFIED, reason=None, visit=check_visit(), by="T0001", on=ISSUED
    )


def step(name: str, on: date = date(2026, 11, 22), **more: object) -> domain.Escalation:
    return domain.Escalation(name, on, "S0001", **more)  # type: ignore[arg-type]


def test_a_notice_opens_a_case_with_its_items_deadline_and_issuer() -> None:
    case = a_case()
    assert (case.case_id, case.issued_by, case.issued_on, case.deadline) == (
        "v-notice",
        "T0001",
        ISSUED,
        DEADLINE,
    )
    assert [i.text for i in case.items] == ["张贴收款码", "开通退费流程"]
    assert cases.open_case(check_visit()) is None


@pytest.mark.parametrize(
    ("today", "state"),
    [
        (date(2026, 11, 10), "open"),
        (date(2026, 11, 17), "due"),
        (DEADLINE, "due"),
        (date(2026, 11, 21), "overdue"),
    ],
)
def test_the_state_follows_the_date(today: date, state: str) -> None:
    assert domain.case_state(a_case(), today) == state


def test_all_items_rectified_or_waived_is_rectified_whatever_the_date() -> None:
    case = rectify(a_case(), 0)
    assert domain.case_state(case, date(2026, 12, 30)) == "overdue"
    case = cases.change_item(
        case, 1, cases.WAIVED, reason="已停业", visit=None, by="S0001", on=ISSUED
    )
    assert domain.case_state(case, date(2026, 12, 30)) == "rectified"


def test_the_ladder_interview_held_with_a_new_deadline_then_closed() -> None:
    today = date(2026, 11, 25)
    case = cases.escalate(
        a_case(), step("interview_scheduled", place="区教育局301室"), supervisor=True
    )
    assert domain.case_state(case, today) == "escalated"
    case = cases.escalate(
        case,
        step(
            "interview_held", date(2026, 11, 24), outcome="承诺整改", new_deadline=date(2026, 12, 5)
        ),
        supervisor=True,
    )
    assert case.current_deadline == date(2026, 12, 5)
    assert domain.case_state(case, today) == "open"
    assert domain.case_state(case, date(2026, 12, 6)) == "overdue"
    case = rectify(rectify(case, 0), 1)
    assert domain.case_state(case, today) == "rectified"
    case = cases.escalate(case, step("closed", date(2026, 12, 1)), supervisor=True)
    assert domain.case_state(case, today) == "closed"


def test_revocation_before_an_interview_is_refused_in_words() -> None:
    with pytest.raises(domain.ValidationError) as refused:
        cases.escalate(a_case(), step("revocation_recommended", note="拒不整改"), supervisor=True)
    assert "须先进行约谈" in refused.value.zh
    assert "interview must be held" in refused.value.en


def test_held_before_scheduled_closed_with_open_items_and_by_a_technician_are_refused() -> None:
    for wrong, supervisor in (
        (step("interview_held", outcome="x"), True),
        (step("closed"), True),
        (step("interview_scheduled", place="x"), False),
    ):
        with pytest.raises(domain.ValidationError):
            cases.escalate(a_case(), wrong, supervisor=supervisor)


def test_revocation_needs_its_reason_and_then_escalates() -> None:
    case = cases.escalate(a_case(), step("interview_scheduled", place="局"), supervisor=True)
    case = cases.escalate(case, step("interview_held", outcome="拒绝"), supervisor=True)
    with pytest.raises(domain.ValidationError, match="reason"):
        cases.escalate(case, step("revocation_recommended"), supervisor=True)
    case = cases.escalate(case, step("revocation_recommended", note="逾期未整改"), supervisor=True)
    assert domain.case_state(case, date(2026, 11, 23)) == "escalated"
    closed = cases.escalate(case, step("closed"), supervisor=True)  # the office decided
    assert domain.case_state(closed, date(2026, 11, 23)) == "closed"


def test_an_item_closed_twice_is_refused() -> None:
    case = rectify(a_case(), 0)
    with pytest.raises(domain.ValidationError) as refused:
        rectify(case, 0)
    assert "不能再次关闭" in refused.value.zh and "closed twice" in refused.value.en


def test_rectified_needs_a_check_visit_of_the_institution_and_waived_a_reason() -> None:
    guidance = notice_visit()
    with pytest.raises(domain.ValidationError, match="rectification-check"):
        cases.change_item(
            a_case(), 0, cases.RECTIFIED, reason=None, visit=guidance, by="T", on=ISSUED
        )
    with pytest.raises(domain.ValidationError, match="another institution"):
        cases.change_item(
            a_case(), 0, cases.RECTIFIED, reason=None, visit=check_visit("JG2"), by="T", on=ISSUED
        )
    with pytest.raises(domain.ValidationError, match="reason"):
        cases.change_item(a_case(), 0, cases.WAIVED, reason=" ", visit=None, by="T", on=ISSUED)
    with pytest.raises(domain.ValidationError, match="no item 5"):
        rectify(a_case(), 5)


def test_only_a_supervisor_reopens_an_item() -> None:
    case = rectify(a_case(), 0)
    with pytest.raises(domain.ValidationError, match="supervisor"):
        cases.change_item(case, 0, cases.OPEN, reason=None, visit=None, by="T", on=ISSUED)
    again = cases.change_item(
        case, 0, cases.OPEN, reason="复查不实", visit=None, by="S", on=ISSUED, supervisor=True
    )
    assert again.open_items == 2


def test_a_review_by_a_technician_and_a_return_without_comment_are_refused() -> None:
    with pytest.raises(domain.ValidationError, match="Only a supervisor"):
        cases.check_review("approved", None, supervisor=False)
    with pytest.raises(domain.ValidationError, match="comment"):
        cases.check_review("returned", "  ", supervisor=True)
    assert cases.check_review("returned", " 补拍照片 ", supervisor=True) == "补拍照片"


@pytest.mark.parametrize("bad", [0, 150, -5, True, "20"])
def test_a_sample_outside_1_to_100_percent_is_refused(bad: object) -> None:
    with pytest.raises(domain.ValidationError) as refused:
        cases.check_sample(bad)
    assert "1%到100%" in refused.value.zh


def test_the_wire_form_reads_back_the_same_case() -> None:
    case = cases.escalate(
        rectify(a_case(), 1),
        step("interview_scheduled", place="局", attendees="张三、李四"),
        supervisor=True,
    )
    assert cases.case_from_wire(cases.case_to_wire(case)) == case


def test_a_later_visit_without_a_date_erases_nothing() -> None:
    d = date
    assert cases.follow_up_on([(d(2026, 11, 1), d(2026, 11, 15)), (d(2026, 11, 5), None)]) == d(
        2026, 11, 15
    )
    # a visit on or after the date meets it
    assert cases.follow_up_on([(d(2026, 11, 1), d(2026, 11, 15)), (d(2026, 11, 15), None)]) is None
    # a later visit may move it
    assert cases.follow_up_on(
        [(d(2026, 11, 5), d(2026, 11, 30)), (d(2026, 11, 1), d(2026, 11, 15))]
    ) == d(2026, 11, 30)


@given(
    st.lists(
        st.tuples(
            st.dates(date(2026, 1, 1), date(2026, 12, 31)),
            st.none() | st.dates(date(2026, 1, 1), date(2027, 3, 1)),
        ),
        max_size=8,
    )
)
def test_visits_without_a_date_never_change_the_follow_up(
    visits: list[tuple[date, date | None]],
) -> None:
    base = cases.follow_up_on(visits)
    if base is not None:
        quiet_day = base - timedelta(days=1)
        later = [*visits, (max([quiet_day, *(v[0] for v in visits)]), None)]
        if later[-1][0] < base:
            assert cases.follow_up_on(later) == base


@pytest.mark.parametrize(
    ("on", "where"),
    [(date(2026, 11, 30), "overdue"), (date(2026, 12, 1), "today"), (date(2026, 12, 7), "week")],
)
def test_buckets_of_the_due_list(on: date, where: str) -> None:
    assert cases.bucket(on, date(2026, 12, 1)) == where
    assert cases.bucket(date(2026, 12, 8), date(2026, 12, 1)) is None


def test_an_empty_completed_visit_says_what_is_missing() -> None:
    empty = domain.Visit("v", "JG1", "T", "guidance", datetime(2026, 11, 2, 9), outcome="completed")
    with pytest.raises(domain.ValidationError) as refused:
        domain.check_recorded(empty)
    assert "什么都没有记录" in refused.value.zh and "records nothing" in refused.value.en
    with pytest.raises(domain.ValidationError, match="Choose the visit's outcome"):
        domain.check_recorded(domain.Visit("v", "JG1", "T", "guidance", datetime(2026, 11, 2)))
    domain.check_recorded(
        domain.Visit(
            "v", "JG1", "T", "guidance", datetime(2026, 11, 2), outcome="completed", notes="好"
        )
    )
    domain.check_recorded(
        domain.Visit("v", "JG1", "T", "guidance", datetime(2026, 11, 2), outcome="not_found")
    )
    assert domain.check_recorded(empty, evidence=1) is empty  # a photo is something recorded
    with pytest.raises(domain.ValidationError, match="or add a photo"):
        domain.check_recorded(empty, evidence=0)
