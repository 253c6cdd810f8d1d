"""A case's parts: its items, its escalation, its states and their names in Chinese and English."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from .errors import ValidationError

OPEN = "open"
RECTIFIED = "rectified"
WAIVED = "waived"
ITEM_STATUSES = (OPEN, RECTIFIED, WAIVED)
ITEM_STATUS_NAMES = {
    OPEN: ("未整改", "open"),
    RECTIFIED: ("已整改", "rectified"),
    WAIVED: ("免于整改", "waived"),
}

DUE = "due"
OVERDUE = "overdue"
ESCALATED = "escalated"
CLOSED = "closed"
CASE_STATES = (OPEN, DUE, OVERDUE, RECTIFIED, ESCALATED, CLOSED)
CASE_STATE_NAMES = {
    OPEN: ("整改中", "open"),
    DUE: ("即将到期", "due"),
    OVERDUE: ("已逾期", "overdue"),
    RECTIFIED: ("已整改", "rectified"),
    ESCALATED: ("已升级", "escalated"),
    CLOSED: ("已结案", "closed"),
}
DUE_WITHIN_DAYS = 3

INTERVIEW_SCHEDULED = "interview_scheduled"
INTERVIEW_HELD = "interview_held"
REVOCATION_RECOMMENDED = "revocation_recommended"
ESCALATION_STEPS = (INTERVIEW_SCHEDULED, INTERVIEW_HELD, REVOCATION_RECOMMENDED, CLOSED)
ESCALATION_NAMES = {
    INTERVIEW_SCHEDULED: ("约谈已安排", "interview scheduled"),
    INTERVIEW_HELD: ("约谈已进行", "interview held"),
    REVOCATION_RECOMMENDED: ("建议吊销办学许可证", "licence revocation recommended"),
    CLOSED: ("结案", "closed"),
}

APPROVED = "approved"
RETURNED = "returned"
REVIEW_DECISIONS = (APPROVED, RETURNED)
REVIEW_NAMES = {APPROVED: ("已通过", "approved"), RETURNED: ("已退回", "returned")}

ROUND_FILTERS = ("all", "full_process", "not_full_process", "not_started", "blocked")
ROUND_FILTER_NAMES = {
    "all": ("全部机构", "all institutions"),
    "full_process": ("已全流程监管", "under full-process supervision"),
    "not_full_process": ("未全流程监管", "not yet under full-process supervision"),
    "not_started": ("尚未开始", "not started"),
    "blocked": ("有受阻步骤", "with a blocked step"),
}

SUPERVISOR = "supervisor"


@dataclass(frozen=True)
class CaseItem:
    """One item of a rectification notice: open, rectified (by a check visit) or waived."""

    text: str
    status: str = OPEN
    reason: str | None = None
    visit_id: str | None = None
    by: str | None = None
    on: date | None = None


@dataclass(frozen=True)
class Escalation:
    """One step of a case's escalation, taken by a supervisor."""

    step: str
    on: date
    by: str
    note: str = ""
    place: str | None = None
    attendees: str | None = None
    outcome: str | None = None
    new_deadline: date | None = None


@dataclass(frozen=True)
class Case:
    """A rectification case: opened by the notice of visit `case_id`."""

    case_id: str
    institution_id: str
    issued_by: str
    issued_on: date
    deadline: date
    items: tuple[CaseItem, ...]
    escalation: tuple[Escalation, ...] = ()

    @property
    def visit_id(self) -> str:
        """The visit whose notice opened the case (the case's id)."""
        return self.case_id

    @property
    def current_deadline(self) -> date:
        """The deadline that runs now: the last interview's new deadline, else the notice's."""
        for step in reversed(self.escalation):
            if step.step == INTERVIEW_HELD and step.new_deadline is not None:
                return step.new_deadline
        return self.deadline

    @property
    def steps_taken(self) -> tuple[str, ...]:
        """The escalation steps in the order they were taken."""
        return tuple(e.step for e in self.escalation)

    @property
    def open_items(self) -> int:
        """How many items are still to put right."""
        return sum(1 for i in self.items if i.status == OPEN)


def _refuse(code: str, zh: str, en: str, field: str) -> ValidationError:
    return ValidationError(code, zh, en, field)
