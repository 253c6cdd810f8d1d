"""The figures an office reports, per division (province, city, county) or per technician."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import ColumnElement, Connection, case, func, select

from fieldkit import domain
from fieldkit.domain.platform import PLATFORM_STEPS

from .store import (
    conflicts,
    institutions,
    platform_steps,
    platform_trade,
    records,
    steps,
    visits,
)

COUNTERS = (
    "institutions",
    "bank_verified",
    "orders",
    "order_amount_fen",
    "full_process",
    "visits",
    "rectification_notices",
    "posters_printed",
    "qr_checks",
    "qr_mismatches",
    "conflicts",
    "field_bank_verified",
    "field_full_process",
    "platform_reported",
)
FIELD_ONLY_STEPS = tuple(k for k in domain.STEP_KEYS if k not in PLATFORM_STEPS)


def _per_division(conn: Connection, scope: ColumnElement[bool]) -> dict[str, dict[str, Any]]:
    """Raw counters grouped by the institutions' division code: the platform's, the field's beside."""
    figures: dict[str, dict[str, Any]] = defaultdict(_empty)
    code = institutions.c.division_code
    passed = func.sum(case((institutions.c.bank_status == "passed", 1), else_=0))
    for row in conn.execute(
        select(
            code,
            func.count(),
            passed,
            func.sum(institutions.c.orders),
            func.sum(institutions.c.order_amount_fen),
        )
        .where(scope)
        .group_by(code)
    ):
        f = figures[row[0]]
        f["institutions"], f["field_bank_verified"] = row[1], int(row[2] or 0)
        f["orders"], f["order_amount_fen"] = int(row[3] or 0), int(row[4] or 0)
    # The field's marks
    joined = steps.join(institutions, institutions.c.id == steps.c.institution_id)
    for row in conn.execute(
        select(code, steps.c.step, func.count())
        .select_from(joined)
        .where(scope, steps.c.status == domain.DONE)
        .group_by(code, steps.c.step)
    ):
        figures[row[0]]["field_by_step"][row[1]] = row[2]
    full = (
        select(steps.c.institution_id)
        .where(steps.c.step.in_(domain.FULL_PROCESS_STEPS), steps.c.status == domain.DONE)
        .group_by(steps.c.institution_id)
        .having(func.count() == len(domain.FULL_PROCESS_STEPS))
    )
    for row in conn.execute(
        select(code, func.count()).where(scope, institutions.c.id.in_(full)).group_by(code)
    ):
        figures[row[0]]["field_full_process"] = row[1]
    # The platform's readings: what the office reports
    done = platform_steps.c.done_on.is_not(None)
    joined = platform_steps.join(institutions, institutions.c.id == platform_steps.c.institution_id)
    for row in conn.execute(
        select(code, platform_steps.c.step, func.count())
        .select_from(joined)
        .where(scope, done)
        .group_by(code, platform_steps.c.step)
    ):
        figures[row[0]]["by_step"][row[1]] = row[2]
    full = (
        select(platform_steps.c.institution_id)
        .where(platform_steps.c.step.in_(domain.FULL_PROCESS_STEPS), done)
        .group_by(platform_steps.c.institution_id)
        .having(func.count() == len(domain.FULL_PROCESS_STEPS))
    )
    for row in conn.execute(
        select(code, func.count()).where(scope, institutions.c.id.in_(full)).group_by(code)
    ):
        figures[row[0]]["full_process"] = row[1]
    joined = platform_trade.join(institutions, institutions.c.id == platform_trade.c.institution_id)
    for row in conn.execute(
        select(code, func.count()).select_from(joined).where(scope).group_by(code)
    ):
        figures[row[0]]["platform_reported"] = row[1]
    for f in figures.values():
        f["bank_verified"] = f["by_step"]["bank_verified"]
        for key in FIELD_ONLY_STEPS:  # steps the platform does not know: the field's count
            f["by_step"][key] = f["field_by_step"][key]
    _add_visits(conn, scope, figures)
    _add_records(conn, scope, figures)
    return figures


def _add_visits(
    conn: Connection, scope: ColumnElement[bool], figures: dict[str, dict[str, Any]]
) -> None:
    code = institutions.c.division_code
    notices = func.sum(case((visits.c.has_rectification, 1), else_=0))
    joined = visits.join(institutions, institutions.c.id == visits.c.institution_id)
    for row in conn.execute(
        select(code, func.count(), notices).select_from(joined).where(scope).group_by(code)
    ):
        figures[row[0]]["visits"], figures[row[0]]["rectification_notices"] = row[1], int(row[2])
    joined = conflicts.join(institutions, institutions.c.id == conflicts.c.institution_id)
    for row in conn.execute(
        select(code, func.count())
        .select_from(joined)
        .where(scope, conflicts.c.resolved.is_(False))
        .group_by(code)
    ):
        figures[row[0]]["conflicts"] = row[1]


def _add_records(
    conn: Connection, scope: ColumnElement[bool], figures: dict[str, dict[str, Any]]
) -> None:
    code = institutions.c.division_code
    joined = records.join(institutions, institutions.c.id == records.c.institution_id)
    for row in conn.execute(
        select(code, records.c.kind, func.count())
        .select_from(joined)
        .where(scope)
        .group_by(code, records.c.kind)
    ):
        key = "posters_printed" if row[1] == "poster.printed" else "qr_checks"
        figures[row[0]][key] += row[2]
    mismatch = records.c.data["result"].as_string() == "mismatch"
    for row in conn.execute(
        select(code, func.count())
        .select_from(joined)
        .where(scope, records.c.kind == "qr.checked", mismatch)
        .group_by(code)
    ):
        figures[row[0]]["qr_mismatches"] = row[1]


def _empty() -> dict[str, Any]:
    return {k: 0 for k in COUNTERS} | {
        "by_step": {k: 0 for k in domain.STEP_KEYS},
        "field_by_step": {k: 0 for k in domain.STEP_KEYS},
    }


def _sum(parts: list[dict[str, Any]]) -> dict[str, Any]:
    total = _empty()
    for part in parts:
        for key in COUNTERS:
            total[key] += part[key]
        for group in ("by_step", "field_by_step"):
            for key, n in part[group].items():
                total[group][key] += n
    return total


def _shape(code: str | None, name: str, f: dict[str, Any]) -> dict[str, Any]:
    """The stats answer of DESIGN.md for one group of figures."""
    n = f["institutions"]
    return {
        "division": code,
        "name": name,
        "institutions": n,
        "by_step": f["by_step"],
        "bank_verified": f["bank_verified"],
        "bank_verified_rate": round(f["bank_verified"] / n, 4) if n else 0.0,
        "payment_enabled": f["by_step"]["payment_enabled"],
        "full_process": f["full_process"],
        "orders": f["orders"],
        "order_amount_fen": f["order_amount_fen"],
        "visits": f["visits"],
        "rectification_notices": f["rectification_notices"],
        "posters_printed": f["posters_printed"],
        "qr_checks": f["qr_checks"],
        "qr_mismatches": f["qr_mismatches"],
        "open_conflicts": f["conflicts"],
        "platform_reported": f["platform_reported"],
        # The field's marks beside the platform's figures ("marked done on site…")
        "field": {
            "by_step": f["field_by_step"],
            "bank_verified": f["field_bank_verified"],
            "full_process": f["field_full_process"],
        },
    }


def _child_of(zone: str | None, code: str) -> str:
    """The division one level below `zone` that holds `code` (counties for a technician's list)."""
    if zone == domain.PROVINCE_CODE:
        city = domain.city_of(code)
        return city.code if city else code
    return code


def figures(
    conn: Connection, scope: ColumnElement[bool], code: str | None, name: str
) -> dict[str, Any]:
    """The stats of everything matching `scope`, with one child entry per sub-division."""
    per = _per_division(conn, scope)
    answer = _shape(code, name, _sum(list(per.values())))
    if code is not None and domain.DIVISIONS.get(code) and domain.DIVISIONS[code].level == "county":
        answer["children"] = []
        return answer
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for division_code, f in per.items():
        groups[_child_of(code, division_code)].append(f)
    answer["children"] = [_shape(c, domain.full_name(c), _sum(groups[c])) for c in sorted(groups)]
    return answer
