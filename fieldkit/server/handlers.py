"""The office's answer to each op kind: check it against the store, then write its effect.

A handler takes (conn, caller, op, institution) and returns the extras of an applied result;
it raises Rejected before writing anything. Register a new kind with one line in HANDLERS.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection, select, update

from fieldkit import domain

from . import enforcement
from .auth import Caller
from .batch import Batch, NeedsDatabase
from .charges import observed_charge
from .evidence import attachment_add
from .opdata import (
    CONTACT_FIELDS,
    CONTROL,
    MASTER_FIELDS,
    POSTER_SIZES,
    SHA256,
    Rejected,
    concurrent,
    flag_conflict,
    invalid,
    now_ms,
    text_field,
)
from .platform import check_against_platform
from .store import (
    emit,
    institution_change,
    institutions,
    now_iso,
    records,
    step_change,
    visit_change,
    visits,
)


# --- step.set ------------------------------------------------------------------------------------
def _step_set(conn: Connection, caller: Caller, op: dict[str, Any], inst: Any) -> dict[str, Any]:
    data = op["data"]
    key, status = text_field(data, "step", True), text_field(data, "status", True)
    reason, note = text_field(data, "reason"), text_field(data, "note")
    if key == "bank_verified":
        raise Rejected(
            "server_owned",
            "“银行核验”由银行核验结果决定，只能由办公室设置",
            "'Bank verification' comes from the bank's answer; only the office sets it",
        )
    if key not in domain.STEP_KEYS or status not in domain.STATUSES:
        raise Rejected(
            "invalid",
            f"未知的步骤或状态：{key} / {status}",
            f"Unknown step or status: {key} / {status}",
        )
    state = Batch.of(conn)
    rows = state.steps(inst.id)
    current = rows[key]
    value = {"status": status, "reason": reason, "note": note}
    old = {"status": current["status"], "reason": current["reason"], "note": current["note"]}
    conflict = concurrent(current["hlc"], current["received_ms"], op["hlc"])
    if not domain.newer(op["hlc"], current["hlc"]):
        if conflict:
            lost = (op["hlc"], value)
            flag_conflict(conn, caller, op, f"step:{key}", (current["hlc"], old), lost)
        return {"superseded": True} | ({"conflict": True} if conflict else {})
    check_against_platform(conn, inst, key, status)
    try:
        domain.check_transition({k: r["status"] for k, r in rows.items()}, key, status, reason)
    except domain.TransitionError as exc:
        code = {
            "prerequisite": "prerequisite",
            "has_dependents": "prerequisite",
            "server_owned": "server_owned",
        }.get(exc.code, "invalid")
        raise Rejected(code, exc.zh, exc.en) from None
    kept = (current["hlc"], old)
    state.update_step(
        current,
        {
            "status": status,
            "reason": reason,
            "note": note,
            "hlc": op["hlc"],
            "updated_by": caller.id,
            "received_ms": now_ms(),
        },
    )
    if conflict:
        flag_conflict(conn, caller, op, f"step:{key}", (op["hlc"], value), kept)
    emit_step(conn, inst, key)
    return {"conflict": True} if conflict else {}


def emit_step(conn: Connection, inst: Any, key: str) -> None:
    """Log one step of an institution as it now stands."""
    row = Batch.of(conn).steps(inst.id)[key]
    emit(conn, [step_change(row, inst.division_code)])


# --- contact.set ---------------------------------------------------------------------------------
def _contact_set(conn: Connection, caller: Caller, op: dict[str, Any], inst: Any) -> dict:
    data = op["data"]
    owned = [k for k in data if k in MASTER_FIELDS]
    if owned:
        raise Rejected(
            "server_owned",
            f"机构资料“{'、'.join(owned)}”由办公室维护，不能在现场修改",
            f"Institution master data ({', '.join(owned)}) is kept by the office",
        )
    unknown = [k for k in data if k not in CONTACT_FIELDS]
    if unknown or not data:
        raise Rejected(
            "invalid",
            f"联系人修改只接受 contact_name、contact_phone（收到 {unknown}）",
            f"contact.set takes contact_name and/or contact_phone (got {unknown})",
        )
    values: dict[str, str] = {}
    name = text_field(data, "contact_name")
    if name is not None:
        if not name.strip() or len(name) > 64 or CONTROL.search(name):
            raise Rejected(
                "invalid",
                "联系人姓名不能为空、不超过64字、不含控制字符",
                "The contact name must be 1 to 64 characters, without control characters",
            )
        values["contact_name"] = name.strip()
    phone = text_field(data, "contact_phone")
    if phone is not None:
        try:
            values["contact_phone"] = domain.validate_phone(phone)
        except domain.ValidationError as exc:
            raise invalid(exc) from None
    applied: dict[str, Any] = {}
    conflict = False
    for field, value in values.items():
        current_hlc = inst._mapping[f"{field}_hlc"]
        clash = concurrent(current_hlc, None, op["hlc"])
        conflict = conflict or clash
        if domain.newer(op["hlc"], current_hlc):
            applied[field], applied[f"{field}_hlc"] = value, op["hlc"]
            if clash:
                flag_conflict(
                    conn, caller, op, field, (op["hlc"], value), (current_hlc, inst._mapping[field])
                )
        elif clash:
            flag_conflict(
                conn, caller, op, field, (current_hlc, inst._mapping[field]), (op["hlc"], value)
            )
    if applied:
        if domain.newer(op["hlc"], inst.hlc):
            applied["hlc"] = op["hlc"]
        conn.execute(update(institutions).where(institutions.c.id == inst.id).values(**applied))
        row = conn.execute(select(institutions).where(institutions.c.id == inst.id)).one()
        emit(conn, [institution_change(row)])
    extras: dict[str, Any] = {} if applied else {"superseded": True}
    return extras | ({"conflict": True} if conflict else {})


# --- visits --------------------------------------------------------------------------------------
def _visit_create(conn: Connection, caller: Caller, op: dict[str, Any], inst: Any) -> dict:
    data = dict(op["data"]) | {"institution_id": inst.id, "technician_id": caller.id}
    visit = _visit(data)
    if not visit.visit_id.strip() or len(visit.visit_id) > 64:
        raise Rejected("invalid", "走访编号无效", "The visit id is invalid")
    state = Batch.of(conn)
    if state.visit_exists(visit.visit_id):
        raise Rejected(
            "invalid",
            f"这次走访（#{visit.visit_id[:8].upper()}）已经记录过了，走访记录只能修订，不能再存一份",
            f"This visit (#{visit.visit_id[:8].upper()}) was already recorded;"
            " a visit can only be amended, not saved again",
        )
    recorded = enforcement.has_work(visit, state.reviewed(visit.visit_id))
    if recorded and not state.direct:
        raise NeedsDatabase(visit.visit_id)  # a review to re-log or a case to open
    wire = domain.visit_to_wire(visit)
    for key in ("institution_id", "technician_id"):
        wire.pop(key, None)
    state.insert(
        visits,
        {
            "visit_id": visit.visit_id,
            "institution_id": inst.id,
            "technician_id": caller.id,
            "data": wire,
            "field_hlcs": {f: op["hlc"] for f in domain.AMENDABLE},
            "has_rectification": visit.rectification is not None,
            "hlc": op["hlc"],
            "received_at": now_iso(),
        },
    )
    emit_visit(conn, inst, visit.visit_id)
    if recorded:
        enforcement.visit_recorded(conn, inst, visit, op["hlc"])
    return {}


def _visit_amend(conn: Connection, caller: Caller, op: dict[str, Any], inst: Any) -> dict:
    data = dict(op["data"])
    visit_id = str(text_field(data, "visit_id", True))
    row = conn.execute(
        select(visits).where(visits.c.visit_id == visit_id, visits.c.institution_id == inst.id)
    ).first()
    if row is None:
        raise Rejected(
            "unknown_visit",
            f"办公室没有这次走访记录（{visit_id}），请先同步走访本身",
            f"The office has no visit '{visit_id}'; sync the visit itself first",
        )
    if row.technician_id != caller.id and not caller.supervisor:
        raise Rejected(
            "not_assigned",
            "这次走访由其他技术人员记录，只有记录人或主管可以修订",
            "Another technician recorded this visit; only they or a supervisor can amend it",
        )
    fields = {k: v for k, v in data.items() if k != "visit_id"}
    wrong = [k for k in fields if k not in domain.AMENDABLE]
    if wrong or not fields:
        raise Rejected(
            "invalid",
            f"走访修订不能修改：{', '.join(wrong) or '（无字段）'}",
            f"A visit amendment cannot change: {', '.join(wrong) or '(no fields)'}",
        )
    hlcs = dict(row.field_hlcs)
    newer = {k: v for k, v in fields.items() if domain.newer(op["hlc"], hlcs.get(k))}
    merged = (
        dict(row.data) | newer | {"institution_id": inst.id, "technician_id": row.technician_id}
    )
    visit = _visit(merged)
    if not newer:
        return {"superseded": True}
    wire = domain.visit_to_wire(visit)
    for key in ("institution_id", "technician_id"):
        wire.pop(key, None)
    hlcs |= {k: op["hlc"] for k in newer}
    conn.execute(
        update(visits)
        .where(visits.c.visit_id == visit_id)
        .values(data=wire, field_hlcs=hlcs, has_rectification=visit.rectification is not None)
    )
    emit_visit(conn, inst, visit_id)
    enforcement.visit_recorded(conn, inst, visit, op["hlc"])
    return {} if len(newer) == len(fields) else {"superseded": True}


def _visit(data: dict[str, Any]) -> domain.Visit:
    """A visit read from op data and checked by the domain's rules (Rejected otherwise)."""
    try:
        return domain.validate_visit(domain.visit_from_wire(data))
    except domain.ValidationError as exc:
        raise invalid(exc) from None
    except TypeError:  # e.g. one time with a zone and one without
        raise Rejected(
            "invalid",
            "走访时间格式不一致：请都带或都不带时区",
            "The visit's times mix zoned and unzoned values; use one form",
        ) from None


def emit_visit(conn: Connection, inst: Any, visit_id: str) -> None:
    """Log one visit as it now stands."""
    row = Batch.of(conn).visit(visit_id)
    emit(conn, [visit_change(row, inst.division_code)])


# --- audit records -------------------------------------------------------------------------------
def _poster_printed(conn: Connection, caller: Caller, op: dict[str, Any], inst: Any) -> dict:
    data = op["data"]
    size, digest, copies = data.get("size"), data.get("payload_sha256"), data.get("copies", 1)
    if size not in POSTER_SIZES:
        raise Rejected(
            "invalid",
            f"海报尺寸应为 {', '.join(POSTER_SIZES)}",
            f"Poster size must be one of {', '.join(POSTER_SIZES)}",
        )
    if not isinstance(digest, str) or not SHA256.match(digest):
        raise Rejected(
            "invalid",
            "payload_sha256 应为64位十六进制小写",
            "payload_sha256 must be 64 lower-case hex digits",
        )
    if not isinstance(copies, int) or isinstance(copies, bool) or not 1 <= copies <= 1000:
        raise Rejected("invalid", "份数应为1到1000", "copies must be 1 to 1000")
    _record(conn, caller, op, {"size": size, "payload_sha256": digest, "copies": copies})
    return {}


def _qr_checked(conn: Connection, caller: Caller, op: dict[str, Any], inst: Any) -> dict:
    data = op["data"]
    result, found = data.get("result"), text_field(data, "found", True)
    visit_id, digest = text_field(data, "visit_id"), data.get("content_sha256")
    if result not in ("match", "mismatch"):
        raise Rejected(
            "invalid",
            "核码结果应为 match 或 mismatch",
            "The check result must be match or mismatch",
        )
    if not isinstance(digest, str) or not SHA256.match(digest):
        raise Rejected(
            "invalid",
            "content_sha256 应为64位十六进制小写",
            "content_sha256 must be 64 lower-case hex digits",
        )
    _record(
        conn,
        caller,
        op,
        {"visit_id": visit_id, "result": result, "found": found, "content_sha256": digest},
    )
    return {}


def _record(conn: Connection, caller: Caller, op: dict[str, Any], data: dict[str, Any]) -> None:
    Batch.of(conn).insert(
        records,
        {
            "op_id": op["op_id"],
            "kind": op["kind"],
            "institution_id": op["institution_id"],
            "technician_id": caller.id,
            "data": data,
            "hlc": op["hlc"],
            "received_at": now_iso(),
        },
    )


Handler = Callable[[Connection, Caller, dict[str, Any], Any], dict[str, Any]]
# The kinds whose handlers work through the Batch alone (reads, writes and their refusal before
# any write): they run buffered, without a savepoint. Every other kind runs in a savepoint.
BUFFERED = frozenset({"step.set", "visit.create", "poster.printed", "qr.checked"})
HANDLERS: dict[str, Handler] = {
    "step.set": _step_set,
    "contact.set": _contact_set,
    "visit.create": _visit_create,
    "visit.amend": _visit_amend,
    "poster.printed": _poster_printed,
    "qr.checked": _qr_checked,
    "case.item": enforcement.case_item,
    "case.escalate": enforcement.case_escalate,
    "visit.review": enforcement.visit_review,
    "charge.observed": observed_charge,
    "attachment.add": attachment_add,
}
