"""The figures an office reports, computed on the laptop from the platform's readings pulled with
each institution, with the field's marks beside them: the dashboard when the office is out of reach.

The shape is the office's stats answer (fieldkit/server/stats.py): `by_step`, `bank_verified`,
`full_process`, `orders` and `order_amount_fen` are the platform's; `field` holds the field's
counts of the same. A step the platform does not know (the parent app guidance) counts the
field's marks in both, as the office does. An institution the platform has not listed counts as
not done on the platform.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Mapping
from typing import Any

from fieldkit import domain
from fieldkit.domain.platform import PLATFORM_STEPS

from .progress import STEP_BIT

LEVELS = ("county", "city")
COUNTERS = (
    "institutions",
    "bank_verified",
    "full_process",
    "orders",
    "order_amount_fen",
    "visits",
    "rectification_notices",
    "platform_reported",
    "field_bank_verified",
    "field_full_process",
)
FIELD_ONLY = tuple(k for k in domain.STEP_KEYS if k not in PLATFORM_STEPS)


def division_of(code: str, level: str) -> str:
    """The county itself, or the city (code ending in 00) that holds it."""
    if level not in LEVELS:
        raise ValueError(f"unknown level {level!r}; one of {', '.join(LEVELS)}")
    return code[:4] + "00" if level == "city" else code


def empty() -> dict[str, Any]:
    """Counters at zero, per step too."""
    return {k: 0 for k in COUNTERS} | {
        "by_step": dict.fromkeys(domain.STEP_KEYS, 0),
        "field_by_step": dict.fromkeys(domain.STEP_KEYS, 0),
    }


def platform_figures(
    conn: sqlite3.Connection, level: str = "county"
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """(the totals of the cache, one entry per county or city), in the office's stats shape."""
    groups: dict[str, dict[str, Any]] = {}
    for code, mask, full, data in conn.execute(
        "SELECT i.division_code, i.done_mask, i.full_process, p.data FROM institutions i "
        "LEFT JOIN platform_readings p ON p.institution_id = i.id"
    ):
        f = groups.get(division_of(code, level))
        if f is None:
            f = groups[division_of(code, level)] = empty()
        _count(f, int(mask or 0), bool(full), json.loads(data) if data else None)
    for code, visits, notices in conn.execute(
        "SELECT i.division_code, count(*), sum(v.rectification IS NOT NULL) FROM visits v "
        "JOIN institutions i ON i.id = v.institution_id GROUP BY i.division_code"
    ):
        f = groups.setdefault(division_of(code, level), empty())
        f["visits"] += int(visits or 0)
        f["rectification_notices"] += int(notices or 0)
    children = [shape(code, f) for code, f in sorted(groups.items())]
    return shape(None, total(groups.values())), children


def _count(f: dict[str, Any], mask: int, full: bool, reading: Mapping[str, Any] | None) -> None:
    """Add one institution: its field marks (done_mask) and the platform's reading."""
    f["institutions"] += 1
    for key, bit in STEP_BIT.items():
        if mask & bit:
            f["field_by_step"][key] += 1
    f["field_bank_verified"] += bool(mask & STEP_BIT["bank_verified"])
    f["field_full_process"] += full
    if reading is None:
        return
    f["platform_reported"] += 1
    steps = reading.get("steps") or {}
    for key in PLATFORM_STEPS:
        if steps.get(key):
            f["by_step"][key] += 1
    f["full_process"] += all(steps.get(k) for k in domain.FULL_PROCESS_STEPS)
    f["orders"] += int(reading.get("orders") or 0)
    f["order_amount_fen"] += int(reading.get("order_amount_fen") or 0)


def total(parts: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """The sum of several groups of raw counters."""
    out = empty()
    for part in parts:
        for key in COUNTERS:
            out[key] += part[key]
        for group in ("by_step", "field_by_step"):
            for key, n in part[group].items():
                out[group][key] += n
    return out


def shape(code: str | None, f: Mapping[str, Any]) -> dict[str, Any]:
    """Raw counters as the office's stats answer (the platform's, the field's under `field`)."""
    by_step = dict(f["by_step"])
    for key in FIELD_ONLY:
        by_step[key] = f["field_by_step"][key]
    n = f["institutions"]
    bank = by_step["bank_verified"]
    return {
        "division": code,
        "name": domain.full_name(code) if code else "",
        "institutions": n,
        "by_step": by_step,
        "bank_verified": bank,
        "bank_verified_rate": round(bank / n, 4) if n else 0.0,
        "payment_enabled": by_step["payment_enabled"],
        "full_process": f["full_process"],
        "orders": f["orders"],
        "order_amount_fen": f["order_amount_fen"],
        "visits": f["visits"],
        "rectification_notices": f["rectification_notices"],
        "platform_reported": f["platform_reported"],
        "field": {
            "by_step": dict(f["field_by_step"]),
            "bank_verified": f["field_bank_verified"],
            "full_process": f["field_full_process"],
        },
    }


def regroup(children: Iterable[Mapping[str, Any]], level: str) -> list[dict[str, Any]]:
    """The office's per-division answers at `level` (its counties summed by city for 'city')."""
    groups: dict[str, dict[str, Any]] = {}
    for child in children:
        code = str(child.get("division") or "")
        key = division_of(code, level) if code.startswith("43") and len(code) == 6 else code
        f = groups.setdefault(key, empty())
        field = child.get("field") or {}
        for name in ("institutions", "bank_verified", "full_process", "orders"):
            f[name] += int(child.get(name) or 0)
        f["order_amount_fen"] += int(child.get("order_amount_fen") or 0)
        f["platform_reported"] += int(child.get("platform_reported") or 0)
        f["field_bank_verified"] += int(field.get("bank_verified") or 0)
        f["field_full_process"] += int(field.get("full_process") or 0)
        for group, source in (
            ("by_step", child.get("by_step")),
            ("field_by_step", field.get("by_step")),
        ):
            for step, n in (source or {}).items():
                if step in f[group]:
                    f[group][step] += int(n or 0)
    return [shape(code, f) for code, f in sorted(groups.items())]
