"""Enforcement in the offline cache: cases, supervisor reviews, look-back rounds and the due list.

The office's copy of each case, review and round pick is kept as pulled. What the laptop shows is
that copy with this device's unsent ops laid over it (and cases of notices not yet sent), so a
discarded op takes its effect with it and a pull never overwrites a local edit.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import date
from typing import TYPE_CHECKING, Any

from fieldkit import domain

from .core import _require_institution
from .edits import Edits

if TYPE_CHECKING:
    from .case_view import DueTask, Review

# The case view (cache.case_view) and the case rules (fieldkit.domain.cases) are imported by the
# functions that use them, not with the Store: the list a technician opens first shows no case,
# and their dataclasses cost milliseconds of every start.

PULLED_KINDS = ("case", "review", "round")


def street_of(address: str) -> str:
    """The street of an address (see cache.case_view.street_of)."""
    from . import case_view as view

    return view.street_of(address)


# --- pulled changes ------------------------------------------------------------------------------
def apply_change(conn: sqlite3.Connection, kind: str, data: dict[str, Any]) -> set[str]:
    """Keep the office's case, review or round pick; return its institution."""
    from fieldkit.domain import cases as dc

    from . import case_view as view

    inst_id = str(data["institution_id"])
    if kind == "case":
        case = dc.case_from_wire(data)  # checks the shape
        conn.execute(
            f"INSERT OR REPLACE INTO cases (case_id, institution_id, {', '.join(view.SUMMARY)}) "
            f"VALUES (?, ?, {', '.join('?' * len(view.SUMMARY))})",
            (case.case_id, inst_id, *view.summary(case).values()),
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


class Enforcement(Edits):
    """Cases, reviews and the due list on the laptop (a mixin of `Store`)."""

    def cases(self, inst_id: str | None = None) -> list[domain.Case]:
        """Cases of one institution (or all), newest notice first, with local edits laid over."""
        from . import case_view as view

        with self._read() as conn:
            found = view.local_cases(conn, inst_id)
        return sorted((c for c, _ in found.values()), key=lambda c: c.issued_on, reverse=True)

    def case(self, case_id: str) -> domain.Case | None:
        """One case as this laptop sees it."""
        from . import case_view as view

        with self._read() as conn:
            row = conn.execute(
                "SELECT institution_id FROM cases WHERE case_id = ? UNION "
                "SELECT institution_id FROM visits WHERE visit_id = ?",
                (case_id, case_id),
            ).fetchone()
            if row is None:
                return None
            held = view.local_cases(conn, row[0]).get(case_id)
        return held[0] if held else None

    def reviews(self, inst_id: str | None = None) -> dict[str, Review]:
        """The latest review of each visit (of one institution, or all)."""
        from . import case_view as view

        with self._read() as conn:
            return view.local_reviews(conn, inst_id)

    def due_list(self, today: date, lang: str = "zh") -> list[DueTask]:
        """The due list on `today`: overdue, today, this week."""
        from . import case_view as view

        with self._read() as conn:
            return view.due_tasks(conn, today, lang)

    def ledger(
        self, today: date, division: str | None = None, state: str | None = None
    ) -> list[dict[str, Any]]:
        """The ledger of the cached cases on `today`."""
        from . import case_view as view

        with self._read() as conn:
            return view.ledger(conn, today, division, state)

    def round_progress(self, today: date) -> list[dict[str, Any]]:
        """The look-back rounds held here with their progress."""
        from . import case_view as view

        with self._read() as conn:
            return view.round_progress(conn, today)

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
        from fieldkit.domain import cases as dc

        from . import case_view as view

        with self._tx() as conn:
            case = self._case_for_edit(conn, case_id)
            visit = view._visit(conn, visit_id)
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
        from fieldkit.domain import cases as dc

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
        from fieldkit.domain import cases as dc

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
        from . import case_view as view

        row = conn.execute(
            "SELECT institution_id FROM cases WHERE case_id = ? UNION "
            "SELECT institution_id FROM visits WHERE visit_id = ?",
            (case_id, case_id),
        ).fetchone()
        held = view.local_cases(conn, row[0]).get(case_id) if row else None
        if held is None:
            raise domain.ValidationError(
                "unknown_case",
                "本地没有这个整改案件，请先同步",
                "This case is not in the local cache; sync first",
                "case_id",
            )
        _require_institution(conn, held[0].institution_id)
        return held[0]
