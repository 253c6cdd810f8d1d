"""The platform's course list imported, each course checked by the prepaid-fee rules."""

from __future__ import annotations

import dataclasses
import hashlib
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, bindparam, delete, insert, select, tuple_, update

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
COURSE_FIELDS = ("name", "kind", "class_hours", "start_on", "end_on")  # beside the key, the plans
PLAN_KEYS = ("amount_fen", "hours", "months", "collect_from")


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
            state = _Progress(held_courses(conn))
            named: dict[tuple[str, str], Target] = {}  # a course list names each institution often
            seen: dict[tuple[str, str], tuple[int, bytes]] = {}  # first line, digest of the course
            division: dict[str, str] = {}
            pending: dict[tuple[str, str], dict[str, Any]] = {}
            for row in sheet.rows:
                if row.problem:
                    report.rejected.append((row.line, row.problem))
                    continue
                value = {k: row.cells[i] for k, i in where.items() if i < len(row.cells)}
                try:
                    names = (value.get("uscc", ""), value.get("platform_id", ""))
                    target = named.get(names) or find_target(value, by_uscc, by_id)
                    named[names] = target
                    fields, plan = check_course_row(value)
                except ValueError as exc:
                    report.rejected.append((row.line, str(exc)))
                    continue
                key = (target.id, fields["course_id"])
                first = seen.get(key)
                details = _digest(fields)
                if first is not None and first[1] != details:
                    report.rejected.append((row.line, _differs(first[0])))
                    continue
                if first is None:
                    seen[key] = (row.line, details)
                division[target.id] = target.division_code
                if report.rejected:
                    continue
                _add_plan(pending, key, target, fields, plan)
                if len(pending) >= BATCH:
                    _flush(conn, pending, state, division, report)
            if not report.rejected:
                _flush(conn, pending, state, division, report)
                _flush(conn, state.partial, state, division, report, last=True)
                _remove_unlisted(conn, state.held, seen.keys(), division, report)
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


def _digest(value: Mapping[str, Any] | Any, plans: Sequence[Mapping[str, Any]] = ()) -> bytes:
    """A short fingerprint of a course's details (and plans), to compare without keeping them."""
    text = repr(
        (
            tuple(value[k] for k in COURSE_FIELDS),
            [tuple(p.get(k) for k in PLAN_KEYS) for p in plans],
        )
    )
    return hashlib.blake2b(text.encode(), digest_size=16).digest()


def held_courses(conn: Connection) -> dict[tuple[str, str], tuple[bytes, ...]]:
    """Every course the office holds, by (institution, course id), in one query: the fingerprint
    of its details with its first plan, its first two plans, … (a file may split them)."""
    detail = [courses.c[k] for k in COURSE_FIELDS]
    held = {}
    for row in conn.execute(
        select(courses.c.institution_id, courses.c.course_id, *detail, courses.c.plans)
    ):
        plans = list(row.plans)
        held[(row.institution_id, row.course_id)] = tuple(
            _digest(row._mapping, plans[:n]) for n in range(1, len(plans) + 1)
        )
    return held


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


@dataclass
class _Progress:
    """What an import knows beside the file: the office's courses, and the file's so far."""

    held: dict[tuple[str, str], tuple[bytes, ...]]
    # Courses the office now holds as the file lists them so far (True: counted as changed).
    written: dict[tuple[str, str], bool] = dataclasses.field(default_factory=dict)
    # Courses whose plans so far are the first of those the office holds: more may follow.
    partial: dict[tuple[str, str], dict[str, Any]] = dataclasses.field(default_factory=dict)


def _flush(
    conn: Connection,
    pending: dict[tuple[str, str], dict[str, Any]],
    state: _Progress,
    division: Mapping[str, str],
    report: CourseReport,
    last: bool = False,
) -> None:
    """Write the pending courses that differ from what the office holds; a course's plans may be
    split over the file, so one held with more plans than seen yet waits (until `last`)."""
    if not pending:
        return
    again = [k for k in pending if k in state.written]
    earlier = {(r.institution_id, r.course_id): r for r in _rows_for(conn, again)}
    stamp = now_iso()
    fresh, changed = [], []
    for key, value in list(pending.items()):
        if key in state.written:  # more plans of a course the office holds as seen so far
            value["plans"] = list(earlier[key].plans) + value["plans"]
            changed.append(value)
            report.updated += not state.written[key]
            state.written[key] = True
            continue
        if not last and key in state.partial:
            value["plans"] = state.partial.pop(key)["plans"] + value["plans"]
        prefixes = state.held.get(key)
        if prefixes is None:
            fresh.append(value | {"imported_at": stamp})
            report.added += 1
            state.written[key] = True
            continue
        n = len(value["plans"])
        if not last and n <= len(prefixes) and prefixes[n - 1] == _digest(value, value["plans"]):
            if n < len(prefixes):
                state.partial[key] = value  # the office holds more plans: wait for them
            else:
                state.written[key] = False  # as held: nothing to write
            continue
        changed.append(value)
        report.updated += 1
        state.written[key] = True
    if last:
        state.partial = {}
    if fresh:
        conn.execute(insert(courses), fresh)
    if changed:
        conn.execute(
            update(courses)
            .where(
                courses.c.institution_id == bindparam("c_institution_id"),
                courses.c.course_id == bindparam("c_course_id"),
            )
            .values({k: bindparam(f"c_{k}") for k in (*COURSE_FIELDS, "plans") if k != "course_id"})
            .values(imported_at=stamp),
            [{f"c_{k}": v for k, v in value.items()} for value in changed],
        )
    wires = [wire_of(v) for v in (*fresh, *changed)]
    emit(conn, [course_change(w, division[w["institution_id"]]) for w in wires])
    report.breaking += sum(1 for w in wires if w["breaches"])
    pending.clear()


def _rows_for(conn: Connection, keys: Sequence[tuple[str, str]]) -> list[Any]:
    """The stored courses of these (institution, course id) keys, in one query per batch."""
    pair = tuple_(courses.c.institution_id, courses.c.course_id)
    return list(conn.execute(select(courses).where(pair.in_(keys))).all()) if keys else []


def _stored(row: Any) -> dict[str, Any]:
    return {
        "institution_id": row.institution_id,
        "course_id": row.course_id,
        **{k: getattr(row, k) for k in COURSE_FIELDS if k != "course_id"},
        "plans": list(row.plans),
    }


def _remove_unlisted(
    conn: Connection,
    held: Mapping[tuple[str, str], tuple[bytes, ...]],
    seen: Collection[tuple[str, str]],
    division: Mapping[str, str],
    report: CourseReport,
) -> None:
    """Drop the courses of institutions in the file that the file no longer lists."""
    gone = [key for key in held if key[0] in division and key not in seen]
    if gone:
        conn.execute(
            delete(courses).where(
                courses.c.institution_id == bindparam("c_id"),
                courses.c.course_id == bindparam("c_course"),
            ),
            [{"c_id": i, "c_course": c} for i, c in gone],
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
    found = course_breaches(course)
    return {
        "institution_id": value["institution_id"],
        "course_id": value["course_id"],
        **{k: value[k] for k in COURSE_FIELDS if k != "course_id"},
        "plans": list(value["plans"]),
        "breaches": [{"plan": i, "rule": b.rule, "zh": b.zh, "en": b.en} for i, b in found],
        "verdict": {lang: course_verdict(course, lang, found) for lang in ("zh", "en")},
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
