"""What the office does to its data: add institutions, assign them, record the bank's answers."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy import Connection, bindparam, func, insert, select, update

from fieldkit import domain
from fieldkit.payment import emv, signing

from .auth import division_filter, new_token, token_hash
from .store import (
    INITIAL_STAMP,
    INSTITUTION_WIRE,
    SERVER_WRITER,
    assignments,
    dumps,
    emit,
    institution_change,
    institutions,
    now_iso,
    snapshot_changes,
    step_change,
    steps,
    technicians,
)

_NOT_ALNUM = re.compile(r"[^0-9a-z]")


class OfficeError(Exception):
    """An office action that cannot be done; the message is bilingual and says what to do."""

    def __init__(self, zh: str, en: str) -> None:
        super().__init__(f"{zh} / {en}")


# --- names ---------------------------------------------------------------------------------------
_OTHER = "\x00"  # marks the pieces of a name that are not Chinese characters


def lazy_pinyin(text: str, errors: Any) -> list[str]:
    """pypinyin's conversion, imported on first use: loading its dictionaries takes a second
    or more, which an office command that converts no name (import-platform, report…) skips."""
    from pypinyin import lazy_pinyin as convert

    return list(convert(text, errors=errors))


def name_keys(name: str, limit: int = 25) -> tuple[str, str, str]:
    """(full pinyin, initials, Latin name) of a name, from one pinyin conversion.

    Pinyin and initials are lower case, letters and digits only; the Latin name (for the EMV
    merchant name) is the Chinese syllables in Title Case, at most `limit` letters.
    """
    parts = lazy_pinyin(name, errors=lambda chars: _OTHER + chars)
    full = "".join(p.removeprefix(_OTHER) for p in parts).lower()
    initials = "".join(p[1:] if p.startswith(_OTHER) else p[:1] for p in parts).lower()
    title = "".join(p[:1].upper() + p[1:] for p in parts if not p.startswith(_OTHER))
    latin = re.sub(r"[^0-9A-Za-z]", "", title)[:limit] or "Institution"
    return _NOT_ALNUM.sub("", full), _NOT_ALNUM.sub("", initials), latin


def search_keys(name: str) -> tuple[str, str]:
    """Full pinyin and initials of a name, lower case, letters and digits only."""
    full, initials, _ = name_keys(name)
    return full, initials


def latin_name(name: str, limit: int = 25) -> str:
    """A name in Latin letters for the EMV merchant name: pinyin syllables in Title Case."""
    return name_keys(name, limit)[2]


@cache
def city_latin(division_code: str) -> str:
    """The city of a division in Latin letters (at most 15, as EMV allows)."""
    city = domain.city_of(division_code)
    zh = re.sub(r"(市|自治州)$", "", city.name) if city else "湖南"
    text = "".join(lazy_pinyin(zh, errors="ignore"))
    return (text[:1].upper() + text[1:])[:15] or "Hunan"


# --- payments ------------------------------------------------------------------------------------
def payment_for(row: dict[str, Any], private_key: str) -> tuple[str, str]:
    """The signed EMV payload of an institution's supervised account."""
    city = domain.city_of(row["division_code"])
    payload = emv.build_payload(
        institution_id=row["id"],
        account=row["account_no"],
        name_latin=row.get("name_latin") or latin_name(row["name"]),
        city_latin=city_latin(row["division_code"]),
        name_zh=row["name"],
        city_zh=city.name if city else "",
    )
    return payload, signing.sign(private_key, payload)


# --- institutions --------------------------------------------------------------------------------
INSTITUTION_COLUMNS = (
    *INSTITUTION_WIRE,
    "name_latin",
    "account_no",
    "payment_payload",
    "payment_signature",
    "hlc",
)


def next_ids(
    conn: Connection, division_codes: Sequence[str], serials: dict[str, int] | None = None
) -> list[str]:
    """New platform ids ("JG" + division + serial of at least 4 digits), one per code, in order.

    `serials` carries the last serial of each division between calls of one transaction.
    """
    serial = {} if serials is None else serials
    out = []
    for code in division_codes:
        if code not in serial:
            serial[code] = last_serial(conn, code)
        serial[code] += 1
        out.append(f"JG{code}{serial[code]:04d}")
    return out


def last_serial(conn: Connection, division_code: str) -> int:
    """The highest serial among the ids of a division, compared as a number (10000 > 9999)."""
    prefix = f"JG{division_code}"
    found = conn.execute(
        select(institutions.c.id)
        .where(institutions.c.id.like(prefix + "%"))
        .order_by(func.length(institutions.c.id).desc(), institutions.c.id.desc())
        .limit(20)
    ).scalars()
    for one in found:  # the longest, highest id whose serial is all digits
        if one[len(prefix) :].isdigit():
            return int(one[len(prefix) :])
    return 0


def add_institutions(
    conn: Connection, rows: Sequence[dict[str, Any]], step_rows: Sequence[dict[str, Any]]
) -> None:
    """Insert institutions and their eleven steps (stamped INITIAL_STAMP) and log them, in bulk."""
    if not rows:
        return
    stamp = INITIAL_STAMP
    given = {(s["institution_id"], s["step"]): s for s in step_rows}
    inst_values = [{k: r.get(k) for k in INSTITUTION_COLUMNS} for r in rows]
    for value in inst_values:
        value["orders"] = value["orders"] or 0
        value["order_amount_fen"] = value["order_amount_fen"] or 0
        value["bank_status"] = value["bank_status"] or "pending"
        value["hlc"] = stamp
        for key in (
            "licence_no",
            "address",
            "contact_name",
            "contact_phone",
            "pinyin",
            "initials",
            "name_latin",
        ):
            value[key] = value[key] or ""
    step_values = []
    for r in rows:
        for key in domain.STEP_KEYS:
            s = given.get((r["id"], key), {})
            step_values.append(
                {
                    "institution_id": r["id"],
                    "step": key,
                    "status": s.get("status", domain.TODO),
                    "reason": s.get("reason"),
                    "note": None,
                    "hlc": stamp,
                    "updated_by": SERVER_WRITER,
                    "received_ms": None,
                }
            )
    conn.execute(insert(institutions), inst_values)
    conn.execute(insert(steps), step_values)
    # Each institution followed by its steps, so every page of a pull carries a like mix.
    log: list[dict[str, Any]] = []
    for value, first in zip(
        inst_values, range(0, len(step_values), len(domain.STEP_KEYS)), strict=True
    ):
        log.append(institution_change(value))
        log += [
            {
                "kind": "step",
                "entity_id": f"{s['institution_id']}:{s['step']}",
                "institution_id": s["institution_id"],
                "division_code": value["division_code"],
                "data": dumps(
                    {
                        k: s[k]
                        for k in (
                            "institution_id",
                            "step",
                            "status",
                            "reason",
                            "note",
                            "hlc",
                            "updated_by",
                        )
                    }
                ),
            }
            for s in step_values[first : first + len(domain.STEP_KEYS)]
        ]
    emit(conn, log)


def update_institutions(conn: Connection, updates: Sequence[dict[str, Any]], stamp: str) -> None:
    """Update master data (by id) under the office's stamp and log each institution as changed."""
    by_fields: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for values in updates:  # one executemany per set of fields changed, not a statement a row
        fields = tuple(sorted(k for k in values if k != "id"))
        by_fields.setdefault(fields, []).append(
            {"u_id": values["id"], **{f"u_{k}": values[k] for k in fields}}
        )
    for fields, rows in by_fields.items():
        conn.execute(
            update(institutions)
            .where(institutions.c.id == bindparam("u_id"))
            .values({**{k: bindparam(f"u_{k}") for k in fields}, "hlc": stamp}),
            rows,
        )
    emit_institutions(conn, [u["id"] for u in updates])


def emit_institutions(conn: Connection, ids: Sequence[str]) -> None:
    """Log the current master data of these institutions as changes."""
    log = []
    for i in range(0, len(ids), 500):
        found = conn.execute(select(institutions).where(institutions.c.id.in_(ids[i : i + 500])))
        log += [institution_change(r) for r in found]
    emit(conn, log)


def set_bank_steps(
    conn: Connection, answers: Sequence[tuple[str, str, bool, str | None]], stamp: str
) -> None:
    """Set the server-owned bank_verified step of institutions from the bank's answers, and log
    them; each answer is (institution id, division code, passed, reason)."""
    if not answers:
        return
    conn.execute(
        update(steps)
        .where(steps.c.institution_id == bindparam("iid"), steps.c.step == "bank_verified")
        .values(
            status=bindparam("new_status"),
            reason=bindparam("new_reason"),
            hlc=stamp,
            updated_by=SERVER_WRITER,
            received_ms=None,
        ),
        [
            {
                "iid": iid,
                "new_status": domain.DONE
                if passed
                else (domain.BLOCKED if reason else domain.TODO),
                "new_reason": None if passed else reason,
            }
            for iid, _, passed, reason in answers
        ],
    )
    division = {iid: code for iid, code, _, _ in answers}
    found: list[Any] = []
    for i in range(0, len(answers), 500):
        found += conn.execute(
            select(steps).where(
                steps.c.institution_id.in_([a[0] for a in answers[i : i + 500]]),
                steps.c.step == "bank_verified",
            )
        ).all()
    emit(conn, [step_change(row, division[row.institution_id]) for row in found])


# --- technicians and assignment ------------------------------------------------------------------
@dataclass(frozen=True)
class NewTechnician:
    """A technician just added, with the only copy of their token."""

    id: str
    name: str
    role: str
    zone: str
    token: str


def add_technician(conn: Connection, name: str, zone: str, supervisor: bool) -> NewTechnician:
    """Create a technician (or supervisor) with a fresh token; only its hash is stored."""
    if not name.strip():
        raise OfficeError("姓名不能为空", "the name must not be empty")
    try:
        zone = domain.validate_division(zone, "zone")
    except domain.ValidationError as exc:
        raise OfficeError(exc.zh, exc.en) from None
    count = conn.execute(select(func.count()).select_from(technicians)).scalar_one()
    new_id = f"T{count + 1:04d}"
    while conn.execute(select(technicians.c.id).where(technicians.c.id == new_id)).first():
        count += 1
        new_id = f"T{count + 1:04d}"
    token = new_token()
    role = "supervisor" if supervisor else "technician"
    conn.execute(
        insert(technicians).values(
            id=new_id,
            name=name.strip(),
            role=role,
            zone=zone,
            token_hash=token_hash(token),
            created_at=now_iso(),
        )
    )
    return NewTechnician(new_id, name.strip(), role, zone, token)


def assign(conn: Connection, technician_id: str, institution_ids: Sequence[str]) -> list[str]:
    """Give institutions to a technician; the previous holder gets `unassigned`. Returns moved ids."""
    tech = conn.execute(select(technicians).where(technicians.c.id == technician_id)).first()
    if tech is None:
        raise OfficeError(f"没有技术人员“{technician_id}”", f"no technician '{technician_id}'")
    if tech.role != "technician":
        raise OfficeError(
            f"{technician_id}是主管，主管按辖区查看，无需分配",
            f"{technician_id} is a supervisor and sees their zone without assignment",
        )
    found = {r.id: r.division_code for r in _rows_by_id(conn, institution_ids)}
    missing = [i for i in institution_ids if i not in found]
    if missing:
        raise OfficeError(
            f"没有这些机构：{', '.join(missing)}", f"no such institutions: {', '.join(missing)}"
        )
    outside = [i for i in institution_ids if not domain.contains(tech.zone, found[i])]
    if outside:
        raise OfficeError(
            f"这些机构不在{tech.name}的辖区（{tech.zone}）内：{', '.join(outside)}",
            f"outside {tech.name}'s zone {tech.zone}: {', '.join(outside)}",
        )
    current: dict[str, str] = {}
    for i in range(0, len(institution_ids), 500):
        chunk = list(institution_ids[i : i + 500])
        current |= {
            r.institution_id: r.technician_id
            for r in conn.execute(
                select(assignments).where(assignments.c.institution_id.in_(chunk))
            )
        }
    moved = [i for i in dict.fromkeys(institution_ids) if current.get(i) != technician_id]
    now = now_iso()
    for inst_id in moved:
        if inst_id in current:
            conn.execute(
                update(assignments)
                .where(assignments.c.institution_id == inst_id)
                .values(technician_id=technician_id, assigned_at=now)
            )
    fresh = [
        {"institution_id": i, "technician_id": technician_id, "assigned_at": now}
        for i in moved
        if i not in current
    ]
    if fresh:
        conn.execute(insert(assignments), fresh)
    emit(
        conn,
        [
            {
                "kind": "unassigned",
                "entity_id": i,
                "institution_id": i,
                "division_code": found[i],
                "audience": current[i],
                "data": {"institution_id": i, "technician_id": current[i]},
            }
            for i in moved
            if i in current
        ],
    )
    emit(conn, snapshot_changes(conn, moved))
    return moved


def institutions_in(conn: Connection, division: str) -> list[str]:
    """The ids of every institution whose division lies in `division`."""
    return list(
        conn.execute(
            select(institutions.c.id)
            .where(division_filter(institutions.c.division_code, division))
            .order_by(institutions.c.id)
        ).scalars()
    )


def _rows_by_id(conn: Connection, ids: Sequence[str]) -> list[Any]:
    rows: list[Any] = []
    for i in range(0, len(ids), 500):
        rows += conn.execute(
            select(institutions.c.id, institutions.c.division_code).where(
                institutions.c.id.in_(list(ids[i : i + 500]))
            )
        ).all()
    return rows
