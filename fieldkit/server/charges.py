"""`charge.observed`: what a technician saw an institution charge, checked again and kept with the visit."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import Connection, insert, select

from fieldkit import domain
from fieldkit.domain.courses import observed_breaches

from .auth import Caller
from .courses import course_of, courses_of
from .opdata import Rejected, text_field
from .store import courses, now_iso, observed_charges

SOURCES = ("price_board", "receipt", "contract", "word_of_mouth", "other")
MAX_FEN = 100_000_000  # one million yuan: no charge a parent pays at a desk


def _whole(
    data: dict[str, Any], key: str, low: int, high: int, required: bool = False
) -> int | None:
    value = data.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise Rejected(
            "invalid",
            f"“{key}”应为{low}到{high}之间的整数",
            f"'{key}' must be a whole number from {low} to {high}",
        )
    return value


def _day(data: dict[str, Any], key: str) -> date | None:
    text = text_field(data, key)
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise Rejected(
            "invalid", f"“{key}”应为 YYYY-MM-DD 日期", f"'{key}' must be a YYYY-MM-DD date"
        ) from None


def check_observed(conn: Connection, inst: Any, data: dict[str, Any]) -> dict[str, Any]:
    """The op's data checked and normalised, with the office's own verdict (Rejected otherwise)."""
    amount = _whole(data, "amount_fen", 0, MAX_FEN, required=True)
    assert amount is not None
    hours = _whole(data, "hours", 1, 10_000)
    months = _whole(data, "months", 1, 120)
    collected_on, start_on = _day(data, "collected_on"), _day(data, "start_on")
    course_id = text_field(data, "course_id")
    source = data.get("source", "other")
    if source not in SOURCES:
        raise Rejected(
            "invalid",
            f"来源应为 {', '.join(SOURCES)} 之一",
            f"source must be one of {', '.join(SOURCES)}",
        )
    course = None
    if course_id:
        row = conn.execute(
            select(courses).where(
                courses.c.institution_id == inst.id, courses.c.course_id == course_id
            )
        ).first()
        if row is not None:
            course = course_of(dict(row._mapping))
    kind = course.kind if course else (text_field(data, "kind") or inst.kind)
    if kind not in domain.INSTITUTION_KINDS:
        raise Rejected(
            "invalid", "类别应为 academic 或 non_academic", "kind must be academic or non_academic"
        )
    breaches = observed_breaches(kind, amount, hours, months, collected_on, course, start_on)
    value = {
        "visit_id": text_field(data, "visit_id"),
        "course_id": course_id,
        "course_name": text_field(data, "course_name") or (course.name if course else None),
        "kind": kind,
        "amount_fen": amount,
        "hours": hours,
        "months": months,
        "collected_on": collected_on.isoformat() if collected_on else None,
        "start_on": start_on.isoformat() if start_on else None,
        "source": source,
        "note": text_field(data, "note"),
        "listed": course is not None,
    }
    return value | {"breaches": [{"rule": b.rule, "zh": b.zh, "en": b.en} for b in breaches]}


def observed_charge(conn: Connection, caller: Caller, op: dict[str, Any], inst: Any) -> dict:
    """Keep an observed charge with its visit; its breaches, as the office sees them, in the answer."""
    value = check_observed(conn, inst, op["data"])
    conn.execute(
        insert(observed_charges).values(
            op_id=op["op_id"],
            institution_id=inst.id,
            visit_id=value["visit_id"],
            technician_id=caller.id,
            data={k: v for k, v in value.items() if k != "breaches"},
            breaches=value["breaches"],
            hlc=op["hlc"],
            received_at=now_iso(),
        )
    )
    return {}


def charges_of(conn: Connection, institution_id: str) -> list[dict[str, Any]]:
    """The charges observed at an institution, newest first, each with its breaches."""
    rows = conn.execute(
        select(observed_charges)
        .where(observed_charges.c.institution_id == institution_id)
        .order_by(observed_charges.c.received_at.desc())
    )
    return [
        dict(r.data)
        | {"op_id": r.op_id, "technician_id": r.technician_id, "breaches": list(r.breaches)}
        for r in rows
    ]


__all__ = ["charges_of", "check_observed", "courses_of", "observed_charge"]
