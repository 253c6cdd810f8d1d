"""The platform's readings as the office holds them: read per institution, sent to laptops, seeded for the demo, and the check that a platform-confirmed step is not undone."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from sqlalchemy import Connection, insert, select

from fieldkit import domain
from fieldkit.domain.platform import PLATFORM_STEPS

from .store import (
    courses,
    dumps,
    emit,
    now_iso,
    platform_steps,
    platform_trade,
)

BATCH = 500
TRADE = ("orders", "order_amount_fen", "lessons_consumed", "refunds", "refund_amount_fen")


def _no_trade() -> dict[str, int]:
    return {k: 0 for k in TRADE}


def readings_of(conn: Connection, ids: Sequence[str]) -> dict[str, dict[str, Any]]:
    """The stored platform reading of institutions: {"steps": {step: date}, "trade", "imported_at"}."""
    out: dict[str, dict[str, Any]] = {}
    for i in range(0, len(ids), BATCH):
        chunk = list(ids[i : i + BATCH])
        for row in conn.execute(
            select(platform_trade).where(platform_trade.c.institution_id.in_(chunk))
        ):
            out[row.institution_id] = {
                "steps": {},
                "trade": {k: int(getattr(row, k)) for k in TRADE},
                "imported_at": row.imported_at,
            }
        for row in conn.execute(
            select(platform_steps).where(platform_steps.c.institution_id.in_(chunk))
        ):
            if row.institution_id in out:
                out[row.institution_id]["steps"][row.step] = row.done_on
    return out


def platform_wire(institution_id: str, reading: Mapping[str, Any]) -> dict[str, Any]:
    """The `platform` change data: each step's platform date (or null) and the trade."""
    return {
        "institution_id": institution_id,
        "steps": dict(reading["steps"]),
        **reading["trade"],
        "imported_at": reading["imported_at"],
    }


def platform_change_rows(
    conn: Connection,
    ids: Sequence[str],
    division: Mapping[str, str],
    with_courses: bool = True,
) -> list[dict[str, Any]]:
    """The change-log rows of the platform's readings (and courses) of these institutions."""
    rows: list[dict[str, Any]] = []
    for inst_id, reading in readings_of(conn, ids).items():
        rows.append(
            {
                "kind": "platform",
                "entity_id": inst_id,
                "institution_id": inst_id,
                "division_code": division[inst_id],
                "data": dumps(platform_wire(inst_id, reading)),
            }
        )
    if with_courses:
        from .courses import course_change, course_wire

        for i in range(0, len(ids), BATCH):
            chunk = list(ids[i : i + BATCH])
            for row in conn.execute(select(courses).where(courses.c.institution_id.in_(chunk))):
                rows.append(course_change(course_wire(row), division[row.institution_id]))
    return rows


def seed_readings(
    conn: Connection, institution_rows: Sequence[Mapping[str, Any]], step_rows: Sequence[Any]
) -> None:
    """The demo's platform readings: what the generated field marks say, dated, and its trade."""
    division = {r["id"]: r["division_code"] for r in institution_rows}
    stamp = now_iso()
    values = []
    for s in step_rows:
        if s["step"] in PLATFORM_STEPS:
            done = s["status"] == domain.DONE
            order = PLATFORM_STEPS.index(s["step"])
            day = date(2025, 3, 1 + order * 2).isoformat() if done else None
            values.append(
                {"institution_id": s["institution_id"], "step": s["step"], "done_on": day}
            )
    for i in range(0, len(values), 5000):
        conn.execute(insert(platform_steps), values[i : i + 5000])
    trade = [
        {
            "institution_id": r["id"],
            "orders": r.get("orders") or 0,
            "order_amount_fen": r.get("order_amount_fen") or 0,
            "lessons_consumed": (r.get("orders") or 0) * 8,
            "refunds": 0,
            "refund_amount_fen": 0,
            "imported_at": stamp,
        }
        for r in institution_rows
    ]
    for i in range(0, len(trade), 5000):
        conn.execute(insert(platform_trade), trade[i : i + 5000])
    ids = list(division)
    emit(conn, platform_change_rows(conn, ids, division, with_courses=False))


def demo_platform_steps(step_rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The platform's view of the generated steps: the field's, except a few in the demo county.

    In the demo technician's county three reviews marked done on site are not yet on the
    platform, and two reviews blocked in the field are done there, so the discrepancy list has
    something to show; none of them touches the province's reported figures.
    """
    from fieldkit.demo_data import DEMO_TECH_COUNTY

    rows = [dict(s) for s in step_rows]
    prefix = f"JG{DEMO_TECH_COUNTY}"
    unconfirmed = blocked = 0
    for row in rows:
        if not row["institution_id"].startswith(prefix) or row["step"] not in (
            "qualification",
            "personnel",
        ):
            continue
        if row["status"] == domain.DONE and unconfirmed < 3:
            row["status"], unconfirmed = domain.TODO, unconfirmed + 1
        elif row["status"] == domain.BLOCKED and blocked < 2:
            row["status"], blocked = domain.DONE, blocked + 1
    return rows


def check_against_platform(conn: Connection, inst: Any, key: str, status: str) -> None:
    """Refuse a field mark the platform contradicts: a confirmed done undone, or courses done
    while a listed course breaks a fee rule (Rejected in words)."""
    from .courses import breaking_courses
    from .opdata import Rejected

    if status != domain.DONE:
        done_on = conn.execute(
            select(platform_steps.c.done_on).where(
                platform_steps.c.institution_id == inst.id, platform_steps.c.step == key
            )
        ).scalar()
        if done_on is not None:
            name = domain.STEPS_BY_KEY[key]
            raise Rejected(
                "platform_confirmed",
                f"平台已于{done_on}确认“{name.zh}”完成，现场不能撤销；如平台有误，请联系办公室核实",
                f"The platform confirmed '{name.en}' done on {done_on}; it cannot be undone "
                "in the field (if the platform is wrong, ask the office to check)",
            )
    elif key == "courses":
        breaking = breaking_courses(conn, inst.id)
        if breaking:
            first = breaking[0]
            more = len(breaking) - 1
            raise Rejected(
                "course_rules",
                f"课程“{first['name']}”（{first['course_id']}）违反预收费规定："
                f"{first['verdict']['zh']}"
                + (f"；另有{more}门课程违规" if more else "")
                + "，课程审核不能标记完成",
                f"Course '{first['name']}' ({first['course_id']}) breaks a prepaid-fee rule: "
                f"{first['verdict']['en']}"
                + (f"; {more} more courses do too" if more else "")
                + "; the course review cannot be marked done",
            )


def platform_detail(conn: Connection, institution_id: str) -> dict[str, Any]:
    """What the institution detail adds: the platform's reading, its courses, observed charges."""
    from .charges import charges_of
    from .courses import courses_of

    reading = readings_of(conn, [institution_id]).get(institution_id)
    return {
        "platform": platform_wire(institution_id, reading) if reading else None,
        "courses": courses_of(conn, institution_id),
        "charges": charges_of(conn, institution_id),
    }
