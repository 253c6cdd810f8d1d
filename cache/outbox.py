"""The outbox side of the store: which registers ops touch, their rows' sync state, putting back
what a discarded op overwrote, and institutions kept until their ops are settled."""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from .statements import utcnow


def registers_of(conn: sqlite3.Connection, op_ids: list[str]) -> set[str]:
    """The registers (step:inst:key, contact:inst, visit:id, event:id) these ops write."""
    rows = conn.execute(
        "SELECT DISTINCT register FROM outbox WHERE op_id IN (SELECT value FROM json_each(?))",
        (json.dumps(op_ids),),
    )
    return {r[0] for r in rows}


def institutions_of(conn: sqlite3.Connection, op_ids: list[str]) -> set[str]:
    """The institutions these ops refer to."""
    rows = conn.execute(
        "SELECT DISTINCT institution_id FROM outbox WHERE op_id IN "
        "(SELECT value FROM json_each(?))",
        (json.dumps(op_ids),),
    )
    return {r[0] for r in rows if r[0]}


def register_state(conn: sqlite3.Connection, register: str) -> str:
    """unsent / sending if any op of the register still is; rejected if its newest op was; else synced."""
    states = [
        r[0]
        for r in conn.execute(
            "SELECT state FROM outbox WHERE register = ? AND state != 'discarded' ORDER BY seq DESC",
            (register,),
        )
    ]
    if "unsent" in states:
        return "unsent"
    if "sending" in states:
        return "sending"
    return "rejected" if states and states[0] == "rejected" else "synced"


def refresh_register(conn: sqlite3.Connection, register: str) -> None:
    """Write the register's sync state onto the row that holds it."""
    state = register_state(conn, register)
    kind, _, rest = register.partition(":")
    if kind == "step":
        inst_id, _, key = rest.rpartition(":")
        conn.execute(
            "UPDATE steps SET sync_state = ? WHERE institution_id = ? AND step = ?",
            (state, inst_id, key),
        )
    elif kind == "contact":
        conn.execute("UPDATE institutions SET sync_state = ? WHERE id = ?", (state, rest))
    elif kind == "visit":
        conn.execute("UPDATE visits SET sync_state = ? WHERE visit_id = ?", (state, rest))
    elif kind == "event":
        conn.execute("UPDATE events SET sync_state = ? WHERE event_id = ?", (state, rest))


def restore(conn: sqlite3.Connection, op: sqlite3.Row) -> None:
    """Put back what a discarded op overwrote, if the row still holds the op's value."""
    prev = json.loads(op["prev"]) if op["prev"] else None
    kind, _, rest = op["register"].partition(":")
    if kind == "step":
        inst_id, _, key = rest.rpartition(":")
        if prev is None:
            conn.execute(
                "DELETE FROM steps WHERE institution_id = ? AND step = ? AND hlc = ?",
                (inst_id, key, op["hlc"]),
            )
        else:
            conn.execute(
                "UPDATE steps SET status = ?, reason = ?, note = ?, hlc = ?, "
                "updated_by = ? WHERE institution_id = ? AND step = ? AND hlc = ?",
                (
                    prev["status"],
                    prev["reason"],
                    prev["note"],
                    prev["hlc"],
                    prev["updated_by"],
                    inst_id,
                    key,
                    op["hlc"],
                ),
            )
    elif kind == "contact" and prev is not None:
        data = json.loads(op["data"])
        row = conn.execute(
            "SELECT contact_name, contact_phone FROM institutions WHERE id = ?", (rest,)
        ).fetchone()
        if row is not None and all(row[k] == v for k, v in data.items()):
            conn.execute(
                "UPDATE institutions SET contact_name = ?, contact_phone = ? WHERE id = ?",
                (prev["contact_name"], prev["contact_phone"], rest),
            )
    elif kind == "visit":
        if prev is None:
            conn.execute("DELETE FROM visits WHERE visit_id = ? AND hlc = ?", (rest, op["hlc"]))
        else:
            restore_visit(conn, prev, op["hlc"])
    elif kind == "event":
        conn.execute("DELETE FROM events WHERE event_id = ?", (rest,))


def restore_visit(conn: sqlite3.Connection, prev: dict[str, Any], hlc: str) -> None:
    """Put a visit row back as it was, if it still carries the discarded amendment's stamp."""
    cols = [c for c in prev if c not in ("visit_id",)]
    sets = ", ".join(f"{c} = :{c}" for c in cols)
    conn.execute(
        f"UPDATE visits SET {sets} WHERE visit_id = :visit_id AND hlc = :guard",
        {**prev, "guard": hlc},
    )


def dirty_registers(conn: sqlite3.Connection) -> set[str]:
    """Registers a pull must not overwrite: those with unsent or sending ops (contact per field)."""
    dirty: set[str] = set()
    for register, kind, inst_id, data in conn.execute(
        "SELECT register, kind, institution_id, data FROM outbox "
        "WHERE state IN ('unsent', 'sending')"
    ):
        dirty.add(register)
        if kind == "contact.set":
            dirty |= {f"{field}:{inst_id}" for field in json.loads(data)}
    return dirty


def held_institutions(conn: sqlite3.Connection) -> set[str]:
    """Institutions that unsent, sending or rejected ops still refer to (they stay cached)."""
    rows = conn.execute(
        "SELECT DISTINCT institution_id FROM outbox WHERE state IN "
        "('unsent', 'sending', 'rejected') AND institution_id IS NOT NULL"
    )
    return {r[0] for r in rows}


def unassign(conn: sqlite3.Connection, inst_id: str) -> None:
    """Remove an institution the office took away, or remember it while local ops still need it."""
    if inst_id in held_institutions(conn):
        conn.execute("INSERT OR IGNORE INTO pending_removals VALUES (?, ?)", (inst_id, utcnow()))
    else:
        remove(conn, inst_id)


def remove(conn: sqlite3.Connection, inst_id: str) -> None:
    """Delete an institution and everything of it the cache holds (its ops stay, settled)."""
    conn.execute(
        "DELETE FROM case_bodies WHERE case_id IN (SELECT case_id FROM cases WHERE institution_id = ?)",
        (inst_id,),
    )
    for table, column in (
        ("steps", "institution_id"),
        ("visits", "institution_id"),
        ("events", "institution_id"),
        ("platform_readings", "institution_id"),
        ("courses", "institution_id"),
        ("institutions", "id"),
        ("pending_removals", "institution_id"),
        ("cases", "institution_id"),
        ("reviews", "institution_id"),
        ("round_tasks", "institution_id"),
    ):
        conn.execute(f"DELETE FROM {table} WHERE {column} = ?", (inst_id,))


def sweep_removals(conn: sqlite3.Connection) -> None:
    """Remove the remembered unassigned institutions whose ops are all synced or discarded."""
    held = held_institutions(conn)
    for (inst_id,) in conn.execute("SELECT institution_id FROM pending_removals").fetchall():
        if inst_id not in held:
            remove(conn, inst_id)
