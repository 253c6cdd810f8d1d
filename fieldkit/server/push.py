"""Applying pushed ops: idempotent by op id, last writer wins per register, one answer per op."""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection, insert, select, update

from fieldkit import domain

from .auth import Caller, may_touch
from .store import (
    SERVER_WRITER,
    Store,
    conflicts,
    emit,
    institution_change,
    institutions,
    now_iso,
    ops,
    records,
    step_change,
    steps,
    visit_change,
    visits,
)

MAX_TEXT = 2000
MAX_LONG_TEXT = 10_000  # any text in op data (visit notes, issues…)
MAX_DEPTH = 8
MAX_VALUES = 2_000  # keys and values of one op's data, all levels together
MAX_AHEAD_MS = domain.hlc.MAX_DRIFT_MS  # as far ahead as any clock believes a stamp
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
# What no store can be asked about: control characters and lone surrogates (not UTF-8).
_UNSTORABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
CONTACT_FIELDS = domain.CONTACT_FIELDS
MASTER_FIELDS = domain.MASTER_FIELDS
SERVER_OWNED_KINDS = ("institution.", "payment.", "bank.")
POSTER_SIZES = ("a4", "a6", "strip")


class Rejected(Exception):
    """An op the server will not apply: a reason code and a bilingual message."""

    def __init__(self, reason: str, zh: str, en: str) -> None:
        super().__init__(en)
        self.reason = reason
        self.text = f"{zh} / {en}"


def push(store: Store, caller: Caller, client_id: str, batch: list[dict[str, Any]]) -> list[dict]:
    """Apply a batch of ops, each in its own transaction; one result per op, in order."""
    return [apply_op(store, caller, client_id, op) for op in batch]


def apply_op(store: Store, caller: Caller, client_id: str, op: dict[str, Any]) -> dict[str, Any]:
    """Apply one op (or answer its first result again) and remember the answer."""
    if _UNSTORABLE.search(op["hlc"]):  # no client writes one; no store could even hold it
        return {
            "op_id": op["op_id"],
            "status": "rejected",
            "reason": "invalid",
            "message": "时间戳含有控制字符或无效字符，这条修改未保存 / the HLC contains control "
            "or invalid characters; this change was not saved",
        }
    with store.writing() as conn:
        first = conn.execute(select(ops).where(ops.c.op_id == op["op_id"])).first()
        if first is not None:
            if not _same_op(first, caller, op):
                return _reused(op)
            return _repeat(first.result)
        try:
            with conn.begin_nested():  # a rejection undoes whatever the op had written
                extras = _apply(conn, store, caller, op)
            result: dict[str, Any] = {"op_id": op["op_id"], "status": "applied", **extras}
        except Rejected as rejected:
            result = {
                "op_id": op["op_id"],
                "status": "rejected",
                "reason": rejected.reason,
                "message": rejected.text,
            }
        if result["status"] == "rejected" or result.get("superseded"):
            refresh(conn, caller, op)
        conn.execute(
            insert(ops).values(
                op_id=op["op_id"],
                technician_id=caller.id,
                client_id=client_id,
                kind=op["kind"],
                institution_id=op["institution_id"],
                hlc=op["hlc"],
                result=result,
                received_at=now_iso(),
            )
        )
        if result["status"] == "applied":
            store.save_clock(conn)
        return result


def refresh(conn: Connection, caller: Caller, op: dict[str, Any]) -> None:
    """Log the current value of the register an op lost or failed on, as a new change.

    The pushing client may have skipped the winner while its own edit was unsent; the fresh
    change (a new seq) brings the winner with its next pull. Nothing outside the caller's scope.
    """
    institution = conn.execute(
        select(institutions).where(institutions.c.id == op["institution_id"])
    ).first()
    if institution is None or not may_touch(
        conn, caller, institution.id, institution.division_code
    ):
        return
    data = op["data"] if isinstance(op["data"], dict) else {}
    if op["kind"] == "step.set" and data.get("step") in domain.STEP_KEYS:
        _emit_step(conn, institution, data["step"])
    elif op["kind"] == "contact.set":
        emit(conn, [institution_change(institution)])
    elif (
        op["kind"] in ("visit.create", "visit.amend")
        and isinstance(data.get("visit_id"), str)
        and not _UNSTORABLE.search(data["visit_id"])
    ):
        found = conn.execute(
            select(visits.c.visit_id).where(
                visits.c.visit_id == data["visit_id"], visits.c.institution_id == institution.id
            )
        ).first()
        if found is not None:
            _emit_visit(conn, institution, data["visit_id"])


def _same_op(first: Any, caller: Caller, op: dict[str, Any]) -> bool:
    """Whether a re-sent op is the one first received (same sender, kind, institution, stamp)."""
    return (first.technician_id, first.kind, first.institution_id, first.hlc) == (
        caller.id,
        op["kind"],
        op["institution_id"],
        op["hlc"],
    )


def _reused(op: dict[str, Any]) -> dict[str, Any]:
    """The answer to an op id already used for another change: refused, telling nothing of it."""
    return {
        "op_id": op["op_id"],
        "status": "rejected",
        "reason": "invalid",
        "message": "操作编号已用于另一项修改，本次修改未保存，请重新操作 / this op id was already "
        "used for a different change; this change was not saved: make it again",
    }


def _repeat(first: dict[str, Any]) -> dict[str, Any]:
    """The answer to a re-sent op: `duplicate` for an applied one, the same rejection otherwise."""
    if first["status"] == "rejected":
        return dict(first) | {"duplicate": True}
    return dict(first) | {"status": "duplicate"}


def _apply(conn: Connection, store: Store, caller: Caller, op: dict[str, Any]) -> dict[str, Any]:
    """Check an op against the store and write its effect; raise Rejected before writing anything."""
    kind = op["kind"]
    handler = HANDLERS.get(kind)
    if handler is None:
        if kind.startswith(SERVER_OWNED_KINDS):
            raise Rejected(
                "server_owned",
                f"“{kind}”属于办公室维护的数据，客户端不能修改",
                f"'{kind}' changes data the office owns; clients cannot change it",
            )
        raise Rejected("unknown_kind", f"未知的操作类型“{kind}”", f"Unknown op kind '{kind}'")
    try:
        stamp = domain.Stamp.parse(op["hlc"])
    except domain.ValidationError as exc:
        raise Rejected("invalid", exc.zh, exc.en) from None
    _check_clock(stamp)
    check_data(op["data"])
    institution = conn.execute(
        select(institutions).where(institutions.c.id == op["institution_id"])
    ).first()
    if institution is None:
        raise Rejected(
            "unknown_institution",
            f"办公室没有机构“{op['institution_id']}”",
            f"The office has no institution '{op['institution_id']}'",
        )
    if not may_touch(conn, caller, institution.id, institution.division_code):
        raise Rejected(
            "not_assigned",
            f"机构“{institution.name}”未分配给您，无法修改",
            f"Institution '{institution.name}' is not assigned to you; you cannot change it",
        )
    extras = handler(conn, caller, op, institution)
    store.clock(conn).observe(op["hlc"])
    return extras


def _check_clock(stamp: domain.Stamp) -> None:
    """Refuse an edit stamped far ahead of the office's time: it would win its register for good."""
    ahead = stamp.ms - _now_ms()
    if ahead > MAX_AHEAD_MS:
        days = max(1, round(ahead / 86_400_000))
        raise Rejected(
            "invalid",
            f"这台设备的时钟比办公室快了约{days}天，这条修改未保存；请校正日期和时间后重新操作",
            f"This device's clock is about {days} days ahead of the office's; this change was "
            "not saved: correct the date and time, then make the change again",
        )


def check_data(data: Any) -> None:
    """Refuse op data no client means: too deep or large, NUL, broken Unicode, NaN or infinity."""
    stack: list[tuple[Any, int]] = [(data, 0)]
    count = 0
    while stack:
        value, depth = stack.pop()
        count += 1
        if depth > MAX_DEPTH or count > MAX_VALUES:
            raise Rejected(
                "invalid",
                f"数据嵌套超过{MAX_DEPTH}层或超过{MAX_VALUES}项，请检查这条修改",
                f"The data is nested over {MAX_DEPTH} levels or holds over "
                f"{MAX_VALUES} values; check this change",
            )
        if isinstance(value, str):
            _check_string(value)
        elif isinstance(value, float) and not math.isfinite(value):
            raise Rejected(
                "invalid",
                "数据中含有无效数字（NaN 或无穷大）",
                "The data contains a number that is not finite (NaN or infinity)",
            )
        elif isinstance(value, dict):
            stack.extend((item, depth + 1) for pair in value.items() for item in pair)
        elif isinstance(value, list):
            stack.extend((item, depth + 1) for item in value)


def _check_string(value: str) -> None:
    """Refuse a string too long to be typed, with a NUL, or not encodable as UTF-8."""
    if len(value) > MAX_LONG_TEXT:
        raise Rejected(
            "invalid",
            f"文本超过{MAX_LONG_TEXT}字，请缩短后重新保存",
            f"A text is over {MAX_LONG_TEXT} characters; shorten it and save again",
        )
    if "\x00" in value:
        raise Rejected(
            "invalid",
            "数据中含有不可见的空字符（\\0），请重新输入",
            "The data contains a NUL character; enter it again",
        )
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise Rejected(
            "invalid",
            "数据中含有无效的 Unicode 字符（孤立代理项），请重新输入",
            "The data contains invalid Unicode (a lone surrogate); enter it again",
        ) from None


def _invalid(exc: domain.DomainError) -> Rejected:
    return Rejected("invalid", exc.zh, exc.en)


def _text(data: dict[str, Any], key: str, required: bool = False) -> str | None:
    """A text field of op data, checked for type and length."""
    value = data.get(key)
    if value is None:
        if required:
            raise Rejected("invalid", f"缺少字段“{key}”", f"Field '{key}' is missing")
        return None
    if not isinstance(value, str) or len(value) > MAX_TEXT:
        raise Rejected(
            "invalid",
            f"字段“{key}”应为不超过{MAX_TEXT}字的文本",
            f"Field '{key}' must be text of at most {MAX_TEXT} characters",
        )
    return value


def _concurrent(current_hlc: str | None, received_ms: int | None, incoming: str) -> bool:
    """Whether an edit was made without seeing the register's current value from another writer."""
    if current_hlc is None:
        return False
    current = domain.Stamp.parse(current_hlc)
    mine = domain.Stamp.parse(incoming)
    if current.client_id in (mine.client_id, SERVER_WRITER):
        return False
    # A writer can only have seen a value after the office received it.
    return mine < current or mine.ms < (received_ms or 0)


def _flag(
    conn: Connection,
    caller: Caller,
    op: dict[str, Any],
    register: str,
    kept: tuple[str, Any],
    lost: tuple[str, Any],
) -> None:
    """Record a concurrent edit for supervisors."""
    conn.execute(
        insert(conflicts).values(
            institution_id=op["institution_id"],
            register_name=register,
            kept_hlc=kept[0],
            kept_value=kept[1],
            lost_hlc=lost[0],
            lost_value=lost[1],
            op_id=op["op_id"],
            technician_id=caller.id,
            created_at=now_iso(),
        )
    )


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


# --- step.set ------------------------------------------------------------------------------------
def _step_set(conn: Connection, caller: Caller, op: dict[str, Any], inst: Any) -> dict[str, Any]:
    data = op["data"]
    key, status = _text(data, "step", True), _text(data, "status", True)
    reason, note = _text(data, "reason"), _text(data, "note")
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
    rows = {
        r.step: r
        for r in conn.execute(
            select(steps).where(steps.c.institution_id == inst.id).with_for_update()
        )
    }
    current = rows[key]
    value = {"status": status, "reason": reason, "note": note}
    old = {"status": current.status, "reason": current.reason, "note": current.note}
    conflict = _concurrent(current.hlc, current.received_ms, op["hlc"])
    if not domain.newer(op["hlc"], current.hlc):
        if conflict:
            _flag(conn, caller, op, f"step:{key}", (current.hlc, old), (op["hlc"], value))
        return {"superseded": True} | ({"conflict": True} if conflict else {})
    try:
        domain.check_transition({k: r.status for k, r in rows.items()}, key, status, reason)
    except domain.TransitionError as exc:
        code = {
            "prerequisite": "prerequisite",
            "has_dependents": "prerequisite",
            "server_owned": "server_owned",
        }.get(exc.code, "invalid")
        raise Rejected(code, exc.zh, exc.en) from None
    conn.execute(
        update(steps)
        .where(steps.c.institution_id == inst.id, steps.c.step == key)
        .values(
            status=status,
            reason=reason,
            note=note,
            hlc=op["hlc"],
            updated_by=caller.id,
            received_ms=_now_ms(),
        )
    )
    if conflict:
        _flag(conn, caller, op, f"step:{key}", (op["hlc"], value), (current.hlc, old))
    _emit_step(conn, inst, key)
    return {"conflict": True} if conflict else {}


def _emit_step(conn: Connection, inst: Any, key: str) -> None:
    row = conn.execute(
        select(steps).where(steps.c.institution_id == inst.id, steps.c.step == key)
    ).one()
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
    name = _text(data, "contact_name")
    if name is not None:
        if not name.strip() or len(name) > 64 or _CONTROL.search(name):
            raise Rejected(
                "invalid",
                "联系人姓名不能为空、不超过64字、不含控制字符",
                "The contact name must be 1 to 64 characters, without control characters",
            )
        values["contact_name"] = name.strip()
    phone = _text(data, "contact_phone")
    if phone is not None:
        try:
            values["contact_phone"] = domain.validate_mobile(phone)
        except domain.ValidationError as exc:
            raise _invalid(exc) from None
    applied: dict[str, Any] = {}
    conflict = False
    for field, value in values.items():
        current_hlc = inst._mapping[f"{field}_hlc"]
        clash = _concurrent(current_hlc, None, op["hlc"])
        conflict = conflict or clash
        if domain.newer(op["hlc"], current_hlc):
            applied[field], applied[f"{field}_hlc"] = value, op["hlc"]
            if clash:
                _flag(
                    conn, caller, op, field, (op["hlc"], value), (current_hlc, inst._mapping[field])
                )
        elif clash:
            _flag(conn, caller, op, field, (current_hlc, inst._mapping[field]), (op["hlc"], value))
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
    exists = conn.execute(select(visits.c.visit_id).where(visits.c.visit_id == visit.visit_id))
    if exists.first() is not None:
        raise Rejected(
            "invalid",
            f"走访“{visit.visit_id}”已存在，走访记录只能追加修订",
            f"Visit '{visit.visit_id}' already exists; visits can only be amended",
        )
    wire = domain.visit_to_wire(visit)
    for key in ("institution_id", "technician_id"):
        wire.pop(key, None)
    conn.execute(
        insert(visits).values(
            visit_id=visit.visit_id,
            institution_id=inst.id,
            technician_id=caller.id,
            data=wire,
            field_hlcs={f: op["hlc"] for f in domain.AMENDABLE},
            has_rectification=visit.rectification is not None,
            hlc=op["hlc"],
            received_at=now_iso(),
        )
    )
    _emit_visit(conn, inst, visit.visit_id)
    return {}


def _visit_amend(conn: Connection, caller: Caller, op: dict[str, Any], inst: Any) -> dict:
    data = dict(op["data"])
    visit_id = str(_text(data, "visit_id", True))
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
    _emit_visit(conn, inst, visit_id)
    return {} if len(newer) == len(fields) else {"superseded": True}


def _visit(data: dict[str, Any]) -> domain.Visit:
    """A visit read from op data and checked by the domain's rules (Rejected otherwise)."""
    try:
        return domain.validate_visit(domain.visit_from_wire(data))
    except domain.ValidationError as exc:
        raise _invalid(exc) from None
    except TypeError:  # e.g. one time with a zone and one without
        raise Rejected(
            "invalid",
            "走访时间格式不一致：请都带或都不带时区",
            "The visit's times mix zoned and unzoned values; use one form",
        ) from None


def _emit_visit(conn: Connection, inst: Any, visit_id: str) -> None:
    row = conn.execute(select(visits).where(visits.c.visit_id == visit_id)).one()
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
    if not isinstance(digest, str) or not _SHA256.match(digest):
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
    result, found = data.get("result"), _text(data, "found", True)
    visit_id, digest = _text(data, "visit_id"), data.get("content_sha256")
    if result not in ("match", "mismatch"):
        raise Rejected(
            "invalid",
            "核码结果应为 match 或 mismatch",
            "The check result must be match or mismatch",
        )
    if not isinstance(digest, str) or not _SHA256.match(digest):
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
    conn.execute(
        insert(records).values(
            op_id=op["op_id"],
            kind=op["kind"],
            institution_id=op["institution_id"],
            technician_id=caller.id,
            data=data,
            hlc=op["hlc"],
            received_at=now_iso(),
        )
    )


Handler = Callable[[Connection, Caller, dict[str, Any], Any], dict[str, Any]]
HANDLERS: dict[str, Handler] = {
    "step.set": _step_set,
    "contact.set": _contact_set,
    "visit.create": _visit_create,
    "visit.amend": _visit_amend,
    "poster.printed": _poster_printed,
    "qr.checked": _qr_checked,
}
