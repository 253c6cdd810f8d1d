"""Read-only questions asked of the cache: the assignment list, one institution, progress and stats."""

from __future__ import annotations

import json
import sqlite3
from datetime import date
from typing import Any

from fieldkit import domain

from . import search
from .progress import STEP_BIT
from .rows import (
    ASSIGNMENT_COLUMNS,
    AssignmentRow,
    StepState,
    assignment_row,
    institution_dict,
    step_state,
    visit_dict,
)

FILTERS: dict[str, str] = {
    "all": "1",
    "not_started": "i.touched = 0",
    "in_progress": "i.touched > 0 AND i.blocked = 0 AND i.done < 11",
    "blocked": "i.blocked = 1",
    "full_process": "i.full_process = 1",
    "follow_up_due": "i.next_visit_on IS NOT NULL AND i.next_visit_on <= :today",
    # field and platform disagree (computed by cache.platform, handed in as a JSON list)
    "discrepancy": "i.id IN (SELECT value FROM json_each(:discrepant))",
}
SORTS: dict[str, str] = {
    # priority: overdue follow-ups first (longest overdue first; see assignments), then blocked,
    # then least progress
    "priority": "i.blocked DESC, i.done, i.pinyin, i.id",
    "name": "i.pinyin, i.name, i.id",
    "county": "i.division_code, i.pinyin, i.id",
}
SORT_INDEXES = {"priority": "institutions_priority"}
WALK_FILTERS = ("all", "not_started", "in_progress")
DUE = "i.next_visit_on <= :today"
DUE_INDEX = "institutions_due"
NOT_DUE = "(i.next_visit_on IS NULL OR i.next_visit_on > :today)"
# The priority order in one ORDER BY: overdue rows (longest overdue first), then the rest.
OVERDUE_FIRST = f"({DUE}) IS NOT 1, CASE WHEN {DUE} THEN i.next_visit_on END, {SORTS['priority']}"
LEVELS = ("county", "city")
_COLUMNS = ", ".join(f"i.{c}" for c in ASSIGNMENT_COLUMNS)


def _where(
    conn: sqlite3.Connection,
    matches: search.Matches | None,
    filter: str,
    today: date,
) -> tuple[str, dict[str, Any]]:
    if filter not in FILTERS:
        raise ValueError(f"unknown filter {filter!r}; one of {', '.join(FILTERS)}")
    params: dict[str, Any] = {"today": today.isoformat()}
    if filter == "discrepancy":
        from . import platform  # (platform imports the store's edits, which import this module)

        params["discrepant"] = json.dumps(sorted(platform.discrepant_ids(conn, today)))
    if matches is None:
        return FILTERS[filter], params
    condition, values = matches.sql()
    return f"{condition} AND {FILTERS[filter]}", {**params, **values}


def assignments(
    conn: sqlite3.Connection,
    matches: search.Matches | None,
    filter: str,
    sort: str,
    limit: int,
    offset: int,
    today: date,
) -> list[AssignmentRow]:
    """One page of the assignment list (`matches`: what the search box matches, None: all)."""
    if sort not in SORTS:
        raise ValueError(f"unknown sort {sort!r}; one of {', '.join(SORTS)}")
    where, params = _where(conn, matches, filter, today)
    limit, offset = max(0, int(limit)), max(0, int(offset))
    # Many matches (a mask, not rowids) and a filter most rows pass: walking the sort's index
    # stops after one page (a selective filter scans the table instead, as SQLite plans it).
    walk = filter in WALK_FILTERS and (matches is None or matches.rowids_json is None)
    index = SORT_INDEXES.get(sort) if walk else None
    if sort != "priority":
        return _page(conn, where, params, SORTS[sort], index, limit, offset)
    if matches is not None and matches.rowids_json is not None:  # few matches: sorted in one
        return _page(conn, where, params, OVERDUE_FIRST, None, limit, offset)  # pass, not three
    # Overdue rows come first; the partial index holds only rows with a follow-up date.
    due = _count(conn, f"{where} AND {DUE}", params, DUE_INDEX)
    rows: list[AssignmentRow] = []
    if offset < due:
        rows = _page(
            conn,
            f"{where} AND {DUE}",
            params,
            "i.next_visit_on, " + SORTS[sort],
            DUE_INDEX,
            limit,
            offset,
        )
    if len(rows) < limit:
        rows += _page(
            conn,
            f"{where} AND {NOT_DUE}",
            params,
            SORTS[sort],
            index,
            limit - len(rows),
            max(0, offset - due),
        )
    return rows


def _page(
    conn: sqlite3.Connection,
    where: str,
    params: dict[str, Any],
    order: str,
    index: str | None,
    limit: int,
    offset: int,
) -> list[AssignmentRow]:
    indexed_by = f" INDEXED BY {index}" if index else ""
    rows = conn.execute(
        f"SELECT {_COLUMNS} FROM institutions i{indexed_by} WHERE {where} ORDER BY {order} "
        "LIMIT :limit OFFSET :offset",
        {**params, "limit": limit, "offset": offset},
    )
    return [assignment_row(r) for r in rows]


def _count(
    conn: sqlite3.Connection, where: str, params: dict[str, Any], index: str | None = None
) -> int:
    indexed_by = f" INDEXED BY {index}" if index else ""
    return int(
        conn.execute(
            f"SELECT count(*) FROM institutions i{indexed_by} WHERE {where}", params
        ).fetchone()[0]
    )


def count_assignments(
    conn: sqlite3.Connection,
    matches: search.Matches | None,
    filter: str,
    today: date,
) -> int:
    """How many rows the assignment list has for this search and filter."""
    if filter == "all" and matches is not None:
        return matches.count  # (before _where: the matches' SQL form is not needed)
    where, params = _where(conn, matches, filter, today)
    return _count(conn, where, params)


def institution(conn: sqlite3.Connection, inst_id: str) -> dict[str, Any] | None:
    """One institution in wire shape plus sync_state."""
    row = conn.execute("SELECT * FROM institutions WHERE id = ?", (inst_id,)).fetchone()
    return institution_dict(row) if row else None


def step_states(conn: sqlite3.Connection, inst_id: str) -> dict[str, StepState]:
    """All eleven steps, in checklist order; steps the cache has no row for are todo."""
    held = {
        r["step"]: step_state(r)
        for r in conn.execute("SELECT * FROM steps WHERE institution_id = ?", (inst_id,))
    }
    return {
        key: held.get(key) or StepState(key, domain.TODO, None, None, None, None, "synced")
        for key in domain.STEP_KEYS
    }


def visits(conn: sqlite3.Connection, inst_id: str | None) -> list[dict[str, Any]]:
    """Visits newest first."""
    if inst_id is None:
        rows = conn.execute("SELECT * FROM visits ORDER BY started_at DESC, visit_id")
    else:
        rows = conn.execute(
            "SELECT * FROM visits WHERE institution_id = ? ORDER BY started_at DESC, visit_id",
            (inst_id,),
        )
    return [visit_dict(r) for r in rows]


def visit_from_row(row: sqlite3.Row) -> dict[str, Any]:
    """A visit row as the dict visit_from_wire reads (plus amendments and sync_state)."""
    return visit_dict(row)


def events(conn: sqlite3.Connection, inst_id: str) -> list[dict[str, Any]]:
    """Posters printed and codes checked, newest first."""
    rows = conn.execute(
        "SELECT * FROM events WHERE institution_id = ? ORDER BY created_at DESC, hlc DESC",
        (inst_id,),
    )
    return [
        {
            "event_id": r["event_id"],
            "institution_id": r["institution_id"],
            "visit_id": r["visit_id"],
            "kind": r["kind"],
            "data": json.loads(r["data"]),
            "hlc": r["hlc"],
            "created_at": r["created_at"],
            "sync_state": r["sync_state"],
        }
        for r in rows
    ]


def _step_sums() -> str:
    return ", ".join(f"sum((i.done_mask & {bit}) != 0) AS s_{key}" for key, bit in STEP_BIT.items())


def _by_step(row: sqlite3.Row) -> dict[str, int]:
    return {key: int(row[f"s_{key}"] or 0) for key in domain.STEP_KEYS}


def progress(conn: sqlite3.Connection, level: str) -> list[dict[str, Any]]:
    """Per county or city: institutions, done per step, bank verified, full process."""
    if level not in LEVELS:
        raise ValueError(f"unknown level {level!r}; one of {', '.join(LEVELS)}")
    code = "substr(i.division_code, 1, 4) || '00'" if level == "city" else "i.division_code"
    rows = conn.execute(
        f"SELECT {code} AS code, count(*) AS n, sum(i.full_process) AS fp, {_step_sums()} "
        f"FROM institutions i GROUP BY code ORDER BY code"
    )
    out = []
    for r in rows:
        by_step = _by_step(r)
        division = domain.DIVISIONS.get(r["code"])
        out.append(
            {
                "division_code": r["code"],
                "name": division.name if division else r["code"],
                "institutions": r["n"],
                "by_step": by_step,
                "bank_verified": by_step["bank_verified"],
                "full_process": int(r["fp"] or 0),
            }
        )
    return out


def _division_clause(division: str | None) -> tuple[str, tuple[str, ...]]:
    if division is None:
        return "1", ()
    if division == domain.PROVINCE_CODE:
        return "i.division_code LIKE '43%'", ()
    if division.endswith("00"):
        return "substr(i.division_code, 1, 4) = ?", (division[:4],)
    return "i.division_code = ?", (division,)


def local_stats(conn: sqlite3.Connection, division: str | None) -> dict[str, Any]:
    """DESIGN.md's stats answer computed over the cached rows."""
    clause, params = _division_clause(division)
    r = conn.execute(
        f"SELECT count(*) AS n, sum(i.full_process) AS fp, sum(i.orders) AS orders, "
        f"sum(i.order_amount_fen) AS amount, {_step_sums()} FROM institutions i WHERE {clause}",
        params,
    ).fetchone()
    v = conn.execute(
        f"SELECT count(*), sum(v.rectification IS NOT NULL) FROM visits v "
        f"JOIN institutions i ON i.id = v.institution_id WHERE {clause}",
        params,
    ).fetchone()
    by_step = _by_step(r)
    total = int(r["n"] or 0)
    return {
        "division": division,
        "institutions": total,
        "by_step": by_step,
        "bank_verified": by_step["bank_verified"],
        "bank_verified_rate": round(by_step["bank_verified"] / total, 4) if total else 0.0,
        "payment_enabled": by_step["payment_enabled"],
        "full_process": int(r["fp"] or 0),
        "orders": int(r["orders"] or 0),
        "order_amount_fen": int(r["amount"] or 0),
        "visits": int(v[0] or 0),
        "rectification_notices": int(v[1] or 0),
    }


def counts(conn: sqlite3.Connection) -> dict[str, int]:
    """Unsent (incl. sending) and rejected ops, institutions and visits."""
    r = conn.execute(
        "SELECT (SELECT count(*) FROM outbox WHERE state IN ('unsent', 'sending')), "
        "(SELECT count(*) FROM outbox WHERE state = 'rejected'), "
        "(SELECT count(*) FROM institutions), (SELECT count(*) FROM visits)"
    ).fetchone()
    return {"unsent": r[0], "rejected": r[1], "institutions": r[2], "visits": r[3]}
