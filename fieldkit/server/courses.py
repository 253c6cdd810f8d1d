"""The platform's course list imported, each course checked by the prepaid-fee rules."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, and_, delete, insert, or_, select, update

from fieldkit.domain.courses import Course, course_breaches, course_from_wire, course_verdict

from .imports import KINDS, ImportReport
from .platform import BATCH, Target, find_target, institution_index
from .sheets import SheetError, columns, open_sheet, parse_count, parse_date, parse_yuan
from .store import Store, courses, emit, now_iso

COURSE_HEADERS: dict[str, tuple[str, ...]] = {
    "uscc": ("uscc", "统一社会信用代码", "信用代码"),
    "platform_id": ("platform_id", "平台机构编号", "机构编号"),
    "course_id": ("course_id", "课程编号"),
    "name": ("name", "课程名称"),
    "kind": ("kind", "类别", "课程类别"),
    "class_hours": ("class_hours", "总课时"),
    "start_on": ("start_on", "开课日期"),
    "end_on": ("end_on", "结课日期"),
    "charge_amount": ("charge_amount", "单次收费金额（元）", "单次收费金额"),
    "charge_hours": ("charge_hours", "单次收费课时"),
    "charge_months": ("charge_months", "单次收费月数"),
    "collect_from": ("collect_from", "最早收费日期"),
}
COURSE_REQUIRED = (
    "course_id",
    "name",
    "kind",
    "class_hours",
    "start_on",
    "end_on",
    "charge_amount",
)
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
COURSE_FIELDS = ("name", "kind", "class_hours", "start_on", "end_on")


class _Refused(Exception):
    """Raised inside the import's transaction so that a refused file writes nothing."""


@dataclass
class CourseReport(ImportReport):
    """The import's report, with how many imported courses break a fee rule."""

    removed: int = 0
    breaking: int = 0

    def lines(self) -> list[str]:
        """The report as printed, plus the removed and rule-breaking courses."""
        out = super().lines()
        if self.ok:
            if self.removed:
                out.append(
                    f"平台已不再列出的 {self.removed} 门课程已删除 / {self.removed} courses no "
                    "longer listed by the platform were removed"
                )
            if self.breaking:
                out.append(
                    f"其中 {self.breaking} 门课程违反预收费规定（机构页面列出原因）/ "
                    f"{self.breaking} courses break a prepaid-fee rule (the institution screen "
                    "says which)"
                )
        return out


def check_course_row(row: Mapping[str, str]) -> tuple[dict[str, Any], dict[str, Any]]:
    """One row of the course list: (course fields, plan) as stored (ValueError in words)."""
    missing = [k for k in COURSE_REQUIRED if not row.get(k)]
    if missing:
        raise ValueError(
            f"缺少必填项：{', '.join(missing)} / required fields are empty: {', '.join(missing)}"
        )
    course_id, name = row["course_id"], row["name"]
    for key, text, limit in (("course_id", course_id, 64), ("name", name, 100)):
        if len(text) > limit or _CONTROL.search(text):
            raise ValueError(
                f"“{key}”超过{limit}字或含控制字符 / '{key}' is over {limit} characters or "
                "holds control characters"
            )
    kind = KINDS.get(row["kind"].lower())
    if kind is None:
        raise ValueError(
            f"类别“{row['kind']}”无效，应为 学科类/非学科类 / kind '{row['kind']}' must be "
            "academic or non_academic"
        )
    class_hours = parse_count(row["class_hours"], "class_hours")
    if class_hours <= 0:
        raise ValueError("总课时须大于0 / class_hours must be more than 0")
    start, end = parse_date(row["start_on"], "start_on"), parse_date(row["end_on"], "end_on")
    if end < start:
        raise ValueError(
            f"结课日期{end}早于开课日期{start} / the course ends ({end}) before it starts ({start})"
        )
    plan: dict[str, Any] = {
        "amount_fen": parse_yuan(row["charge_amount"], "charge_amount"),
        "hours": None,
        "months": None,
        "collect_from": None,
    }
    for key, field in (("hours", "charge_hours"), ("months", "charge_months")):
        if row.get(field):
            plan[key] = parse_count(row[field], field)
            if plan[key] <= 0:
                raise ValueError(f"“{field}”须大于0 / '{field}' must be more than 0")
    if row.get("collect_from"):
        plan["collect_from"] = parse_date(row["collect_from"], "collect_from").isoformat()
    fields = {
        "course_id": course_id,
        "name": name,
        "kind": kind,
        "class_hours": class_hours,
        "start_on": start.isoformat(),
        "end_on": end.isoformat(),
    }
    return fields, plan


def import_courses(store: Store, path: Path) -> CourseReport:
    """Import the platform's course list: all rows or none; each listed institution's list replaced."""
    report = CourseReport(("课程", "courses"))
    try:
        sheet = open_sheet(path)
    except SheetError as exc:
        report.fatal = str(exc)
        return report
    report.encoding = sheet.format
    where = columns(sheet.header, COURSE_HEADERS)
    missing = [k for k in COURSE_REQUIRED if k not in where]
    if "uscc" not in where and "platform_id" not in where:
        missing.insert(0, "uscc")
    if missing:
        report.fatal = f"缺少必需的列：{', '.join(missing)} / missing columns: {', '.join(missing)}"
        return report
    try:
        with store.writing() as conn:
            by_uscc, by_id = institution_index(conn)
            seen: dict[tuple[str, str], tuple[int, dict[str, Any]]] = {}
            division: dict[str, str] = {}
            pending: dict[tuple[str, str], dict[str, Any]] = {}
            written: set[tuple[str, str]] = set()
            for row in sheet.rows:
                if row.problem:
                    report.rejected.append((row.line, row.problem))
                    continue
                value = {k: row.cells[i] for k, i in where.items() if i < len(row.cells)}
                try:
                    target = find_target(value, by_uscc, by_id)
                    fields, plan = check_course_row(value)
                except ValueError as exc:
                    report.rejected.append((row.line, str(exc)))
                    continue
                key = (target.id, fields["course_id"])
                first = seen.get(key)
                if first is not None and first[1] != fields:
                    report.rejected.append((row.line, _differs(first[0])))
                    continue
                if first is None:
                    seen[key] = (row.line, fields)
                division[target.id] = target.division_code
                if report.rejected:
                    continue
                _add_plan(pending, key, target, fields, plan)
                if len(pending) >= BATCH:
                    _flush(conn, pending, written, division, report)
            if not report.rejected:
                _flush(conn, pending, written, division, report)
                _remove_unlisted(conn, set(seen), division, report)
            if report.rejected or not seen:
                if not seen and not report.rejected:
                    report.fatal = "文件里没有数据行 / the file has no data rows"
                raise _Refused
    except _Refused:
        report.added = report.updated = report.removed = report.breaking = 0
    except SheetError as exc:
        report.fatal = str(exc)
        report.added = report.updated = report.removed = report.breaking = 0
    return report


def _differs(line: int) -> str:
    return (
        f"同一课程编号在第{line}行的名称、类别、课时或日期不同；同一课程的每个收费方案应重复相同的课程信息 / "
        f"the same course id has another name, kind, hours or dates on line {line}; every "
        "plan row of a course repeats the same course details"
    )


def _add_plan(
    pending: dict[tuple[str, str], dict[str, Any]],
    key: tuple[str, str],
    target: Target,
    fields: dict[str, Any],
    plan: dict[str, Any],
) -> None:
    entry = pending.get(key)
    if entry is None:
        pending[key] = entry = {"institution_id": target.id, **fields, "plans": []}
    entry["plans"].append(plan)


def _flush(
    conn: Connection,
    pending: dict[tuple[str, str], dict[str, Any]],
    written: set[tuple[str, str]],
    division: Mapping[str, str],
    report: CourseReport,
) -> None:
    """Write the pending courses (plans of a course seen earlier in the file are appended)."""
    if not pending:
        return
    keys = list(pending)
    existing = {(r.institution_id, r.course_id): r for r in _rows_for(conn, keys)}
    stamp = now_iso()
    fresh, changed = [], []
    for key in keys:
        value = pending[key]
        old = existing.get(key)
        if key in written and old is not None:  # more plans of a course already written
            value["plans"] = list(old.plans) + value["plans"]
        if old is None:
            fresh.append(value | {"imported_at": stamp})
            report.added += 1
        elif key in written or _stored(old) != value:
            changed.append(value)
            if key not in written:
                report.updated += 1
        written.add(key)
    if fresh:
        conn.execute(insert(courses), fresh)
    for value in changed:
        conn.execute(
            update(courses)
            .where(
                courses.c.institution_id == value["institution_id"],
                courses.c.course_id == value["course_id"],
            )
            .values(**{k: v for k, v in value.items() if k not in ("institution_id", "course_id")})
            .values(imported_at=stamp)
        )
    emit(
        conn,
        [course_change(wire_of(v), division[v["institution_id"]]) for v in (*fresh, *changed)],
    )
    report.breaking += sum(1 for v in (*fresh, *changed) if course_breaches(course_of(v)))
    pending.clear()


def _rows_for(conn: Connection, keys: Sequence[tuple[str, str]]) -> list[Any]:
    rows: list[Any] = []
    for i in range(0, len(keys), 200):
        chunk = keys[i : i + 200]
        rows += conn.execute(
            select(courses).where(
                or_(
                    *(
                        and_(courses.c.institution_id == a, courses.c.course_id == b)
                        for a, b in chunk
                    )
                )
            )
        ).all()
    return rows


def _stored(row: Any) -> dict[str, Any]:
    return {
        "institution_id": row.institution_id,
        "course_id": row.course_id,
        **{k: getattr(row, k) for k in COURSE_FIELDS if k != "course_id"},
        "plans": list(row.plans),
    }


def _remove_unlisted(
    conn: Connection,
    seen: set[tuple[str, str]],
    division: Mapping[str, str],
    report: CourseReport,
) -> None:
    """Drop the courses of institutions in the file that the file no longer lists."""
    ids = list(division)
    gone: list[tuple[str, str]] = []
    for i in range(0, len(ids), BATCH):
        for row in conn.execute(
            select(courses.c.institution_id, courses.c.course_id).where(
                courses.c.institution_id.in_(ids[i : i + BATCH])
            )
        ):
            if (row.institution_id, row.course_id) not in seen:
                gone.append((row.institution_id, row.course_id))
    for inst_id, course_id in gone:
        conn.execute(
            delete(courses).where(
                courses.c.institution_id == inst_id, courses.c.course_id == course_id
            )
        )
    emit(
        conn,
        [
            course_change({"institution_id": i, "course_id": c, "removed": True}, division[i])
            for i, c in gone
        ],
    )
    report.removed = len(gone)


# --- shapes --------------------------------------------------------------------------------------
def course_of(value: Mapping[str, Any]) -> Course:
    """A stored course (row mapping or wire dict) as the domain's Course."""
    return course_from_wire(value)


def wire_of(value: Mapping[str, Any]) -> dict[str, Any]:
    """A course as the `course` change data, with its verdict in both languages."""
    course = course_of(value)
    return {
        "institution_id": value["institution_id"],
        "course_id": value["course_id"],
        **{k: value[k] for k in COURSE_FIELDS if k != "course_id"},
        "plans": list(value["plans"]),
        "breaches": [
            {"plan": i, "rule": b.rule, "zh": b.zh, "en": b.en} for i, b in course_breaches(course)
        ],
        "verdict": {"zh": course_verdict(course, "zh"), "en": course_verdict(course, "en")},
    }


def course_wire(row: Any) -> dict[str, Any]:
    """A courses row as the `course` change data."""
    return wire_of(_stored(row))


def course_change(data: dict[str, Any], division_code: str) -> dict[str, Any]:
    """The change-log row of one course (or of its removal)."""
    return {
        "kind": "course",
        "entity_id": f"{data['institution_id']}:{data['course_id']}",
        "institution_id": data["institution_id"],
        "division_code": division_code,
        "data": data,
    }


def courses_of(conn: Connection, institution_id: str) -> list[dict[str, Any]]:
    """An institution's listed courses with their verdicts, by course id."""
    rows = conn.execute(
        select(courses)
        .where(courses.c.institution_id == institution_id)
        .order_by(courses.c.course_id)
    )
    return [course_wire(r) for r in rows]


def breaking_courses(conn: Connection, institution_id: str) -> list[dict[str, Any]]:
    """The listed courses of an institution that break a fee rule."""
    return [c for c in courses_of(conn, institution_id) if c["breaches"]]
