"""Enforcement in the offline cache: cases, supervisor reviews, look-back rounds and the due list.

The office's copy of each case, review and round pick is kept as pulled. What the laptop shows is
that copy with this device's unsent ops laid over it (and cases of notices not yet sent), so a
discarded op takes its effect with it and a pull never overwrites a local edit.
"""

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

from .core import _require_institution
from .edits import Edits
from .rows import visit_dict

CASE_KINDS = ("case.item", "case.escalate")
PULLED_KINDS = ("case", "review", "round")
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


# --- pulled changes ------------------------------------------------------------------------------
def apply_change(conn: sqlite3.Connection, kind: str, data: dict[str, Any]) -> set[str]:
    """Keep the office's case, review or round pick; return its institution."""
    inst_id = str(data["institution_id"])
    if kind == "case":
        case = dc.case_from_wire(data)  # checks the shape
        conn.execute(
            f"INSERT OR REPLACE INTO cases (case_id, institution_id, {', '.join(SUMMARY)}) "
            f"VALUES (?, ?, {', '.join('?' * len(SUMMARY))})",
            (case.case_id, inst_id, *summary(case).values()),
        )
        conn.execute(
            "INSERT OR REPLACE INTO case_bodies (case_id, data, hlc) VALUES (?, ?, ?)",
            (case.case_id, json.dumps(data, ensure_ascii=False), data.get("hlc")),
        )
    elif kind == "review":
        if data["decision"] not in dc.REVIEW_DECISIONS:
            raise ValueError(f"unknown review decision {data['decision']!r}")
        conn.execute(
            "INSERT OR REPLACE INTO reviews (visit_id, institution_id, decision, comment, "
            "reviewer_id, reviewed_on, hlc, amended) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                str(data["visit_id"]),
                inst_id,
                data["decision"],
                str(data.get("comment") or ""),
                str(data.get("reviewer_id") or ""),
                date.fromisoformat(data["reviewed_on"]).isoformat(),
                data.get("hlc"),
                int(bool(data.get("amended"))),
            ),
        )
    elif kind == "round":
        conn.execute(
            "INSERT OR REPLACE INTO round_tasks (round_id, institution_id, due_on, created_on, "
            "data) VALUES (?, ?, ?, ?, ?)",
            (
                str(data["round_id"]),
                inst_id,
                date.fromisoformat(data["due_on"]).isoformat(),
                date.fromisoformat(data["created_on"]).isoformat(),
                json.dumps(data, ensure_ascii=False),
            ),
        )
    return set()


def forget_synced(conn: sqlite3.Connection) -> None:
    """Drop the office's copies before a full re-pull (local ops live in the outbox)."""
    for table in ("cases", "case_bodies", "reviews", "round_tasks"):
        conn.execute(f"DELETE FROM {table}")


def remove_institution(conn: sqlite3.Connection, inst_id: str) -> None:
    """Drop what the cache holds of an institution that left this laptop."""
    conn.execute(
        "DELETE FROM case_bodies WHERE case_id IN (SELECT case_id FROM cases WHERE institution_id = ?)",
        (inst_id,),
    )
    for table in ("cases", "reviews", "round_tasks"):
        conn.execute(f"DELETE FROM {table} WHERE institution_id = ?", (inst_id,))


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


class Enforcement(Edits):
    """Cases, reviews and the due list on the laptop (a mixin of `Store`)."""

    def cases(self, inst_id: str | None = None) -> list[domain.Case]:
        """Cases of one institution (or all), newest notice first, with local edits laid over."""
        with self._read() as conn:
            found = local_cases(conn, inst_id)
        return sorted((c for c, _ in found.values()), key=lambda c: c.issued_on, reverse=True)

    def case(self, case_id: str) -> domain.Case | None:
        """One case as this laptop sees it."""
        with self._read() as conn:
            row = conn.execute(
                "SELECT institution_id FROM cases WHERE case_id = ? UNION "
                "SELECT institution_id FROM visits WHERE visit_id = ?",
                (case_id, case_id),
            ).fetchone()
            if row is None:
                return None
            held = local_cases(conn, row[0]).get(case_id)
        return held[0] if held else None

    def reviews(self, inst_id: str | None = None) -> dict[str, Review]:
        """The latest review of each visit (of one institution, or all)."""
        with self._read() as conn:
            return local_reviews(conn, inst_id)

    def due_list(self, today: date, lang: str = "zh") -> list[DueTask]:
        """The due list on `today`: overdue, today, this week."""
        with self._read() as conn:
            return due_tasks(conn, today, lang)

    def ledger(
        self, today: date, division: str | None = None, state: str | None = None
    ) -> list[dict[str, Any]]:
        """The ledger of the cached cases on `today`."""
        with self._read() as conn:
            return ledger(conn, today, division, state)

    def round_progress(self, today: date) -> list[dict[str, Any]]:
        """The look-back rounds held here with their progress."""
        with self._read() as conn:
            return round_progress(conn, today)

    # --- edits -------------------------------------------------------------------------------
    def set_case_item(
        self,
        case_id: str,
        index: int,
        status: str,
        *,
        reason: str | None = None,
        visit_id: str | None = None,
        by: str,
        supervisor: bool = False,
        on: date | None = None,
    ) -> dict[str, Any]:
        """Mark an item rectified (by a check visit), waived (with a reason) or reopened."""
        with self._tx() as conn:
            case = self._case_for_edit(conn, case_id)
            visit = _visit(conn, visit_id)
            day = visit.started_at.date() if visit else on or date.today()
            dc.change_item(
                case,
                index,
                status,
                reason=reason,
                visit=visit,
                by=by,
                on=day,
                supervisor=supervisor,
            )
            data = {
                "case_id": case_id,
                "item": index,
                "status": status,
                "reason": reason.strip() if reason and reason.strip() else None,
                "visit_id": visit_id,
                "on": day.isoformat(),
            }
            hlc = self._stamp(conn)
            return self._enqueue(
                conn, "case.item", case.institution_id, f"case:{case_id}", data, None, hlc
            )

    def escalate_case(
        self, case_id: str, step: domain.Escalation, *, supervisor: bool
    ) -> dict[str, Any]:
        """Take one escalation step (a supervisor): interview scheduled, held, revocation, closed."""
        with self._tx() as conn:
            case = self._case_for_edit(conn, case_id)
            dc.escalate(case, step, supervisor=supervisor)
            data = {
                "case_id": case_id,
                "step": step.step,
                "on": step.on.isoformat(),
                "note": step.note,
                "place": step.place,
                "attendees": step.attendees,
                "outcome": step.outcome,
                "new_deadline": step.new_deadline.isoformat() if step.new_deadline else None,
            }
            hlc = self._stamp(conn)
            return self._enqueue(
                conn, "case.escalate", case.institution_id, f"case:{case_id}", data, None, hlc
            )

    def review_visit(
        self, visit_id: str, decision: str, comment: str = "", *, supervisor: bool, on: date
    ) -> dict[str, Any]:
        """A supervisor approves a visit or returns it with a comment."""
        text = dc.check_review(decision, comment, supervisor=supervisor)
        with self._tx() as conn:
            row = conn.execute(
                "SELECT institution_id FROM visits WHERE visit_id = ?", (visit_id,)
            ).fetchone()
            if row is None:
                raise domain.ValidationError(
                    "unknown_visit",
                    f"本地没有走访 {visit_id}",
                    f"Visit {visit_id} is not in the local cache",
                    "visit_id",
                )
            data = {
                "visit_id": visit_id,
                "decision": decision,
                "comment": text,
                "on": on.isoformat(),
            }
            hlc = self._stamp(conn)
            return self._enqueue(
                conn, "visit.review", row[0], f"review:{visit_id}", data, None, hlc
            )

    def _case_for_edit(self, conn: sqlite3.Connection, case_id: str) -> domain.Case:
        row = conn.execute(
            "SELECT institution_id FROM cases WHERE case_id = ? UNION "
            "SELECT institution_id FROM visits WHERE visit_id = ?",
            (case_id, case_id),
        ).fetchone()
        held = local_cases(conn, row[0]).get(case_id) if row else None
        if held is None:
            raise domain.ValidationError(
                "unknown_case",
                "本地没有这个整改案件，请先同步",
                "This case is not in the local cache; sync first",
                "case_id",
            )
        _require_institution(conn, held[0].institution_id)
        return held[0]
