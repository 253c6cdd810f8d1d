"""The platform's readings and course list in the cache, and the charges a technician observes.

Pulled `platform` and `course` changes are the office's (server-owned): they are stored as sent
and never edited here. An observed charge is a local event (`charge.observed`), queued with the
same transaction, checked offline by the domain's fee rules against the cached course listing.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import date
from typing import TYPE_CHECKING, Any

from fieldkit import domain

from .edits import Edits
from .rows import json_text

if TYPE_CHECKING:
    from fieldkit.domain.courses import Breach
    from fieldkit.domain.platform import Discrepancy, Reading

# The platform's rules (fieldkit.domain.courses, .platform) and figures are imported by the
# functions that use them: the list a technician opens first needs none of them.

SCHEMA = """
CREATE TABLE platform_readings (
    institution_id TEXT PRIMARY KEY,
    data TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE courses (
    institution_id TEXT NOT NULL,
    course_id TEXT NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (institution_id, course_id)
) WITHOUT ROWID
"""
TABLES = ("platform_readings", "courses")
SOURCES = ("price_board", "receipt", "contract", "word_of_mouth", "other")


# --- applying pulled changes (inside the page's transaction) -------------------------------------
def apply_platform(conn: sqlite3.Connection, data: dict[str, Any]) -> set[str]:
    """Store the platform's reading of an institution the cache holds; return it as touched."""
    row = reading_row(data)
    store_readings(conn, [row])
    return {row[0]}


def reading_row(data: dict[str, Any]) -> tuple[str, str]:
    """(institution_id, stored text) of a pulled reading; ValueError for one without steps."""
    if not isinstance(data.get("steps"), dict):
        raise ValueError("platform change without steps")
    return str(data["institution_id"]), json_text(data)


def store_readings(conn: sqlite3.Connection, rows: list[tuple[str, str]]) -> None:
    """Keep readings (from reading_row) of the institutions the cache holds; others are dropped."""
    conn.executemany(
        "INSERT INTO platform_readings SELECT ?1, ?2 WHERE EXISTS "
        "(SELECT 1 FROM institutions WHERE id = ?1) "
        "ON CONFLICT (institution_id) DO UPDATE SET data = excluded.data",
        rows,
    )


def apply_course(conn: sqlite3.Connection, data: dict[str, Any]) -> set[str]:
    """Store (or, when the platform dropped it, delete) one listed course."""
    from fieldkit.domain.courses import course_from_wire

    inst_id, course_id = str(data["institution_id"]), str(data["course_id"])
    if conn.execute("SELECT 1 FROM institutions WHERE id = ?", (inst_id,)).fetchone() is None:
        return set()
    if data.get("removed"):
        conn.execute(
            "DELETE FROM courses WHERE institution_id = ? AND course_id = ?", (inst_id, course_id)
        )
        return {inst_id}
    course_from_wire(data)  # refuses (ValueError, KeyError) a course this code cannot check
    conn.execute(
        "INSERT INTO courses VALUES (?, ?, ?) "
        "ON CONFLICT (institution_id, course_id) DO UPDATE SET data = excluded.data",
        (inst_id, course_id, json.dumps(data, ensure_ascii=False)),
    )
    return {inst_id}


def remove(conn: sqlite3.Connection, inst_id: str | None = None) -> None:
    """Forget the platform's data of one institution (or of all, for a full re-pull)."""
    for table in TABLES:
        if inst_id is None:
            conn.execute(f"DELETE FROM {table}")
        else:
            conn.execute(f"DELETE FROM {table} WHERE institution_id = ?", (inst_id,))


def reading_of(data: dict[str, Any] | None) -> Reading | None:
    """A stored `platform` change as the domain's Reading."""
    from fieldkit.domain.platform import PLATFORM_STEPS, Reading

    if data is None:
        return None
    steps = {
        k: date.fromisoformat(v) if isinstance(v, str) else None
        for k, v in (data.get("steps") or {}).items()
        if k in PLATFORM_STEPS
    }
    return Reading(steps, int(data.get("orders") or 0))


def discrepant_ids(conn: sqlite3.Connection, today: date) -> set[str]:
    """The cached institutions where the field and the platform disagree."""
    from fieldkit.domain.platform import discrepancies

    readings = {
        r["institution_id"]: json.loads(r["data"])
        for r in conn.execute("SELECT institution_id, data FROM platform_readings")
    }
    if not readings:
        return set()
    field: dict[str, dict[str, tuple[str, str | None]]] = {}
    for r in conn.execute("SELECT institution_id, step, status, hlc FROM steps"):
        if r["institution_id"] in readings:
            field.setdefault(r["institution_id"], {})[r["step"]] = (r["status"], r["hlc"])
    bank = {
        r["id"]: r["bank_status"] == "passed"
        for r in conn.execute("SELECT id, bank_status FROM institutions")
    }
    return {
        inst_id
        for inst_id, data in readings.items()
        if discrepancies(field.get(inst_id, {}), reading_of(data), today, bank.get(inst_id))
    }


class PlatformCache(Edits):
    """The cache's side of the platform: readings, courses, discrepancies, observed charges."""

    def set_step(
        self,
        inst_id: str,
        step: str,
        status: str,
        reason: str | None = None,
        note: str | None = None,
        *,
        by: str,
    ) -> dict[str, Any]:
        """Change a step, refusing offline what the office would: a platform-confirmed done
        undone, or the course review done while a listed course breaks a fee rule."""
        if status != domain.DONE:
            reading = self.platform_reading(inst_id) or {}
            done_on = (reading.get("steps") or {}).get(step)
            if done_on:
                name = domain.STEPS_BY_KEY[step]
                raise domain.ValidationError(
                    "platform_confirmed",
                    f"平台已于{done_on}确认“{name.zh}”完成，现场不能撤销；如平台有误，请联系办公室核实",
                    f"The platform confirmed '{name.en}' done on {done_on}; it cannot be undone "
                    "in the field (if the platform is wrong, ask the office to check)",
                    "status",
                )
        elif step == "courses":
            breaking = [c for c in self.courses(inst_id) if c["checked"]]
            if breaking:
                first = breaking[0]
                words = "；".join(b.zh for _, b in first["checked"])
                words_en = "; ".join(b.en for _, b in first["checked"])
                raise domain.ValidationError(
                    "course_rules",
                    f"课程“{first['name']}”（{first['course_id']}）违反预收费规定：{words}，"
                    "课程审核不能标记完成",
                    f"Course '{first['name']}' ({first['course_id']}) breaks a prepaid-fee "
                    f"rule: {words_en}; the course review cannot be marked done",
                    "status",
                )
        return super().set_step(inst_id, step, status, reason, note, by=by)

    def platform_figures(
        self, level: str = "county"
    ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """The figures an office reports, from the platform's readings in this cache (the
        field's beside them): the totals and one entry per county or city."""
        from . import figures

        with self._read() as conn:
            return figures.platform_figures(conn, level)

    def platform_reading(self, inst_id: str) -> dict[str, Any] | None:
        """The platform's last reading of an institution as pulled, or None if it has none."""
        with self._read() as conn:
            row = conn.execute(
                "SELECT data FROM platform_readings WHERE institution_id = ?", (inst_id,)
            ).fetchone()
        return json.loads(row["data"]) if row else None

    def courses(self, inst_id: str) -> list[dict[str, Any]]:
        """The institution's listed courses, each with its fee-rule breaches checked here."""
        from fieldkit.domain.courses import course_breaches, course_from_wire

        with self._read() as conn:
            rows = conn.execute(
                "SELECT data FROM courses WHERE institution_id = ? ORDER BY course_id", (inst_id,)
            ).fetchall()
        out = []
        for row in rows:
            data = json.loads(row["data"])
            course = course_from_wire(data)
            data["checked"] = [(i, b) for i, b in course_breaches(course)]
            out.append(data)
        return out

    def discrepancies(self, inst_id: str, today: date | None = None) -> list[Discrepancy]:
        """Where the field's marks and the platform's reading of an institution disagree."""
        from fieldkit.domain.platform import discrepancies

        today = today or date.today()
        with self._read() as conn:
            row = conn.execute(
                "SELECT data FROM platform_readings WHERE institution_id = ?", (inst_id,)
            ).fetchone()
            if row is None:
                return []
            field = {
                r["step"]: (r["status"], r["hlc"])
                for r in conn.execute(
                    "SELECT step, status, hlc FROM steps WHERE institution_id = ?", (inst_id,)
                )
            }
            bank = conn.execute(
                "SELECT bank_status FROM institutions WHERE id = ?", (inst_id,)
            ).fetchone()
        return discrepancies(
            field, reading_of(json.loads(row["data"])), today, bank and bank[0] == "passed"
        )

    def discrepant_institutions(self, today: date | None = None) -> set[str]:
        """Every cached institution with a discrepancy (the list's filter)."""
        with self._read() as conn:
            return discrepant_ids(conn, today or date.today())

    def check_charge(
        self,
        inst_id: str,
        course_id: str | None,
        amount_fen: int,
        hours: int | None,
        months: int | None,
        collected_on: date | None,
        start_on: date | None = None,
    ) -> list[Breach]:
        """What a charge seen on site breaks: the fee rules and the course's platform listing."""
        from fieldkit.domain.courses import course_from_wire, observed_breaches

        with self._read() as conn:
            inst = conn.execute("SELECT kind FROM institutions WHERE id = ?", (inst_id,)).fetchone()
            row = (
                conn.execute(
                    "SELECT data FROM courses WHERE institution_id = ? AND course_id = ?",
                    (inst_id, course_id),
                ).fetchone()
                if course_id
                else None
            )
        if inst is None:
            raise domain.ValidationError(
                "unknown_institution",
                f"本机没有机构“{inst_id}”",
                f"institution '{inst_id}' is not in this cache",
                "institution_id",
            )
        course = course_from_wire(json.loads(row["data"])) if row else None
        kind = course.kind if course else str(inst["kind"])
        return observed_breaches(kind, amount_fen, hours, months, collected_on, course, start_on)

    def record_charge(
        self,
        inst_id: str,
        visit_id: str | None,
        course_id: str | None,
        course_name: str | None,
        amount_fen: int,
        hours: int | None = None,
        months: int | None = None,
        collected_on: date | None = None,
        start_on: date | None = None,
        source: str = "price_board",
        note: str | None = None,
    ) -> tuple[dict[str, Any], list[Breach]]:
        """Record a charge seen on site and queue its `charge.observed` op; (op, breaches)."""
        if source not in SOURCES:
            raise domain.ValidationError(
                "source", f"未知的来源“{source}”", f"unknown source '{source}'", "source"
            )
        if amount_fen < 0 or any(v is not None and v <= 0 for v in (hours, months)):
            raise domain.ValidationError(
                "charge",
                "金额不能为负，课时和月数须大于0",
                "the amount cannot be negative; hours and months must be more than 0",
                "amount_fen",
            )
        breaches = self.check_charge(
            inst_id, course_id, amount_fen, hours, months, collected_on, start_on
        )
        data = {
            "visit_id": visit_id,
            "course_id": course_id or None,
            "course_name": course_name or None,
            "amount_fen": amount_fen,
            "hours": hours,
            "months": months,
            "collected_on": collected_on.isoformat() if collected_on else None,
            "start_on": start_on.isoformat() if start_on else None,
            "source": source,
            "note": note or None,
            "breaches": [{"rule": b.rule, "zh": b.zh, "en": b.en} for b in breaches],
        }
        op = self._record_event(inst_id, visit_id, "charge.observed", data)
        return op, breaches
