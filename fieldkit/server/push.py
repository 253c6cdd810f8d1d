"""Applying pushed batches: one transaction each, idempotent by op id, one answer per op."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, bindparam, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError, OperationalError

from fieldkit import domain

from .auth import Caller
from .batch import Batch, NeedsDatabase
from .bulk import executemany, insert_many
from .handlers import BUFFERED, HANDLERS, emit_step, emit_visit
from .opdata import MAX_AHEAD_MS, UNSTORABLE, Rejected, check_data, now_ms
from .store import (
    Store,
    assignments,
    collecting,
    emit,
    holds,
    institution_change,
    mark_of,
    now_iso,
    ops,
)

SERVER_OWNED_KINDS = ("institution.", "payment.", "bank.")
# The first answer to each op the batch claimed, stored with its op id.
_ANSWER = update(ops).where(ops.c.op_id == bindparam("id")).values(result=bindparam("answer"))


@dataclass
class Pushed:
    """The answers to a batch, in the order sent, and the proof of the write that took it."""

    results: list[dict[str, Any]]
    mark: str | None


class Diverged(Exception):
    """The client saw a state of the office this store does not hold (an older copy put back)."""


def push(
    store: Store,
    caller: Caller,
    client_id: str,
    batch: list[dict[str, Any]],
    proof: str | None = None,
) -> Pushed:
    """Apply a batch of ops in one transaction; one result per op, in order.

    Each op id is claimed by inserting it (insert-or-ignore, so the database decides which of
    two racing requests applies it); each claimed op runs in a savepoint, so a rejected one is
    undone alone; the changes of the whole batch get their sequence numbers in one allocation.
    A `proof` the store cannot show (see store.holds) raises Diverged before anything is applied.
    """
    for attempt in range(RETRIES):
        try:
            with store.writing() as conn:
                if proof is not None and not holds(conn, proof):
                    raise Diverged(proof)
                results = _push_batch(conn, store, caller, client_id, batch)
                mark = mark_of(conn, store.head(conn))
            return Pushed(results, mark)
        except OperationalError as exc:  # a deadlock or serialisation failure: try again
            if attempt == RETRIES - 1 or not _transient(exc):
                raise
        except (IntegrityError, _Unsettled):  # two processes writing one row at once
            if attempt == RETRIES - 1:
                raise
    raise AssertionError("unreachable")


RETRIES = 4


class _Unsettled(Exception):
    """An op id neither new nor stored: another transaction held it and gave it up."""


def _transient(exc: OperationalError) -> bool:
    """Whether a database error goes away when the transaction is tried again."""
    code = getattr(exc.orig, "sqlstate", None)
    return code in ("40001", "40P01") or "locked" in str(exc.orig).lower()


def _push_batch(
    conn: Connection, store: Store, caller: Caller, client_id: str, batch: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """The batch's answers; writes everything it applies into the open transaction."""
    results: dict[int, dict[str, Any]] = {}
    first_of: dict[str, int] = {}  # op id -> where it first occurs in the batch
    for i, op in enumerate(batch):
        if UNSTORABLE.search(op["hlc"]):  # no client writes one; no store could even hold it
            results[i] = _unstorable(op)
        elif op["op_id"] not in first_of:
            first_of[op["op_id"]] = i
    claimed = _claim(conn, caller, client_id, [batch[i] for i in first_of.values()])
    known = _known(conn, [op_id for op_id in first_of if op_id not in claimed])
    answers: list[dict[str, Any]] = []
    new = [batch[i] for op_id, i in first_of.items() if op_id in claimed]
    known_owners = _owners(conn, caller, new)
    clock = store.clock(conn)  # read once: the saved stamp only moves when the batch ends
    state = Batch(conn, new)
    with collecting(conn, seal=bool(claimed)) as pending, state.active():
        for op_id, i in first_of.items():
            op = batch[i]
            if op_id in claimed:
                results[i] = _apply_claimed(conn, state, clock, caller, op, pending, known_owners)
                if results[i] != _likely(op):  # the claim stored the likely answer already
                    answers.append({"id": op_id, "answer": results[i]})
            elif op_id not in known:  # claimed by a write that was then undone: go again
                raise _Unsettled(op_id)
            elif not _same_op(known[op_id], caller, op):
                results[i] = _reused(op)
            else:
                results[i] = _repeat(known[op_id].result)
    executemany(conn, _ANSWER, answers, key="push:answer")
    if any(r["status"] == "applied" for r in results.values()):
        store.save_clock(conn)
    for i, op in enumerate(batch):  # the same op id again later in the batch: a re-send
        if i not in results:
            first = results[first_of[op["op_id"]]]
            results[i] = (
                _repeat(first) if _same_as(batch[first_of[op["op_id"]]], op) else _reused(op)
            )
    return [results[i] for i in range(len(batch))]


def _claim(
    conn: Connection, caller: Caller, client_id: str, batch: list[dict[str, Any]]
) -> set[str]:
    """Insert the op ids not seen before (in id order, so racing batches lock alike); the new ones.

    Each row holds the answer the op most likely gets (applied); the batch changes the few that
    get another before it commits, so no other transaction ever sees a row without its answer.
    """
    if not batch:
        return set()
    now = now_iso()
    rows = [
        {
            "op_id": op["op_id"],
            "technician_id": caller.id,
            "client_id": client_id,
            "kind": op["kind"],
            "institution_id": op["institution_id"],
            "hlc": op["hlc"],
            "result": _likely(op),
            "received_at": now,
        }
        for op in sorted(batch, key=lambda op: op["op_id"])
    ]
    if conn.dialect.name == "postgresql":  # one statement of 8 arrays: no 1,600 parameters
        columns = {c: [row[c] for row in rows] for c in _CLAIMED}
        return {row[0] for row in conn.execute(_PG_CLAIM, columns)}
    insert_new = _insert_or_ignore(conn.dialect.name).returning(ops.c.op_id)
    return {row[0] for row in insert_many(conn, insert_new, rows, key="push:claim")}


_CLAIMED = [c.name for c in ops.c]  # op_id, technician_id, client_id, kind, … received_at
# PostgreSQL's claim: the rows as one array per column, unnested in their order (op id order).
# Half the time of a multi-row VALUES, which the server plans anew for each size of batch.
_PG_CLAIM = (
    postgresql.insert(ops)
    .from_select(
        _CLAIMED,
        select(
            *(
                func.unnest(bindparam(c, type_=postgresql.ARRAY(ops.c[c].type))).label(c)
                for c in _CLAIMED
            )
        ),
    )
    .on_conflict_do_nothing(index_elements=["op_id"])
    .returning(ops.c.op_id)
)


def _likely(op: dict[str, Any]) -> dict[str, Any]:
    """The answer most ops get."""
    return {"op_id": op["op_id"], "status": "applied"}


def _insert_or_ignore(dialect: str) -> Any:
    """INSERT … ON CONFLICT DO NOTHING on the ops table, in the store's dialect."""
    if dialect == "postgresql":
        return postgresql.insert(ops).on_conflict_do_nothing(index_elements=["op_id"])
    return sqlite.insert(ops).on_conflict_do_nothing(index_elements=["op_id"])


def _known(conn: Connection, op_ids: list[str]) -> dict[str, Any]:
    """The stored rows of op ids received before."""
    found: dict[str, Any] = {}
    for i in range(0, len(op_ids), 500):
        found |= {
            r.op_id: r
            for r in conn.execute(select(ops).where(ops.c.op_id.in_(op_ids[i : i + 500])))
        }
    return found


def _owners(conn: Connection, caller: Caller, batch: list[dict[str, Any]]) -> dict[str, str]:
    """Who holds each institution the batch names (for a technician; a push never reassigns)."""
    if caller.supervisor:
        return {}
    ids = sorted({str(op["institution_id"]) for op in batch})
    found: dict[str, str] = {}
    for i in range(0, len(ids), 500):
        found |= {
            r.institution_id: r.technician_id
            for r in conn.execute(
                select(assignments.c.institution_id, assignments.c.technician_id).where(
                    assignments.c.institution_id.in_(ids[i : i + 500])
                )
            )
        }
    return found


def _apply_claimed(
    conn: Connection,
    state: Batch,
    clock: domain.HLC,
    caller: Caller,
    op: dict[str, Any],
    pending: list[dict[str, Any]],
    owners: dict[str, str],
) -> dict[str, Any]:
    """Apply one newly claimed op; its answer (a rejection undoes only this op).

    An op of a BUFFERED kind is applied in memory and undone by cutting the batch's journal
    back; any other op (or one that needs the database itself) runs in a savepoint.
    """
    gathered, point = len(pending), state.checkpoint()
    try:
        try:
            if op["kind"] not in BUFFERED:
                raise NeedsDatabase(op["kind"])
            extras = _apply(conn, state, clock, caller, op, owners)
        except NeedsDatabase:
            state.undo(point)
            del pending[gathered:]
            with state.directly(), conn.begin_nested():
                extras = _apply(conn, state, clock, caller, op, owners)
        result: dict[str, Any] = {"op_id": op["op_id"], "status": "applied", **extras}
    except Rejected as rejected:
        state.undo(point)
        del pending[gathered:]  # what the op emitted before it was refused is undone too
        result = {
            "op_id": op["op_id"],
            "status": "rejected",
            "reason": rejected.reason,
            "message": rejected.text,
        }
    if result["status"] == "rejected" or result.get("superseded"):
        refresh(conn, state, caller, op, owners)
    return result


def _unstorable(op: dict[str, Any]) -> dict[str, Any]:
    return {
        "op_id": op["op_id"],
        "status": "rejected",
        "reason": "invalid",
        "message": "时间戳含有控制字符或无效字符，这条修改未保存 / the HLC contains control "
        "or invalid characters; this change was not saved",
    }


def _same_as(first: dict[str, Any], op: dict[str, Any]) -> bool:
    """Whether two ops of one batch with one id are the same change."""
    keys = ("kind", "institution_id", "hlc")
    return all(first[k] == op[k] for k in keys)


def refresh(
    conn: Connection, state: Batch, caller: Caller, op: dict[str, Any], owners: dict[str, str]
) -> None:
    """Log the current value of the register an op lost or failed on, as a new change.

    The pushing client may have skipped the winner while its own edit was unsent; the fresh
    change (a new seq) brings the winner with its next pull. Nothing outside the caller's scope.
    """
    institution = state.institution(op["institution_id"])
    if institution is None or not _allowed(caller, institution, owners):
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
        found = state.visit(data["visit_id"])
        if found is not None and found["institution_id"] == institution.id:
            emit_visit(conn, institution, data["visit_id"])


def _allowed(caller: Caller, institution: Any, owners: dict[str, str]) -> bool:
    """Whether the caller may change this institution (a supervisor: inside their zone)."""
    if caller.supervisor:
        return domain.contains(caller.zone, institution.division_code)
    return owners.get(institution.id) == caller.id


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


def _apply(
    conn: Connection,
    state: Batch,
    clock: domain.HLC,
    caller: Caller,
    op: dict[str, Any],
    owners: dict[str, str],
) -> dict[str, Any]:
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
    institution = state.institution(op["institution_id"])
    if institution is None:
        raise Rejected(
            "unknown_institution",
            f"办公室没有机构“{op['institution_id']}”",
            f"The office has no institution '{op['institution_id']}'",
        )
    if not _allowed(caller, institution, owners):
        raise Rejected(
            "not_assigned",
            f"机构“{institution.name}”未分配给您，无法修改",
            f"Institution '{institution.name}' is not assigned to you; you cannot change it",
        )
    extras = handler(conn, caller, op, institution)
    clock.observe(stamp)
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
