"""Applying the office's institution and visit changes (a pull never overwrites local edits)."""

from __future__ import annotations

import sqlite3
from typing import Any

from fieldkit import domain

from .rows import CONTACT_FIELDS, institution_params, visit_params
from .statements import INST_UPSERT, VISIT_UPSERT

NO_PROGRESS: dict[str, Any] = {
    "sync_state": "synced",
    "done": 0,
    "done_mask": 0,
    "touched": 0,
    "next_step": domain.STEP_KEYS[0],
    "blocked": 0,
    "full_process": 0,
    "last_visit_at": None,
    "next_visit_on": None,
    "unsent": 0,
}


def apply_institution(conn: sqlite3.Connection, data: dict[str, Any], dirty: set[str]) -> str:
    """Upsert an institution, keeping contact fields with unsent local edits; return its id."""
    params = institution_params(data)
    inst_id = params["id"]
    row = conn.execute(
        "SELECT contact_name, contact_phone FROM institutions WHERE id = ?", (inst_id,)
    ).fetchone()
    for field in CONTACT_FIELDS:
        if row is not None and f"{field}:{inst_id}" in dirty:
            params[field] = row[field]  # a local edit not yet accepted wins until it is
    # A new row starts with no progress; the caller refreshes it once the page is applied.
    params.update(NO_PROGRESS)
    conn.execute(INST_UPSERT, params)
    conn.execute("DELETE FROM pending_removals WHERE institution_id = ?", (inst_id,))
    return str(inst_id)


def apply_visit(conn: sqlite3.Connection, data: dict[str, Any], dirty: set[str]) -> set[str]:
    """Upsert a visit by visit_id unless it has unsent local ops; return its institution."""
    if f"visit:{data['visit_id']}" in dirty:
        return set()
    conn.execute(
        VISIT_UPSERT, {**visit_params(data), "hlc": data.get("hlc"), "sync_state": "synced"}
    )
    return {str(data["institution_id"])}
