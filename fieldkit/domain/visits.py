"""Visits: appended, never overwritten; their kinds, outcomes and rectification notices."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import date, datetime
from typing import Any

from .errors import ValidationError
from .steps import STEP_KEYS

GUIDANCE = "guidance"
FOLLOW_UP = "follow_up"
RECTIFICATION_CHECK = "rectification_check"
VISIT_KINDS = (GUIDANCE, FOLLOW_UP, RECTIFICATION_CHECK)
VISIT_KIND_NAMES = {
    GUIDANCE: ("指导", "guidance"),
    FOLLOW_UP: ("回头看", "follow-up"),
    RECTIFICATION_CHECK: ("整改复查", "rectification check"),
}

OUTCOMES = ("completed", "partial", "closed", "not_found", "refused", "rescheduled")
OUTCOME_NAMES = {
    "completed": ("已完成", "completed"),
    "partial": ("部分完成", "partly done"),
    "closed": ("已停业", "closed down"),
    "not_found": ("未找到", "not found"),
    "refused": ("拒绝配合", "refused"),
    "rescheduled": ("改期", "rescheduled"),
}
AMENDABLE = (
    "ended_at",
    "outcome",
    "steps_advanced",
    "issues",
    "rectification",
    "interview_recommended",
    "next_visit_on",
    "notes",
)


@dataclass(frozen=True)
class Rectification:
    """A rectification notice (整改通知书): the items to put right and by when."""

    items: tuple[str, ...]
    deadline: date


@dataclass(frozen=True)
class Visit:
    """One visit to one institution by one technician."""

    visit_id: str
    institution_id: str
    technician_id: str
    kind: str
    started_at: datetime
    ended_at: datetime | None = None
    outcome: str | None = None
    steps_advanced: tuple[str, ...] = ()
    issues: tuple[str, ...] = ()
    rectification: Rectification | None = None
    interview_recommended: bool = False
    next_visit_on: date | None = None
    notes: str = ""
    extra: dict[str, Any] = field(default_factory=dict, compare=False)


_WIRE_FIELDS = tuple(f.name for f in fields(Visit) if f.name != "extra")


def validate_visit(visit: Visit) -> Visit:
    """Check a visit's kind, outcome, steps, times and rectification notice."""
    if visit.kind not in VISIT_KINDS:
        raise ValidationError(
            "visit_kind",
            f"未知的走访类型“{visit.kind}”，应为：{'、'.join(VISIT_KINDS)}",
            f"Unknown visit kind '{visit.kind}'; use one of {', '.join(VISIT_KINDS)}",
            "kind",
        )
    if visit.outcome is not None and visit.outcome not in OUTCOMES:
        raise ValidationError(
            "visit_outcome",
            f"未知的走访结果“{visit.outcome}”，应为：{'、'.join(OUTCOMES)}",
            f"Unknown visit outcome '{visit.outcome}'; use one of {', '.join(OUTCOMES)}",
            "outcome",
        )
    unknown = [s for s in visit.steps_advanced if s not in STEP_KEYS]
    if unknown:
        raise ValidationError(
            "visit_steps",
            f"未知的步骤：{', '.join(unknown)}",
            f"Unknown steps: {', '.join(unknown)}",
            "steps_advanced",
        )
    if visit.ended_at is not None:
        if (visit.ended_at.tzinfo is None) != (visit.started_at.tzinfo is None):
            raise ValidationError(
                "visit_times",
                "开始与结束时间须同时带或同时不带时区",
                "Start and end times must both have a time zone or both lack one",
                "ended_at",
            )
        if visit.ended_at < visit.started_at:
            raise ValidationError(
                "visit_times", "结束时间早于开始时间", "The visit ends before it starts", "ended_at"
            )
    if visit.rectification is not None:
        if not [i for i in visit.rectification.items if i.strip()]:
            raise ValidationError(
                "rectification_items",
                "整改通知书至少需要一项整改内容",
                "A rectification notice needs at least one item",
                "rectification",
            )
        if visit.rectification.deadline < visit.started_at.date():
            raise ValidationError(
                "rectification_deadline",
                "整改期限不能早于走访日期",
                "The rectification deadline is before the visit",
                "rectification",
            )
    if visit.next_visit_on is not None and visit.next_visit_on < visit.started_at.date():
        raise ValidationError(
            "next_visit",
            "下次走访日期不能早于本次走访",
            "The next visit date is before this visit",
            "next_visit_on",
        )
    return visit


def visit_to_wire(visit: Visit) -> dict[str, Any]:
    """The `visit.create` op data of DESIGN.md."""
    # Every other field holds a str, bool or None: read as they are (asdict would deep-copy).
    data = {name: getattr(visit, name) for name in _WIRE_FIELDS}
    data["started_at"] = visit.started_at.isoformat()
    data["ended_at"] = visit.ended_at.isoformat() if visit.ended_at else None
    data["next_visit_on"] = visit.next_visit_on.isoformat() if visit.next_visit_on else None
    data["steps_advanced"] = list(visit.steps_advanced)
    data["issues"] = list(visit.issues)
    data["rectification"] = (
        {
            "items": list(visit.rectification.items),
            "deadline": visit.rectification.deadline.isoformat(),
        }
        if visit.rectification
        else None
    )
    return data


def visit_from_wire(data: dict[str, Any]) -> Visit:
    """Read `visit.create` data (with institution_id and technician_id) back into a Visit."""
    try:
        rect = data.get("rectification")
        if rect is not None and not isinstance(rect.get("items"), list):
            raise TypeError("rectification items must be a list")
        if not isinstance(data.get("steps_advanced") or [], list):
            raise TypeError("steps_advanced must be a list")
        if not isinstance(data.get("issues") or [], list):
            raise TypeError("issues must be a list")
        return Visit(
            visit_id=str(data["visit_id"]),
            institution_id=str(data.get("institution_id", "")),
            technician_id=str(data.get("technician_id", "")),
            kind=str(data["kind"]),
            started_at=datetime.fromisoformat(data["started_at"]),
            ended_at=datetime.fromisoformat(data["ended_at"]) if data.get("ended_at") else None,
            outcome=data.get("outcome"),
            steps_advanced=tuple(data.get("steps_advanced") or ()),
            issues=tuple(str(i) for i in data.get("issues") or ()),
            rectification=Rectification(
                tuple(str(i) for i in rect["items"]), date.fromisoformat(rect["deadline"])
            )
            if rect
            else None,
            interview_recommended=bool(data.get("interview_recommended", False)),
            next_visit_on=date.fromisoformat(data["next_visit_on"])
            if data.get("next_visit_on")
            else None,
            notes=str(data.get("notes") or ""),
        )
    except (AttributeError, KeyError, TypeError, ValueError) as exc:
        raise ValidationError(
            "visit_shape", f"走访数据格式错误：{exc}", f"Malformed visit data: {exc}", "visit"
        ) from None


def check_recorded(visit: Visit, evidence: int = 0) -> Visit:
    """Refuse a visit saved as `completed` with nothing recorded (where the visit is entered).

    `evidence`: the photos, files and code checks saved with the visit; each counts as
    something recorded (a photo of the desk is a finding). Not part of `validate_visit`:
    visits saved before this rule must still sync.
    """
    if visit.outcome is None:
        raise ValidationError(
            "visit_outcome_missing",
            "请选择走访结果",
            "Choose the visit's outcome",
            "outcome",
        )
    recorded = (
        visit.steps_advanced
        or visit.issues
        or visit.rectification
        or visit.interview_recommended
        or visit.next_visit_on
        or visit.notes.strip()
        or visit.extra.get("rectified")
        or evidence > 0
    )
    if visit.outcome == "completed" and not recorded:
        raise ValidationError(
            "visit_empty",
            "走访结果为“已完成”，但什么都没有记录：请勾选推进的步骤，或填写发现的问题、"
            "整改通知、下次走访日期或备注，或附上照片",
            "The visit is marked completed but records nothing: tick the steps advanced, or "
            "fill in the issues found, a notice, the next visit date or notes, or add a photo",
            "outcome",
        )
    return visit
