"""Applying pushed ops: idempotent by op id, last writer wins per register, one answer per op."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, insert, select

from fieldkit import domain

from .auth import Caller, may_touch
from .handlers import HANDLERS, emit_step, emit_visit
from .opdata import MAX_AHEAD_MS, UNSTORABLE, Rejected, check_data, now_ms
from .store import Store, emit, institution_change, institutions, now_iso, ops, visits

SERVER_OWNED_KINDS = ("institution.", "payment.", "bank.")


def push(store: Store, caller: Caller, client_id: str, batch: list[dict[str, Any]]) -> list[dict]:
    """Apply a batch of ops, each in its own transaction; one result per op, in order."""
    return [apply_op(store, caller, client_id, op) for op in batch]


def apply_op(store: Store, caller: Caller, client_id: str, op: dict[str, Any]) -> dict[str, Any]:
    """Apply one op (or answer its first result again) and remember the answer."""
    if UNSTORABLE.search(op["hlc"]):  # no client writes one; no store could even hold it
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
        emit_step(conn, institution, data["step"])
    elif op["kind"] == "contact.set":
        emit(conn, [institution_change(institution)])
    elif (
        op["kind"] in ("visit.create", "visit.amend")
        and isinstance(data.get("visit_id"), str)
        and not UNSTORABLE.search(data["visit_id"])
    ):
        found = conn.execute(
            select(visits.c.visit_id).where(
                visits.c.visit_id == data["visit_id"], visits.c.institution_id == institution.id
            )
        ).first()
        if found is not None:
            emit_visit(conn, institution, data["visit_id"])


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
    ahead = stamp.ms - now_ms()
    if ahead > MAX_AHEAD_MS:
        days = max(1, round(ahead / 86_400_000))
        raise Rejected(
            "invalid",
            f"这台设备的时钟比办公室快了约{days}天，这条修改未保存；请校正日期和时间后重新操作",
            f"This device's clock is about {days} days ahead of the office's; this change was "
            "not saved: correct the date and time, then make the change again",
        )
