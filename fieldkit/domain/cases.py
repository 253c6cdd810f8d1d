"""Enforcement cases: a rectification notice's items, its deadline, its escalation and its state.

A case is opened by the rectification notice of a visit (its id is that visit's id). Its state
is never stored: it follows from its items, its escalation and a given date, so the laptop and
the office compute the same thing from the same facts.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import date, timedelta
from typing import Any

from .case_model import (
    APPROVED,
    CASE_STATE_NAMES,
    CASE_STATES,
    CLOSED,
    DUE,
    DUE_WITHIN_DAYS,
    ESCALATED,
    ESCALATION_NAMES,
    ESCALATION_STEPS,
    INTERVIEW_HELD,
    INTERVIEW_SCHEDULED,
    ITEM_STATUS_NAMES,
    ITEM_STATUSES,
    OPEN,
    OVERDUE,
    RECTIFIED,
    RETURNED,
    REVIEW_DECISIONS,
    REVIEW_NAMES,
    REVOCATION_RECOMMENDED,
    ROUND_FILTER_NAMES,
    ROUND_FILTERS,
    SUPERVISOR,
    WAIVED,
    Case,
    CaseItem,
    Escalation,
    _refuse,
)
from .case_wire import case_from_wire, case_to_wire, escalation_from_op
from .visits import RECTIFICATION_CHECK, Visit

# The case's parts and wire forms, reachable from here as before the split.
__all__ = [
    "APPROVED",
    "BUCKETS",
    "BUCKET_NAMES",
    "CASE_STATES",
    "CASE_STATE_NAMES",
    "CLOCK",
    "CLOSED",
    "Case",
    "CaseItem",
    "DUE",
    "DUE_WITHIN_DAYS",
    "ESCALATED",
    "ESCALATION_NAMES",
    "ESCALATION_STEPS",
    "Escalation",
    "INTERVIEW_HELD",
    "INTERVIEW_SCHEDULED",
    "ITEM_STATUSES",
    "ITEM_STATUS_NAMES",
    "OPEN",
    "OVERDUE",
    "OVERDUE_BUCKET",
    "RECTIFIED",
    "RETURNED",
    "REVIEW_DECISIONS",
    "REVIEW_NAMES",
    "REVOCATION_RECOMMENDED",
    "ROUND_FILTERS",
    "ROUND_FILTER_NAMES",
    "SUPERVISOR",
    "TODAY_BUCKET",
    "WAIVED",
    "WEEK_BUCKET",
    "bucket",
    "case_from_wire",
    "case_state",
    "case_to_wire",
    "change_item",
    "check_review",
    "check_round",
    "check_sample",
    "escalate",
    "escalation_from_op",
    "follow_up_on",
    "open_case",
    "phase",
    "state_of",
]

CLOCK = "clock"  # the phase of a case whose state the date decides (open, due, overdue)


def phase(case: Case) -> str:
    """closed, escalated (an interview pending or a revocation recommended) or clock."""
    taken = case.steps_taken
    if CLOSED in taken:
        return CLOSED
    if REVOCATION_RECOMMENDED in taken or (taken and taken[-1] == INTERVIEW_SCHEDULED):
        return ESCALATED
    return CLOCK


def state_of(case_phase: str, open_items: int, deadline: date, today: date) -> str:
    """A case's state from its phase, its open items and the deadline that runs, on `today`."""
    if case_phase == CLOSED:
        return CLOSED
    if open_items == 0:
        return RECTIFIED
    if case_phase == ESCALATED:
        return ESCALATED
    if today > deadline:
        return OVERDUE
    if (deadline - today).days <= DUE_WITHIN_DAYS:
        return DUE
    return OPEN


def case_state(case: Case, today: date) -> str:
    """open, due (deadline within 3 days), overdue, rectified, escalated or closed, on `today`.

    An interview held with a new deadline puts the case back on the clock (due/overdue by the
    new deadline); while an interview is only scheduled, or a revocation is recommended, the
    case is `escalated`.
    """
    return state_of(phase(case), case.open_items, case.current_deadline, today)


def open_case(visit: Visit) -> Case | None:
    """The case a visit's rectification notice opens (None without a notice)."""
    notice = visit.rectification
    if notice is None:
        return None
    return Case(
        case_id=visit.visit_id,
        institution_id=visit.institution_id,
        issued_by=visit.technician_id,
        issued_on=visit.started_at.date(),
        deadline=notice.deadline,
        items=tuple(CaseItem(text.strip()) for text in notice.items if text.strip()),
    )


def change_item(
    case: Case,
    index: int,
    status: str,
    *,
    reason: str | None,
    visit: Visit | None,
    by: str,
    on: date,
    supervisor: bool = False,
) -> Case:
    """The case with item `index` set to `status` (checked: a closed item is not closed again)."""
    if CLOSED in case.steps_taken:
        raise _refuse(
            "case_closed",
            "此案件已结案，不能再修改整改项",
            "This case is closed; its items can no longer change",
            "status",
        )
    if not isinstance(index, int) or isinstance(index, bool) or not 0 <= index < len(case.items):
        raise _refuse(
            "case_item",
            f"整改通知书没有第{index + 1 if isinstance(index, int) else index}项（共{len(case.items)}项）",
            f"The notice has no item {index} (it has {len(case.items)})",
            "item",
        )
    if status not in ITEM_STATUSES:
        raise _refuse(
            "case_item_status",
            f"整改项状态应为：{'、'.join(ITEM_STATUSES)}",
            f"An item's status must be one of {', '.join(ITEM_STATUSES)}",
            "status",
        )
    item = case.items[index]
    reason = reason.strip() if reason and reason.strip() else None
    if status == OPEN:
        if item.status == OPEN:
            raise _refuse(
                "case_item_open", "该整改项本来就未整改", "This item is already open", "status"
            )
        if not supervisor:
            raise _refuse(
                "case_item_reopen",
                "只有主管可以重新打开已整改或免于整改的项",
                "Only a supervisor can reopen a rectified or waived item",
                "status",
            )
        changed = CaseItem(item.text, OPEN, reason, None, by, on)
    else:
        if item.status != OPEN:
            zh, en = ITEM_STATUS_NAMES[item.status]
            raise _refuse(
                "case_item_closed",
                f"第{index + 1}项已是“{zh}”，不能再次关闭",
                f"Item {index + 1} is already {en}; it cannot be closed twice",
                "status",
            )
        if status == WAIVED and reason is None:
            raise _refuse(
                "case_item_reason",
                "免于整改须写明原因",
                "Waiving an item needs a reason",
                "reason",
            )
        if status == RECTIFIED:
            if visit is None or visit.kind != RECTIFICATION_CHECK:
                raise _refuse(
                    "case_item_visit",
                    "整改项须由一次“整改复查”走访确认为已整改",
                    "An item is confirmed rectified by a rectification-check visit",
                    "visit_id",
                )
            if visit.institution_id != case.institution_id:
                raise _refuse(
                    "case_item_visit",
                    "复查走访不是这家机构的",
                    "The check visit is of another institution",
                    "visit_id",
                )
        changed = CaseItem(item.text, status, reason, visit.visit_id if visit else None, by, on)
    items = case.items[:index] + (changed,) + case.items[index + 1 :]
    return replace(case, items=items)


def escalate(case: Case, step: Escalation, *, supervisor: bool) -> Case:
    """The case with one more escalation step (checked: by a supervisor, in order)."""
    if not supervisor:
        raise _refuse(
            "escalation_role",
            "只有主管可以升级或结案",
            "Only a supervisor can escalate or close a case",
            "step",
        )
    if step.step not in ESCALATION_STEPS:
        raise _refuse(
            "escalation_step",
            f"升级步骤应为：{'、'.join(ESCALATION_STEPS)}",
            f"An escalation step must be one of {', '.join(ESCALATION_STEPS)}",
            "step",
        )
    taken = case.steps_taken
    last = taken[-1] if taken else None
    zh, en = ESCALATION_NAMES[step.step]
    if CLOSED in taken:
        raise _refuse("case_closed", "此案件已结案", "This case is already closed", "step")
    if step.step == INTERVIEW_SCHEDULED and REVOCATION_RECOMMENDED in taken:
        raise _refuse(
            "escalation_order",
            "已建议吊销许可证，不能再安排约谈",
            "A revocation is already recommended; no further interview can be scheduled",
            "step",
        )
    if step.step == INTERVIEW_HELD and last != INTERVIEW_SCHEDULED:
        raise _refuse(
            "escalation_order",
            "须先安排约谈，才能记录约谈已进行",
            "Schedule the interview before recording it as held",
            "step",
        )
    if step.step == REVOCATION_RECOMMENDED and INTERVIEW_HELD not in taken:
        raise _refuse(
            "escalation_order",
            "须先进行约谈，才能建议吊销办学许可证",
            "An interview must be held before a revocation can be recommended",
            "step",
        )
    if step.step == REVOCATION_RECOMMENDED and last == REVOCATION_RECOMMENDED:
        raise _refuse(
            "escalation_order", "已建议吊销", "A revocation is already recommended", "step"
        )
    if step.step == CLOSED and case.open_items and REVOCATION_RECOMMENDED not in taken:
        raise _refuse(
            "case_open_items",
            f"还有{case.open_items}项未整改，须整改、免于整改或建议吊销后才能结案",
            f"{case.open_items} item(s) are still open: rectify or waive them, or recommend "
            "revocation, before closing",
            "step",
        )
    if step.on < case.issued_on:
        raise _refuse(
            "escalation_date",
            f"“{zh}”的日期早于整改通知书（{case.issued_on.isoformat()}）",
            f"The date of '{en}' is before the notice ({case.issued_on.isoformat()})",
            "on",
        )
    if step.step == INTERVIEW_SCHEDULED and not (step.place or "").strip():
        raise _refuse("interview_place", "请填写约谈地点", "Give the interview's place", "place")
    if step.step == INTERVIEW_HELD:
        if not (step.outcome or "").strip():
            raise _refuse(
                "interview_outcome", "请填写约谈结果", "Give the interview's outcome", "outcome"
            )
        if step.new_deadline is not None and step.new_deadline < step.on:
            raise _refuse(
                "rectification_deadline",
                "新的整改期限不能早于约谈日期",
                "The new deadline is before the interview",
                "new_deadline",
            )
    if step.step == REVOCATION_RECOMMENDED and not step.note.strip():
        raise _refuse(
            "revocation_reason",
            "建议吊销须写明理由",
            "A revocation recommendation needs its reason",
            "note",
        )
    return replace(case, escalation=case.escalation + (step,))


def check_review(decision: str, comment: str | None, *, supervisor: bool) -> str:
    """A supervisor's review of a visit, checked; returns the comment (stripped)."""
    if not supervisor:
        raise _refuse(
            "review_role",
            "只有主管可以审核走访",
            "Only a supervisor can review a visit",
            "decision",
        )
    if decision not in REVIEW_DECISIONS:
        raise _refuse(
            "review_decision",
            "审核结果应为 approved（通过）或 returned（退回）",
            "A review is approved or returned",
            "decision",
        )
    text = (comment or "").strip()
    if decision == RETURNED and not text:
        raise _refuse(
            "review_comment",
            "退回走访须写明要修改什么",
            "Returning a visit needs a comment saying what to amend",
            "comment",
        )
    return text


def check_sample(percent: Any) -> int:
    """A look-back round's sample, 1 to 100 per cent."""
    if isinstance(percent, bool) or not isinstance(percent, int | float) or not 1 <= percent <= 100:
        raise _refuse(
            "round_sample",
            f"抽查比例应为1%到100%（收到{percent}%）",
            f"The sample must be 1% to 100% (got {percent}%)",
            "sample",
        )
    return int(percent)


def check_round(due_on: date, today: date, filter_name: str) -> None:
    """A look-back round's due date and filter."""
    if due_on < today:
        raise _refuse(
            "round_due",
            f"回头看的到期日期（{due_on.isoformat()}）已过，请选今天或以后",
            f"The round's due date ({due_on.isoformat()}) has passed; choose today or later",
            "due",
        )
    if filter_name not in ROUND_FILTERS:
        raise _refuse(
            "round_filter",
            f"筛选条件应为：{'、'.join(ROUND_FILTERS)}",
            f"The filter must be one of {', '.join(ROUND_FILTERS)}",
            "filter",
        )


def follow_up_on(visits: Iterable[tuple[date, date | None]]) -> date | None:
    """The follow-up date that stands after these visits (start date, next date set), in any order.

    The latest date a visit set stands until a later visit meets it (on or after that date): a
    visit that leaves the date empty erases nothing.
    """
    due: date | None = None
    for started, next_on in sorted(visits, key=lambda v: v[0]):
        if due is not None and started >= due:
            due = None
        if next_on is not None:
            due = next_on
    return due


OVERDUE_BUCKET = "overdue"
TODAY_BUCKET = "today"
WEEK_BUCKET = "week"
BUCKETS = (OVERDUE_BUCKET, TODAY_BUCKET, WEEK_BUCKET)
BUCKET_NAMES = {
    OVERDUE_BUCKET: ("已逾期", "overdue"),
    TODAY_BUCKET: ("今天", "today"),
    WEEK_BUCKET: ("本周", "this week"),
}


def bucket(on: date, today: date) -> str | None:
    """Where a dated task falls on the due list: overdue, today, this week (next 7 days) or None."""
    if on < today:
        return OVERDUE_BUCKET
    if on == today:
        return TODAY_BUCKET
    if on <= today + timedelta(days=6):
        return WEEK_BUCKET
    return None
