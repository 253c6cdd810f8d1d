"""A case on the wire: the `case` change's data, and an escalation read from its op."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from .case_model import (
    OPEN,
    Case,
    CaseItem,
    Escalation,
    _refuse,
)
from .errors import ValidationError


# --- wire ----------------------------------------------------------------------------------------
def _day(value: Any) -> date | None:
    return date.fromisoformat(value) if value else None


def case_to_wire(case: Case) -> dict[str, Any]:
    """A case as the ledger row of DESIGN.md (without its state, which needs a date)."""
    return {
        "case_id": case.case_id,
        "institution_id": case.institution_id,
        "visit_id": case.visit_id,
        "issued_by": case.issued_by,
        "issued_on": case.issued_on.isoformat(),
        "deadline": case.deadline.isoformat(),
        "current_deadline": case.current_deadline.isoformat(),
        "items": [
            {
                "text": i.text,
                "status": i.status,
                "reason": i.reason,
                "visit_id": i.visit_id,
                "by": i.by,
                "on": i.on.isoformat() if i.on else None,
            }
            for i in case.items
        ],
        "escalation": [
            {
                "step": e.step,
                "on": e.on.isoformat(),
                "by": e.by,
                "note": e.note,
                "place": e.place,
                "attendees": e.attendees,
                "outcome": e.outcome,
                "new_deadline": e.new_deadline.isoformat() if e.new_deadline else None,
            }
            for e in case.escalation
        ],
    }


def case_from_wire(data: Mapping[str, Any]) -> Case:
    """Read a case back from its wire form (ValidationError if malformed)."""
    try:
        return Case(
            case_id=str(data["case_id"]),
            institution_id=str(data["institution_id"]),
            issued_by=str(data.get("issued_by") or ""),
            issued_on=date.fromisoformat(data["issued_on"]),
            deadline=date.fromisoformat(data["deadline"]),
            items=tuple(
                CaseItem(
                    str(i["text"]),
                    str(i.get("status") or OPEN),
                    i.get("reason"),
                    i.get("visit_id"),
                    i.get("by"),
                    _day(i.get("on")),
                )
                for i in data.get("items") or ()
            ),
            escalation=tuple(
                Escalation(
                    str(e["step"]),
                    date.fromisoformat(e["on"]),
                    str(e.get("by") or ""),
                    str(e.get("note") or ""),
                    e.get("place"),
                    e.get("attendees"),
                    e.get("outcome"),
                    _day(e.get("new_deadline")),
                )
                for e in data.get("escalation") or ()
            ),
        )
    except (AttributeError, KeyError, TypeError, ValueError) as exc:
        raise ValidationError(
            "case_shape", f"案件数据格式错误：{exc}", f"Malformed case data: {exc}", "case"
        ) from None


def escalation_from_op(data: Mapping[str, Any], by: str) -> Escalation:
    """A `case.escalate` op's data as an escalation step (ValidationError if malformed)."""
    try:
        on = date.fromisoformat(str(data["on"]))
        new_deadline = _day(data.get("new_deadline"))
    except (KeyError, ValueError):
        raise _refuse(
            "escalation_date", "日期格式应为 YYYY-MM-DD", "Dates must be YYYY-MM-DD", "on"
        ) from None
    texts = {}
    for key in ("note", "place", "attendees", "outcome"):
        value = data.get(key)
        if value is not None and not isinstance(value, str):
            raise _refuse("escalation_shape", f"“{key}”应为文本", f"'{key}' must be text", key)
        texts[key] = value.strip() if isinstance(value, str) else None
    return Escalation(
        step=str(data.get("step")),
        on=on,
        by=by,
        note=texts["note"] or "",
        place=texts["place"],
        attendees=texts["attendees"],
        outcome=texts["outcome"],
        new_deadline=new_deadline,
    )
