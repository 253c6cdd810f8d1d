"""Deterministic enforcement data for app tests and benchmarks: cases, rounds and follow-ups,
handed to a real cache through its pull path (`Store.apply_changes`), as the office would."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import date, datetime, timedelta
from typing import Any

from cache.store import Store
from fieldkit import domain
from fieldkit.domain import cases as dc

ITEMS = (
    "前台张贴监管收款码，撤下个人收款码",
    "开通平台退费流程",
    "课程一次收费超过3个月，改为按月收费",
    "在监管平台完成课程审核",
    "向家长公示退费规则",
    "补交资金监管账户开户证明",
)
STAMP = "001764300000000-0000-office"  # any valid HLC; pulled rows carry the office's


def _case(rng: random.Random, n: int, inst_id: str, today: date) -> dict[str, Any]:
    issued = today - timedelta(days=rng.randrange(1, 40))
    deadline = issued + timedelta(days=rng.choice((7, 10, 15, 30, 45)))
    items = [dc.CaseItem(t) for t in rng.sample(ITEMS, rng.randrange(1, 4))]
    case = dc.Case(f"case-{n:05d}", inst_id, "T0001", issued, deadline, tuple(items))
    roll = rng.random()
    if roll < 0.15:  # rectified by a check visit
        case = replace(
            case,
            items=tuple(
                dc.CaseItem(i.text, dc.RECTIFIED, None, f"chk-{n}", "T0001", today)
                for i in case.items
            ),
        )
    elif roll < 0.3 and deadline < today:  # escalated to an interview
        case = dc.escalate(
            case,
            domain.Escalation(
                dc.INTERVIEW_SCHEDULED,
                deadline + timedelta(days=2),
                "S0001",
                place="区教育局三楼会议室",
                attendees="法定代表人",
            ),
            supervisor=True,
        )
        if rng.random() < 0.5 and deadline + timedelta(days=3) <= today:
            case = dc.escalate(
                case,
                domain.Escalation(
                    dc.INTERVIEW_HELD,
                    deadline + timedelta(days=3),
                    "S0001",
                    outcome="承诺限期整改",
                    new_deadline=max(
                        deadline + timedelta(days=3), today + timedelta(days=rng.randrange(-3, 9))
                    ),
                ),
                supervisor=True,
            )
    return dc.case_to_wire(case) | {"hlc": STAMP}


def load_cases(
    store: Store, institution_ids: list[str], count: int, today: date, seed: int = 16
) -> list[dict[str, Any]]:
    """`count` cases over these institutions, plus a round and follow-up dates, pulled into the
    cache in pages as sync does; returns the case changes."""
    rng = random.Random(seed)
    cursor = int(store.get_meta("cursor") or 0)
    changes: list[dict[str, Any]] = []
    for n in range(count):
        inst = (
            institution_ids[n % len(institution_ids)]
            if n < len(institution_ids)
            else rng.choice(institution_ids)
        )
        cursor += 1
        changes.append(
            {
                "seq": cursor,
                "kind": "case",
                "id": f"case-{n:05d}",
                "data": _case(rng, n, inst, today),
            }
        )
    for inst in rng.sample(institution_ids, max(1, len(institution_ids) // 8)):
        cursor += 1
        changes.append(
            {
                "seq": cursor,
                "kind": "round",
                "id": f"R1:{inst}",
                "data": {
                    "round_id": "R1",
                    "institution_id": inst,
                    "division_code": inst[2:8],
                    "due_on": (today + timedelta(days=3)).isoformat(),
                    "created_on": (today - timedelta(days=5)).isoformat(),
                    "created_by": "S0001",
                    "filter": "all",
                    "sample": 12,
                },
            }
        )
    for start in range(0, len(changes), 500):
        page = changes[start : start + 500]
        store.apply_changes(page, page[-1]["seq"])
    cases = [c for c in changes if c["kind"] == "case"]
    return cases


def follow_up_visits(store: Store, institution_ids: list[str], today: date, count: int) -> None:
    """Visits that set follow-up dates around `today` (local visits, as a technician logs them)."""
    for n, inst in enumerate(institution_ids[:count]):
        started = datetime.combine(today - timedelta(days=10 + n % 5), datetime.min.time())
        store.create_visit(
            domain.Visit(
                visit_id=f"fu-{n:04d}",
                institution_id=inst,
                technician_id="T0001",
                kind=domain.visits.GUIDANCE,
                started_at=started.replace(hour=9),
                ended_at=started.replace(hour=10),
                outcome="partial",
                next_visit_on=today + timedelta(days=(n % 9) - 2),
                notes="约定回访",
            )
        )
