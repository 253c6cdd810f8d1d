"""The office's rows as they go on the wire: the data of each change kind, and the snapshot of an institution."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import (
    Connection,
    select,
)

from fieldkit import domain

from .changelog import _chunks
from .schema import (
    INITIAL_STAMP,
    attachments,
    cases,
    institutions,
    reviews,
    round_members,
    rounds,
    steps,
    stored_files,
    visits,
)

# --- wire shapes ---------------------------------------------------------------------------------
# The institution fields stored in columns of the same name (the payment is two columns).
INSTITUTION_WIRE = tuple(k for k in domain.INSTITUTION_FIELDS if k != "payment")


def _mapping(row: Any) -> Mapping[str, Any]:
    return row._mapping if hasattr(row, "_mapping") else row


def institution_wire(row: Any) -> dict[str, Any]:
    """An institution (row or column mapping) as the `institution` change data of DESIGN.md."""
    m = _mapping(row)
    data = {k: m[k] for k in INSTITUTION_WIRE}
    data["payment"] = (
        {"payload": m["payment_payload"], "signature": m["payment_signature"]}
        if m["payment_payload"]
        else None
    )
    data["hlc"] = m["hlc"] or INITIAL_STAMP
    return data


def step_wire(row: Any) -> dict[str, Any]:
    """A steps row as the `step` change data."""
    m = _mapping(row)
    return {
        "institution_id": m["institution_id"],
        "step": m["step"],
        "status": m["status"],
        "reason": m["reason"],
        "note": m["note"],
        "hlc": m["hlc"],
        "updated_by": m["updated_by"],
    }


def visit_wire(row: Any) -> dict[str, Any]:
    """A visits row as the `visit` change data (amendments applied)."""
    m = _mapping(row)
    return dict(m["data"]) | {
        "institution_id": m["institution_id"],
        "technician_id": m["technician_id"],
        "hlc": m["hlc"],
    }


def institution_change(row: Any) -> dict[str, Any]:
    """The change-log row for an institution's current master data."""
    data = institution_wire(row)
    return {
        "kind": "institution",
        "entity_id": data["id"],
        "institution_id": data["id"],
        "division_code": data["division_code"],
        "data": data,
    }


def step_change(row: Any, division_code: str) -> dict[str, Any]:
    """The change-log row for one step's current state."""
    data = step_wire(row)
    return {
        "kind": "step",
        "entity_id": f"{data['institution_id']}:{data['step']}",
        "institution_id": data["institution_id"],
        "division_code": division_code,
        "data": data,
    }


def visit_change(row: Any, division_code: str) -> dict[str, Any]:
    """The change-log row for one visit's current state."""
    data = visit_wire(row)
    return {
        "kind": "visit",
        "entity_id": data["visit_id"],
        "institution_id": data["institution_id"],
        "division_code": division_code,
        "data": data,
    }


def snapshot_changes(conn: Connection, institution_ids: Sequence[str]) -> list[dict[str, Any]]:
    """Fresh changes for the whole current state (institution, steps, visits) of institutions."""
    rows: list[dict[str, Any]] = []
    for chunk in _chunks(list(institution_ids), 500):
        found = conn.execute(
            select(institutions).where(institutions.c.id.in_(chunk)).order_by(institutions.c.id)
        ).all()
        division = {r.id: r.division_code for r in found}
        rows += [institution_change(r) for r in found]
        step_rows = conn.execute(select(steps).where(steps.c.institution_id.in_(chunk))).all()
        rows += [step_change(r, division[r.institution_id]) for r in step_rows]
        visit_rows = conn.execute(
            select(visits).where(visits.c.institution_id.in_(chunk)).order_by(visits.c.received_at)
        ).all()
        rows += [visit_change(r, division[r.institution_id]) for r in visit_rows]
        rows += enforcement_changes(conn, chunk, division)
        rows += platform_changes(conn, chunk, division)
        rows += attachment_changes(conn, attachments.c.institution_id.in_(chunk))
    return rows


def case_change(row: Any) -> dict[str, Any]:
    """The change-log row for one case (items and escalation as the office holds them)."""
    m = _mapping(row)
    return {
        "kind": "case",
        "entity_id": m["case_id"],
        "institution_id": m["institution_id"],
        "division_code": m["division_code"],
        "data": dict(m["data"]) | {"hlc": m["hlc"]},
    }


def review_change(row: Any, division_code: str, amended: bool = False) -> dict[str, Any]:
    """The change-log row for the latest review of one visit (`amended`: changed since)."""
    m = _mapping(row)
    return {
        "kind": "review",
        "entity_id": m["visit_id"],
        "institution_id": m["institution_id"],
        "division_code": division_code,
        "data": {
            "visit_id": m["visit_id"],
            "institution_id": m["institution_id"],
            "decision": m["decision"],
            "comment": m["comment"],
            "reviewer_id": m["reviewer_id"],
            "reviewed_on": m["reviewed_on"],
            "hlc": m["hlc"],
            "amended": amended,
        },
    }


def round_change(round_row: Any, institution_id: str, division_code: str) -> dict[str, Any]:
    """The change-log row for one institution picked by a look-back round."""
    m = _mapping(round_row)
    return {
        "kind": "round",
        "entity_id": f"{m['round_id']}:{institution_id}",
        "institution_id": institution_id,
        "division_code": division_code,
        "data": {
            "round_id": m["round_id"],
            "institution_id": institution_id,
            "division_code": m["division_code"],
            "due_on": m["due_on"],
            "created_on": m["created_on"],
            "created_by": m["created_by"],
            "filter": m["filter"],
            "sample": m["sample"],
        },
    }


def amended_since(field_hlcs: Mapping[str, str] | None, hlc: str) -> bool:
    """Whether a visit (its per-field stamps) was amended after the stamp `hlc`."""
    return any(domain.newer(stamp, hlc) for stamp in (field_hlcs or {}).values() if stamp)


def latest_reviews(conn: Connection, visit_ids: Sequence[str]) -> dict[str, Any]:
    """The latest review row of each of these visits (by stamp)."""
    found: dict[str, Any] = {}
    for chunk in _chunks(list(visit_ids), 500):
        for row in conn.execute(
            select(reviews).where(reviews.c.visit_id.in_(chunk)).order_by(reviews.c.hlc)
        ):
            found[row.visit_id] = row
    return found


def enforcement_changes(
    conn: Connection, institution_ids: Sequence[str], division: Mapping[str, str]
) -> list[dict[str, Any]]:
    """Fresh changes for the cases, latest reviews and round picks of these institutions."""
    rows = [
        case_change(r)
        for r in conn.execute(select(cases).where(cases.c.institution_id.in_(institution_ids)))
    ]
    visit_ids = [
        r[0]
        for r in conn.execute(
            select(reviews.c.visit_id).where(reviews.c.institution_id.in_(institution_ids))
        )
    ]
    latest = latest_reviews(conn, sorted(set(visit_ids)))
    hlcs: dict[str, Any] = {}
    if latest:
        query = select(visits.c.visit_id, visits.c.field_hlcs).where(visits.c.visit_id.in_(latest))
        hlcs = {r[0]: r[1] for r in conn.execute(query)}
    rows += [
        review_change(r, division[r.institution_id], amended_since(hlcs.get(r.visit_id), r.hlc))
        for r in latest.values()
    ]
    joined = round_members.join(rounds, rounds.c.round_id == round_members.c.round_id)
    for r in conn.execute(
        select(rounds, round_members.c.institution_id)
        .select_from(joined)
        .where(round_members.c.institution_id.in_(institution_ids))
    ):
        rows.append(round_change(r, r.institution_id, division[r.institution_id]))
    return rows


def platform_changes(
    conn: Connection, institution_ids: Sequence[str], division: Mapping[str, str]
) -> list[dict[str, Any]]:
    """Fresh `platform` and `course` changes for institutions (ids → division code given)."""
    from .platform import platform_change_rows  # the platform's readings live there

    return platform_change_rows(conn, list(institution_ids), division)


def attachment_changes(conn: Connection, where: Any) -> list[dict[str, Any]]:
    """Change-log rows for the attachments matching `where` (with whether their file is stored)."""
    found = conn.execute(
        select(attachments, institutions.c.division_code, stored_files.c.sha256.label("held"))
        .join(institutions, institutions.c.id == attachments.c.institution_id)
        .outerjoin(stored_files, stored_files.c.sha256 == attachments.c.sha256)
        .where(where)
        .order_by(attachments.c.received_at, attachments.c.attachment_id)
    ).all()
    return [
        {
            "kind": "attachment",
            "entity_id": r.attachment_id,
            "institution_id": r.institution_id,
            "division_code": r.division_code,
            "data": dict(r.data)
            | {
                "institution_id": r.institution_id,
                "added_by": r.technician_id,
                "added_at": r.received_at,
                "hlc": r.hlc,
                "stored": r.held is not None,
            },
        }
        for r in found
    ]
