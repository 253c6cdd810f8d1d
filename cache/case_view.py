"""What the laptop shows of enforcement: cases as pulled with this device's unsent ops laid over them, reviews, the due list, the ledger and the look-back rounds' progress."""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from fieldkit import domain
from fieldkit.domain import cases as dc

from .rows import visit_dict

CASE_KINDS = ("case.item", "case.escalate")
_STREET = re.compile(r"([^省市区县\d]{1,12}?(?:大道|大街|路|街|巷|道))")


@dataclass(frozen=True)
class DueTask:
    """One line of the technician's due list."""

    kind: str  # follow_up | case | round | returned
    institution_id: str
    name: str
    division_code: str
    street: str
    on: date
    bucket: str  # overdue | today | week
    visit_kind: str | None  # the visit the task asks for (None: amend a returned visit)
    ref: str  # case id, round id, or the returned visit's id
    detail: str


@dataclass(frozen=True)
class Review:
    """The latest review of a visit, as this laptop knows it."""

    visit_id: str
    institution_id: str
    decision: str
    comment: str
    reviewer_id: str
    reviewed_on: date
    hlc: str
    amended: bool
    sync_state: str


def street_of(address: str) -> str:
    """The road or street of a Chinese address ('湖南省常德市武陵区人民路12号' → '人民路')."""
    tail = address
    for marker in ("省", "市", "区", "县"):
        head, sep, rest = tail.partition(marker)
        if sep and len(head) <= 8:
            tail = rest
    found = _STREET.search(tail)
    return found.group(1) if found else (tail[:8] or "—")


# What the due list and the ledger read of a case, kept in columns beside its data so that opening
# them never parses every case (the state itself needs a date, so it is computed when shown).
SUMMARY = (
    "issued_on",
    "deadline",
    "phase",
    "open_items",
    "items",
    "last_step",
    "last_on",
    "open_text",
)


def summary(case: domain.Case) -> dict[str, Any]:
    """The summary columns of a case."""
    last = case.escalation[-1] if case.escalation else None
    return {
        "issued_on": case.issued_on.isoformat(),
        "deadline": case.current_deadline.isoformat(),
        "phase": dc.phase(case),
        "open_items": case.open_items,
        "items": len(case.items),
        "last_step": last.step if last else None,
        "last_on": last.on.isoformat() if last else None,
        "open_text": "；".join(i.text for i in case.items if i.status == dc.OPEN),
    }


# --- the local view ------------------------------------------------------------------------------
def _pending(conn: sqlite3.Connection, kinds: Iterable[str]) -> list[sqlite3.Row]:
    marks = ",".join("?" * len(tuple(kinds)))
    return conn.execute(
        f"SELECT * FROM outbox WHERE kind IN ({marks}) AND state IN ('unsent', 'sending') "
        "ORDER BY seq",
        tuple(kinds),
    ).fetchall()


def _visit(conn: sqlite3.Connection, visit_id: str | None) -> domain.Visit | None:
    if not visit_id:
        return None
    row = conn.execute("SELECT * FROM visits WHERE visit_id = ?", (visit_id,)).fetchone()
    return domain.visit_from_wire(visit_dict(row)) if row is not None else None


def _lay_over(
    conn: sqlite3.Connection, case: domain.Case, op: dict[str, Any], by: str, supervisor: bool
) -> domain.Case:
    """A case with one local op applied (as the office will, by the same domain rules)."""
    data = op["data"]
    if op["kind"] == "case.escalate":
        return dc.escalate(case, dc.escalation_from_op(data, by), supervisor=True)
    visit = _visit(conn, data.get("visit_id"))
    on = visit.started_at.date() if visit else date.fromisoformat(data.get("on") or "1970-01-01")
    return dc.change_item(
        case,
        data["item"],
        data["status"],
        reason=data.get("reason"),
        visit=visit,
        by=by,
        on=on,
        supervisor=supervisor or data["status"] == dc.OPEN,
    )


def local_cases(
    conn: sqlite3.Connection, inst_id: str | None = None, by: str = ""
) -> dict[str, tuple[domain.Case, bool]]:
    """Every case (of one institution, or all) as this laptop sees it, with whether it is unsent."""
    where, args = ("WHERE institution_id = ?", (inst_id,)) if inst_id else ("", ())
    found: dict[str, tuple[domain.Case, bool]] = {}
    for (data,) in conn.execute(
        f"SELECT b.data FROM cases c JOIN case_bodies b ON b.case_id = c.case_id {where}", args
    ):
        case = dc.case_from_wire(json.loads(data))
        found[case.case_id] = (case, False)
    return found | overlaid(conn, inst_id, found)


def overlaid(
    conn: sqlite3.Connection,
    inst_id: str | None = None,
    held: dict[str, tuple[domain.Case, bool]] | None = None,
) -> dict[str, tuple[domain.Case, bool]]:
    """The cases this device changed and has not sent: opened by a local notice, or with unsent
    item or escalation ops laid over the office's copy (by the same domain rules)."""
    scope, args = ("AND v.institution_id = ?", (inst_id,)) if inst_id else ("", ())
    found: dict[str, tuple[domain.Case, bool]] = {}
    for row in conn.execute(
        "SELECT v.* FROM visits v LEFT JOIN cases c ON c.case_id = v.visit_id "
        f"WHERE v.rectification IS NOT NULL AND c.case_id IS NULL {scope}",
        args,
    ):
        opened = dc.open_case(domain.visit_from_wire(visit_dict(row)))
        if opened is not None:
            found[opened.case_id] = (opened, True)
    for op in _pending(conn, CASE_KINDS):
        if inst_id and op["institution_id"] != inst_id:
            continue
        data = json.loads(op["data"])
        case_id = str(data.get("case_id"))
        current = found.get(case_id) or (held or {}).get(case_id)
        if current is None:
            row = conn.execute(
                "SELECT data FROM case_bodies WHERE case_id = ?", (case_id,)
            ).fetchone()
            if row is None:
                continue
            current = (dc.case_from_wire(json.loads(row[0])), False)
        try:
            changed = _lay_over(
                conn, current[0], {"kind": op["kind"], "data": data}, by="", supervisor=True
            )
        except (domain.DomainError, KeyError, TypeError, ValueError):
            continue  # the office will answer it; until then the case shows without it
        found[case_id] = (changed, True)
    return found


def local_reviews(conn: sqlite3.Connection, inst_id: str | None = None) -> dict[str, Review]:
    """The latest review of each visit: the office's, or this device's unsent one."""
    where, args = ("WHERE institution_id = ?", (inst_id,)) if inst_id else ("", ())
    found: dict[str, Review] = {}
    for r in conn.execute(f"SELECT * FROM reviews {where}", args):
        found[r["visit_id"]] = Review(
            r["visit_id"],
            r["institution_id"],
            r["decision"],
            r["comment"],
            r["reviewer_id"],
            date.fromisoformat(r["reviewed_on"]),
            r["hlc"] or "",
            bool(r["amended"]),
            "synced",
        )
    for op in _pending(conn, ("visit.review",)):
        if inst_id and op["institution_id"] != inst_id:
            continue
        data = json.loads(op["data"])
        found[data["visit_id"]] = Review(
            data["visit_id"],
            op["institution_id"],
            data["decision"],
            data.get("comment") or "",
            data.get("reviewer_id") or "",
            date.fromisoformat(data["on"]),
            op["hlc"],
            False,
            op["state"],
        )
    # an amendment made here after the review answers it too
    for visit_id, review in list(found.items()):
        if review.decision == dc.RETURNED and not review.amended:
            row = conn.execute(
                "SELECT amendments FROM visits WHERE visit_id = ?", (visit_id,)
            ).fetchone()
            amends = json.loads(row[0]) if row else []
            if any(domain.newer(a.get("hlc"), review.hlc) for a in amends):
                found[visit_id] = Review(**{**review.__dict__, "amended": True})
    return found


def _visited_since(conn: sqlite3.Connection) -> dict[str, str]:
    """Each institution's latest visit start date (YYYY-MM-DD)."""
    return {
        r[0]: r[1][:10]
        for r in conn.execute(
            "SELECT institution_id, max(started_at) FROM visits GROUP BY institution_id"
        )
    }


def due_tasks(conn: sqlite3.Connection, today: date, lang: str = "zh") -> list[DueTask]:
    """The due list: overdue, today and this week, in date order, then county, street, name."""
    zh = lang.startswith("zh")
    insts = {
        r[0]: tuple(r)
        for r in conn.execute(
            "SELECT id, name, division_code, address, next_visit_on FROM institutions"
        )
    }
    tasks: list[DueTask] = []

    streets: dict[str, str] = {}

    def add(
        kind: str, inst_id: str, on: date, visit_kind: str | None, ref: str, detail: str
    ) -> None:
        where = dc.bucket(on, today)
        inst = insts.get(inst_id)
        if where is None or inst is None:
            return
        street = streets.get(inst_id)
        if street is None:
            street = streets[inst_id] = street_of(inst[3] or "")
        tasks.append(
            DueTask(kind, inst_id, inst[1], inst[2], street, on, where, visit_kind, ref, detail)
        )

    for inst_id, inst in insts.items():
        if inst[4]:
            add(
                "follow_up",
                inst_id,
                date.fromisoformat(inst[4]),
                domain.visits.FOLLOW_UP,
                inst_id,
                "约定回访" if zh else "follow-up set by a visit",
            )
    local = overlaid(conn)
    until = (today + timedelta(days=6)).isoformat()
    running = [
        (r[0], r[1], date.fromisoformat(r[2]), r[3])
        for r in conn.execute(
            "SELECT case_id, institution_id, deadline, open_items FROM cases "
            "WHERE phase = 'clock' AND open_items > 0 AND deadline <= ?",
            (until,),
        )
        if r[0] not in local
    ]
    running += [
        (case.case_id, case.institution_id, case.current_deadline, case.open_items)
        for case, _ in local.values()
        if dc.phase(case) == dc.CLOCK and case.open_items
    ]
    for case_id, inst_id, deadline, open_items in running:
        add(
            "case",
            inst_id,
            deadline,
            domain.visits.RECTIFICATION_CHECK,
            case_id,
            (
                f"整改期限（{open_items}项未整改）"
                if zh
                else f"rectification deadline ({open_items} open)"
            ),
        )
    visited = _visited_since(conn)
    for r in conn.execute("SELECT round_id, institution_id, due_on, created_on FROM round_tasks"):
        if visited.get(r["institution_id"], "") >= r["created_on"]:
            continue  # a visit since the round started meets it
        add(
            "round",
            r["institution_id"],
            date.fromisoformat(r["due_on"]),
            domain.visits.FOLLOW_UP,
            r["round_id"],
            "回头看" if zh else "look-back round",
        )
    for review in local_reviews(conn).values():
        if review.decision == dc.RETURNED and not review.amended:
            add(
                "returned",
                review.institution_id,
                min(review.reviewed_on, today),
                None,
                review.visit_id,
                (f"走访被退回：{review.comment}" if zh else f"visit returned: {review.comment}"),
            )
    order = {b: i for i, b in enumerate(dc.BUCKETS)}
    tasks.sort(key=lambda t: (order[t.bucket], t.on, t.division_code, t.street, t.name, t.kind))
    return tasks


LEDGER_KEYS = ("case_id", "institution_id", "institution_name", "division_code", *SUMMARY)


def ledger(
    conn: sqlite3.Connection, today: date, division: str | None = None, state: str | None = None
) -> list[dict[str, Any]]:
    """The ledger over the cached cases: one summary per case with its state on `today`, by
    division, deadline and name."""
    local = overlaid(conn)
    cursor = conn.cursor()
    cursor.row_factory = None  # plain tuples: ~3x faster than sqlite3.Row for a whole city
    names = {
        r[0]: (r[1], r[2])
        for r in cursor.execute("SELECT id, name, division_code FROM institutions")
    }
    found = [
        dict(zip(LEDGER_KEYS, (r[0], r[1], *names.get(r[1], (r[1], "")), *r[2:]), strict=True))
        | {"unsent": False}
        for r in cursor.execute(f"SELECT case_id, institution_id, {', '.join(SUMMARY)} FROM cases")
        if r[0] not in local
    ]
    for case, _ in local.values():
        name, code = names.get(case.institution_id, (case.institution_id, ""))
        found.append(
            {"case_id": case.case_id, "institution_id": case.institution_id}
            | {"institution_name": name, "division_code": code}
            | summary(case)
            | {"unsent": True}
        )
    found.sort(key=lambda c: (c["division_code"], c["deadline"], c["institution_name"]))
    out = []
    for row in found:
        if division and not domain.contains(division, row["division_code"] or "430000"):
            continue
        current = dc.state_of(
            row["phase"], row["open_items"], date.fromisoformat(row["deadline"]), today
        )
        if state and current != state:
            continue
        row["state"] = current
        out.append(row)
    return out


def round_progress(conn: sqlite3.Connection, today: date) -> list[dict[str, Any]]:
    """Each round this laptop holds: picked, done (visited since it began), overdue, open."""
    visited = _visited_since(conn)
    rounds: dict[str, dict[str, Any]] = {}
    for r in conn.execute("SELECT * FROM round_tasks ORDER BY due_on, round_id"):
        info = json.loads(r["data"])
        held = rounds.setdefault(
            r["round_id"],
            {
                "round_id": r["round_id"],
                "division_code": info.get("division_code", ""),
                "due_on": r["due_on"],
                "created_on": r["created_on"],
                "picked": 0,
                "done": 0,
                "overdue": 0,
            },
        )
        held["picked"] += 1
        if visited.get(r["institution_id"], "") >= r["created_on"]:
            held["done"] += 1
        elif today > date.fromisoformat(r["due_on"]):
            held["overdue"] += 1
    for held in rounds.values():
        held["open"] = held["picked"] - held["done"]
    return list(rounds.values())
