"""What the cache hands out: assignment rows, step states, institutions, visits and ops as plain values."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from typing import Any

from fieldkit import domain

INSTITUTION_FIELDS = domain.INSTITUTION_FIELDS
CONTACT_FIELDS = domain.CONTACT_FIELDS
VISIT_COLUMNS = (
    "visit_id",
    "institution_id",
    "technician_id",
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
)
VISIT_JSON = ("steps_advanced", "issues", "rectification")
SYNC_STATES = ("synced", "unsent", "sending", "rejected")
# json.dumps(value, ensure_ascii=False) with its encoder made once: a pulled page stores the
# text of thousands of values (institutions' payment, platform readings), the same text.
json_text = json.JSONEncoder(ensure_ascii=False).encode


@dataclass(frozen=True)
class AssignmentRow:
    """One line of the technician's assignment list."""

    id: str
    name: str
    division_code: str
    county: str
    done: int
    next_step: str | None
    bank_status: str
    last_visit_at: str | None
    next_visit_on: str | None
    blocked: bool
    full_process: bool
    unsent: int


@dataclass(frozen=True)
class StepState:
    """One checklist step of one institution, as the cache holds it."""

    step: str
    status: str
    reason: str | None
    note: str | None
    hlc: str | None
    updated_by: str | None
    sync_state: str


ASSIGNMENT_COLUMNS = (
    "id",
    "name",
    "division_code",
    "done",
    "next_step",
    "bank_status",
    "last_visit_at",
    "next_visit_on",
    "blocked",
    "full_process",
    "unsent",
)


def assignment_row(row: sqlite3.Row) -> AssignmentRow:
    """An AssignmentRow from a row selected with ASSIGNMENT_COLUMNS."""
    division = domain.DIVISIONS.get(row["division_code"])
    return AssignmentRow(
        id=row["id"],
        name=row["name"],
        division_code=row["division_code"],
        county=division.name if division else row["division_code"],
        done=row["done"],
        next_step=row["next_step"],
        bank_status=row["bank_status"],
        last_visit_at=row["last_visit_at"],
        next_visit_on=row["next_visit_on"],
        blocked=bool(row["blocked"]),
        full_process=bool(row["full_process"]),
        unsent=row["unsent"],
    )


def institution_dict(row: sqlite3.Row) -> dict[str, Any]:
    """The wire shape of an institution plus its sync_state."""
    out = {f: row[f] for f in INSTITUTION_FIELDS}
    out["payment"] = json.loads(row["payment"]) if row["payment"] else None
    out["sync_state"] = row["sync_state"]
    return out


def institution_params(inst: dict[str, Any]) -> dict[str, Any]:
    """Column values of an institution from its wire dict (missing optional fields defaulted)."""
    payment = inst.get("payment")
    return {
        "id": inst["id"],
        "name": inst["name"],
        "uscc": inst.get("uscc") or "",
        "licence_no": inst.get("licence_no") or "",
        "division_code": inst["division_code"],
        "address": inst.get("address") or "",
        "contact_name": inst.get("contact_name") or "",
        "contact_phone": inst.get("contact_phone") or "",
        "kind": inst.get("kind") or domain.NON_ACADEMIC,
        "pinyin": inst.get("pinyin") or "",
        "initials": inst.get("initials") or "",
        "bank_status": inst.get("bank_status") or "pending",
        "bank_reason": inst.get("bank_reason"),
        "payment": json.dumps(payment, ensure_ascii=False) if payment else None,
        "orders": int(inst.get("orders") or 0),
        "order_amount_fen": int(inst.get("order_amount_fen") or 0),
    }


def institution_row(inst: dict[str, Any]) -> tuple[Any, ...]:
    """institution_params as a tuple in INSTITUTION_FIELDS order (for executemany)."""
    payment = inst.get("payment")
    return (
        inst["id"],
        inst["name"],
        inst.get("uscc") or "",
        inst.get("licence_no") or "",
        inst["division_code"],
        inst.get("address") or "",
        inst.get("contact_name") or "",
        inst.get("contact_phone") or "",
        inst.get("kind") or domain.NON_ACADEMIC,
        inst.get("pinyin") or "",
        inst.get("initials") or "",
        inst.get("bank_status") or "pending",
        inst.get("bank_reason"),
        json_text(payment) if payment else None,
        int(inst.get("orders") or 0),
        int(inst.get("order_amount_fen") or 0),
    )


def step_state(row: sqlite3.Row) -> StepState:
    """A StepState from a steps row."""
    return StepState(
        step=row["step"],
        status=row["status"],
        reason=row["reason"],
        note=row["note"],
        hlc=row["hlc"],
        updated_by=row["updated_by"],
        sync_state=row["sync_state"],
    )


def visit_dict(row: sqlite3.Row) -> dict[str, Any]:
    """The visit_to_wire shape plus institution_id, technician_id and sync_state."""
    out: dict[str, Any] = {c: row[c] for c in VISIT_COLUMNS}
    for c in VISIT_JSON:
        out[c] = json.loads(row[c]) if row[c] else None
    out["interview_recommended"] = bool(row["interview_recommended"])
    out["amendments"] = json.loads(row["amendments"])
    out["sync_state"] = row["sync_state"]
    return out


def visit_params(data: dict[str, Any]) -> dict[str, Any]:
    """Column values of a visit from its wire dict."""
    out = {c: data.get(c) for c in VISIT_COLUMNS}
    out["steps_advanced"] = json.dumps(list(data.get("steps_advanced") or []))
    out["issues"] = json.dumps(list(data.get("issues") or []), ensure_ascii=False)
    rect = data.get("rectification")
    out["rectification"] = json.dumps(rect, ensure_ascii=False) if rect else None
    out["interview_recommended"] = int(bool(data.get("interview_recommended")))
    out["technician_id"] = data.get("technician_id") or ""
    out["notes"] = data.get("notes") or ""
    out["amendments"] = json.dumps(data.get("amendments") or [], ensure_ascii=False)
    return out


def op_dict(row: sqlite3.Row) -> dict[str, Any]:
    """An outbox op: the wire fields plus state, reason, message and created_at."""
    return {
        "op_id": row["op_id"],
        "hlc": row["hlc"],
        "kind": row["kind"],
        "institution_id": row["institution_id"],
        "data": json.loads(row["data"]),
        "state": row["state"],
        "reason": row["reason"],
        "message": row["message"],
        "created_at": row["created_at"],
    }
