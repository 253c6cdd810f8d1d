"""The office's side of enforcement: cases opened by notices, their items and escalation, supervisor
reviews of visits, look-back rounds, and the ledger (整改台账) computed with the office's date."""

from __future__ import annotations

import math
import random
import secrets
from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, func, insert, select, update

from fieldkit import domain
from fieldkit.domain import cases as dc

from .auth import Caller, division_filter
from .evidence import case_files
from .opdata import Rejected, invalid, text_field
from .store import (
    SERVER_WRITER,
    Store,
    amended_since,
    assignments,
    case_change,
    cases,
    emit,
    institutions,
    now_iso,
    review_change,
    reviews,
    round_change,
    round_members,
    rounds,
    steps,
    technicians,
    visit_wire,
    visits,
)

KINDS = ("case.item", "case.escalate", "visit.review")
LEDGER_STATES = dc.CASE_STATES


def _stamp_day(hlc: str) -> date:
    """The calendar day (UTC) of an HLC stamp."""
    return datetime.fromtimestamp(domain.Stamp.parse(hlc).ms / 1000).date()


def _day(data: dict[str, Any], key: str, default: date) -> date:
    value = data.get(key)
    if value is None:
        return default
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise Rejected(
            "invalid", f"“{key}”的日期格式应为 YYYY-MM-DD", f"'{key}' must be a date YYYY-MM-DD"
        ) from None


# --- opening a case ------------------------------------------------------------------------------
def has_work(visit: domain.Visit, reviewed: bool) -> bool:
    """Whether visit_recorded has anything to do for this visit: a review of it to log again, or
    the case its notice opens."""
    return reviewed or dc.open_case(visit) is not None


def visit_recorded(conn: Connection, inst: Any, visit: domain.Visit, hlc: str) -> None:
    """Open the case a visit's notice starts (once; a later amend keeps the case), and tell the
    technician's list that a returned visit has been amended."""
    _emit_review(conn, visit.visit_id, inst.division_code)
    opened = dc.open_case(visit)
    if opened is None:
        return
    if conn.execute(select(cases.c.case_id).where(cases.c.case_id == opened.case_id)).first():
        return
    conn.execute(
        insert(cases).values(
            case_id=opened.case_id,
            institution_id=inst.id,
            division_code=inst.division_code,
            data=dc.case_to_wire(opened),
            hlc=hlc,
            updated_at=now_iso(),
        )
    )
    _emit_case(conn, opened.case_id)


def _emit_case(conn: Connection, case_id: str) -> None:
    row = conn.execute(select(cases).where(cases.c.case_id == case_id)).one()
    emit(conn, [case_change(row)])


def _load_case(conn: Connection, data: dict[str, Any], inst: Any) -> tuple[Any, domain.Case]:
    case_id = str(text_field(data, "case_id", True))
    row = conn.execute(
        select(cases).where(cases.c.case_id == case_id, cases.c.institution_id == inst.id)
    ).first()
    if row is None:
        raise Rejected(
            "unknown_case",
            f"办公室没有这家机构的案件（{case_id}），请先同步开具整改通知书的走访",
            f"The office has no case '{case_id}' for this institution; sync the notice's visit "
            "first",
        )
    return row, dc.case_from_wire(row.data)


def _save_case(conn: Connection, case: domain.Case, hlc: str) -> None:
    conn.execute(
        update(cases)
        .where(cases.c.case_id == case.case_id)
        .values(data=dc.case_to_wire(case), hlc=hlc, updated_at=now_iso())
    )
    _emit_case(conn, case.case_id)


def _visit_of(conn: Connection, visit_id: str | None) -> domain.Visit | None:
    if not visit_id:
        return None
    row = conn.execute(select(visits).where(visits.c.visit_id == visit_id)).first()
    return domain.visit_from_wire(visit_wire(row)) if row is not None else None


# --- op handlers ---------------------------------------------------------------------------------
def case_item(conn: Connection, caller: Caller, op: dict[str, Any], inst: Any) -> dict[str, Any]:
    """`case.item`: an item rectified (by a check visit), waived with a reason, or reopened."""
    data = op["data"]
    _, case = _load_case(conn, data, inst)
    visit_id = text_field(data, "visit_id")
    visit = _visit_of(conn, visit_id)
    if visit_id and visit is None:
        raise Rejected(
            "unknown_visit",
            f"办公室没有复查走访（{visit_id}），请先同步这次走访",
            f"The office has no check visit '{visit_id}'; sync that visit first",
        )
    on = visit.started_at.date() if visit else _day(data, "on", _stamp_day(op["hlc"]))
    try:
        changed = dc.change_item(
            case,
            data.get("item"),  # type: ignore[arg-type]  # checked by the domain
            str(data.get("status")),
            reason=text_field(data, "reason"),
            visit=visit,
            by=caller.id,
            on=on,
            supervisor=caller.supervisor,
        )
    except domain.ValidationError as exc:
        raise invalid(exc) from None
    _save_case(conn, changed, op["hlc"])
    return {}


def case_escalate(
    conn: Connection, caller: Caller, op: dict[str, Any], inst: Any
) -> dict[str, Any]:
    """`case.escalate`: interview scheduled → held → revocation recommended, or closed."""
    data = op["data"]
    _, case = _load_case(conn, data, inst)
    try:
        step = dc.escalation_from_op(data, caller.id)
        changed = dc.escalate(case, step, supervisor=caller.supervisor)
    except domain.ValidationError as exc:
        raise invalid(exc) from None
    _save_case(conn, changed, op["hlc"])
    return {}


def visit_review(conn: Connection, caller: Caller, op: dict[str, Any], inst: Any) -> dict[str, Any]:
    """`visit.review`: a supervisor approves a visit or returns it with a comment."""
    data = op["data"]
    visit_id = str(text_field(data, "visit_id", True))
    try:
        comment = dc.check_review(
            str(data.get("decision")), text_field(data, "comment"), supervisor=caller.supervisor
        )
    except domain.ValidationError as exc:
        raise invalid(exc) from None
    found = conn.execute(
        select(visits.c.visit_id).where(
            visits.c.visit_id == visit_id, visits.c.institution_id == inst.id
        )
    ).first()
    if found is None:
        raise Rejected(
            "unknown_visit",
            f"办公室没有这次走访（{visit_id}）",
            f"The office has no visit '{visit_id}' of this institution",
        )
    conn.execute(
        insert(reviews).values(
            op_id=op["op_id"],
            visit_id=visit_id,
            institution_id=inst.id,
            decision=data["decision"],
            comment=comment,
            reviewer_id=caller.id,
            reviewed_on=_day(data, "on", _stamp_day(op["hlc"])).isoformat(),
            hlc=op["hlc"],
        )
    )
    _emit_review(conn, visit_id, inst.division_code)
    return {}


def _emit_review(conn: Connection, visit_id: str, division_code: str) -> None:
    """Log the latest review of a visit (if it has one), saying whether it was amended since."""
    latest = conn.execute(
        select(reviews).where(reviews.c.visit_id == visit_id).order_by(reviews.c.hlc.desc())
    ).first()
    if latest is None:
        return
    stamps = conn.execute(select(visits.c.field_hlcs).where(visits.c.visit_id == visit_id)).scalar()
    emit(conn, [review_change(latest, division_code, amended_since(stamps, latest.hlc))])


# --- the ledger ----------------------------------------------------------------------------------
def ledger(
    conn: Connection,
    scope: ColumnElement[bool],
    today: date,
    state: str | None = None,
    *,
    files: bool = False,
) -> list[dict[str, Any]]:
    """Every case in scope (a condition on `institutions`), with its state on `today` (and with
    `files`, its evidence: the notice visit's files on the case, each item's on the item)."""
    joined = cases.join(institutions, institutions.c.id == cases.c.institution_id)
    rows = conn.execute(
        select(cases, institutions.c.name)
        .select_from(joined)
        .where(scope)
        .order_by(cases.c.division_code, cases.c.institution_id, cases.c.case_id)
    ).all()
    out = []
    for row in rows:
        case = dc.case_from_wire(row.data)
        current = dc.case_state(case, today)
        if state is not None and current != state:
            continue
        wire = dc.case_to_wire(case)
        out.append(
            wire
            | {
                "state": current,
                "institution_name": row.name,
                "division_code": row.division_code,
            }
        )
    if files:
        _with_files(conn, out)
    return out


def _with_files(conn: Connection, cases_out: list[dict[str, Any]]) -> None:
    """Put each case's evidence on it: the notice visit's files, and each item's own."""
    held = case_files(conn, [c["case_id"] for c in cases_out])
    for case in cases_out:
        case["files"] = held.get((case["case_id"], None), [])
        for index, entry in enumerate(case["items"]):
            entry["files"] = held.get((case["case_id"], index), [])


def open_counts(conn: Connection, scope: ColumnElement[bool], today: date) -> dict[str, int]:
    """Per division: cases not yet rectified or closed, and how many of them are overdue."""
    counts: dict[str, int] = defaultdict(int)
    for row in ledger(conn, scope, today):
        if row["state"] not in (dc.RECTIFIED, dc.CLOSED):
            counts[f"{row['division_code']}:open"] += 1
        if row["state"] == dc.OVERDUE:
            counts[f"{row['division_code']}:overdue"] += 1
    return dict(counts)


# --- look-back rounds ----------------------------------------------------------------------------
def _matching(conn: Connection, division: str, filter_name: str) -> list[str]:
    """The institutions of a division that pass a round's filter, in id order."""
    scope = division_filter(institutions.c.division_code, division)
    ids = [r[0] for r in conn.execute(select(institutions.c.id).where(scope))]
    if filter_name == "all":
        return sorted(ids)
    joined = steps.join(institutions, institutions.c.id == steps.c.institution_id)
    status: dict[str, dict[str, str]] = defaultdict(dict)
    for inst_id, key, value in conn.execute(
        select(steps.c.institution_id, steps.c.step, steps.c.status)
        .select_from(joined)
        .where(scope)
    ):
        status[inst_id][key] = value

    def keep(inst_id: str) -> bool:
        held = status.get(inst_id, {})
        full = all(held.get(k) == domain.DONE for k in domain.FULL_PROCESS_STEPS)
        if filter_name == "full_process":
            return full
        if filter_name == "not_full_process":
            return not full
        if filter_name == "not_started":
            return all(v == domain.TODO for v in held.values())
        return any(v == domain.BLOCKED for v in held.values())

    return sorted(i for i in ids if keep(i))


def create_round(
    store: Store,
    division: str,
    due_on: date,
    today: date,
    sample: Any = 100,
    filter_name: str = "all",
    caller: Caller | None = None,
) -> dict[str, Any]:
    """Start a look-back round: pick institutions, put a follow-up due on each one's list.

    `caller` None is the office itself (the command line); a supervisor only inside their zone.
    Raises domain.ValidationError for bad input.
    """
    if division not in domain.DIVISIONS:
        raise domain.ValidationError(
            "round_division",
            f"未知的行政区划代码“{division}”",
            f"Unknown division code '{division}'",
            "division",
        )
    if caller is not None:
        if not caller.supervisor:
            raise domain.ValidationError(
                "round_role",
                "只有主管可以发起回头看",
                "Only a supervisor can start a look-back round",
                "division",
            )
        if not domain.contains(caller.zone, division):
            raise domain.ValidationError(
                "round_zone",
                f"“{domain.full_name(division)}”不在您的管辖范围（{domain.full_name(caller.zone)}）",
                f"Division {division} is outside your zone {caller.zone}",
                "division",
            )
    percent = dc.check_sample(sample)
    dc.check_round(due_on, today, filter_name)
    round_id = f"R{today:%Y%m%d}-{secrets.token_hex(3)}"
    with store.writing() as conn:
        matching = _matching(conn, division, filter_name)
        count = math.ceil(len(matching) * percent / 100)
        picked = sorted(random.Random(round_id).sample(matching, count))
        row = {
            "round_id": round_id,
            "division_code": division,
            "due_on": due_on.isoformat(),
            "created_on": today.isoformat(),
            "sample": percent,
            "filter": filter_name,
            "created_by": caller.id if caller else SERVER_WRITER,
        }
        conn.execute(insert(rounds).values(**row))
        divisions = (
            dict(
                conn.execute(
                    select(institutions.c.id, institutions.c.division_code).where(
                        institutions.c.id.in_(picked)
                    )
                ).all()
            )
            if picked
            else {}
        )
        if picked:
            conn.execute(
                insert(round_members), [{"round_id": round_id, "institution_id": i} for i in picked]
            )
            emit(conn, [round_change(row, i, divisions[i]) for i in picked])
        owners = _owners(conn, picked)
    return row | {
        "matching": len(matching),
        "institutions": picked,
        "technicians": sorted({o for o in owners.values() if o}),
    }


def _owners(conn: Connection, ids: Sequence[str]) -> dict[str, str | None]:
    if not ids:
        return {}
    found = dict(
        conn.execute(
            select(assignments.c.institution_id, assignments.c.technician_id).where(
                assignments.c.institution_id.in_(ids)
            )
        ).all()
    )
    return {i: found.get(i) for i in ids}


def round_progress(conn: Connection, zone: str, today: date) -> list[dict[str, Any]]:
    """Each round inside a zone: picked, done (visited since it started), overdue, still due."""
    rows = conn.execute(
        select(rounds)
        .where(division_filter(rounds.c.division_code, zone))
        .order_by(rounds.c.due_on)
    ).all()
    out = []
    for r in rows:
        members = [
            m[0]
            for m in conn.execute(
                select(round_members.c.institution_id).where(round_members.c.round_id == r.round_id)
            )
        ]
        visited = _visited_since(conn, members, r.created_on)
        done = sum(1 for m in members if m in visited)
        late = 0 if today <= date.fromisoformat(r.due_on) else len(members) - done
        out.append(
            dict(r._mapping)
            | {"picked": len(members), "done": done, "overdue": late, "open": len(members) - done}
        )
    return out


def _visited_since(conn: Connection, ids: Sequence[str], since: str) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        for inst_id, data in conn.execute(
            select(visits.c.institution_id, visits.c.data).where(visits.c.institution_id.in_(chunk))
        ):
            if str(data.get("started_at", ""))[:10] >= since:
                found.add(inst_id)
    return found


def technician_names(conn: Connection) -> dict[str, str]:
    """Technician id → name, for the ledger's columns."""
    return dict(conn.execute(select(technicians.c.id, technicians.c.name)).all())


def case_count(conn: Connection) -> int:
    """How many cases the office holds."""
    return int(conn.execute(select(func.count()).select_from(cases)).scalar() or 0)
