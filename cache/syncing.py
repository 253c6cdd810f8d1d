"""Sync bookkeeping: the outbox pushed and answered, pulled pages applied, full re-pulls."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Collection
from typing import Any

from fieldkit import domain

from . import attachments, cases, outbox, platform, progress, pull, schema
from . import statements as sql
from .core import StoreCore
from .errors import CacheError, MalformedChange
from .rows import institution_row, op_dict

# From this many institutions in one load or pulled page, the trigram index is rebuilt once
# (before the next search that needs it) instead of being updated row by row.
BIG_LOAD = 200
_EMPTY: dict[str, str] = {}


class Syncing(StoreCore):
    """What sync asks of the cache: ops to send, answers to record, changes to apply."""

    def pending_ops(self, limit: int) -> list[dict[str, Any]]:
        """Ops still to push (unsent or sending), oldest first."""
        with self._read() as conn:
            rows = conn.execute(
                "SELECT * FROM outbox WHERE state IN ('unsent', 'sending') ORDER BY seq LIMIT ?",
                (limit,),
            ).fetchall()
        return [op_dict(r) for r in rows]

    def op_state(self, op_id: str) -> str | None:
        """Where one op stands: unsent, sending, synced, rejected or discarded (None: no such op)."""
        with self._read() as conn:
            row = conn.execute("SELECT state FROM outbox WHERE op_id = ?", (op_id,)).fetchone()
        return None if row is None else str(row[0])

    def mark_sending(self, op_ids: list[str]) -> None:
        """Note that these ops are on their way to the office."""
        with self._tx() as conn:
            registers = outbox.registers_of(conn, op_ids)
            conn.executemany(
                "UPDATE outbox SET state = 'sending' WHERE op_id = ? "
                "AND state IN ('unsent', 'sending')",
                [(i,) for i in op_ids],
            )
            for register in registers:
                outbox.refresh_register(conn, register)

    def record_results(
        self, results: list[dict[str, Any]], meta: dict[str, str] | None = None
    ) -> None:
        """Apply the office's answer per op: applied/duplicate → synced, rejected → kept with why.

        `meta` (e.g. the office's mark from the same answer) is kept in the same transaction, so
        no crash can leave the results recorded without the proof of the write that took them.
        """
        with self._tx(keys=True) as conn:
            for key, value in (meta or _EMPTY).items():
                sql.put_meta(conn, key, value)
            op_ids = [str(r["op_id"]) for r in results]
            registers = outbox.registers_of(conn, op_ids)
            insts = outbox.institutions_of(conn, op_ids)
            for result in results:
                if result.get("status") == "rejected":
                    conn.execute(
                        "UPDATE outbox SET state = 'rejected', reason = ?, message = ? "
                        "WHERE op_id = ? AND state != 'discarded'",
                        (
                            result.get("reason") or "rejected",
                            result.get("message"),
                            str(result["op_id"]),
                        ),
                    )
                elif result.get("status") in ("applied", "duplicate"):
                    conn.execute(
                        "UPDATE outbox SET state = 'synced', reason = NULL, "
                        "message = NULL, superseded = ?, conflict = ? WHERE op_id = ?",
                        (
                            int(bool(result.get("superseded"))),
                            int(bool(result.get("conflict"))),
                            str(result["op_id"]),
                        ),
                    )
            for register in registers:
                outbox.refresh_register(conn, register)
            progress.refresh(conn, insts)
            outbox.sweep_removals(conn)

    def adopt_ops(self, ops: list[dict[str, Any]], clock: str | None = None) -> int:
        """Take in ops rescued from a damaged cache (kept as they were; sending ones become unsent)."""
        rows = [
            (
                op["op_id"],
                op["hlc"],
                op["kind"],
                op.get("institution_id"),
                op["register"],
                op["data"],
                op.get("prev"),
                "unsent" if op["state"] == "sending" else op["state"],
                op.get("reason"),
                op.get("message"),
                op["created_at"],
            )
            for op in ops
        ]
        with self._tx() as conn:
            before = conn.total_changes
            conn.executemany(
                "INSERT OR IGNORE INTO outbox (op_id, hlc, kind, institution_id, register, data, "
                "prev, state, reason, message, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                rows,
            )
            adopted = conn.total_changes - before
            stamps = {clock, *(op["hlc"] for op in ops)}
            for stamp in sorted((s for s in stamps if isinstance(s, str)), reverse=True):
                try:
                    self.clock.observe(stamp)  # new stamps sort after every rescued one
                    break
                except domain.DomainError:
                    continue
            sql.put_meta(conn, "clock", self.clock.now())
        return adopted

    def rejected_ops(self) -> list[dict[str, Any]]:
        """Ops the office refused, with reason and message, oldest first."""
        with self._read() as conn:
            rows = conn.execute("SELECT * FROM outbox WHERE state = 'rejected' ORDER BY seq")
            return [op_dict(r) for r in rows.fetchall()]

    def conflicts(self, limit: int = 100) -> list[dict[str, Any]]:
        """Synced ops the office flagged (concurrent edit, or superseded), newest first."""
        with self._read() as conn:
            rows = conn.execute(
                "SELECT * FROM outbox WHERE state = 'synced' AND "
                "(conflict OR superseded) ORDER BY seq DESC LIMIT ?",
                (limit,),
            )
            return [
                {**op_dict(r), "conflict": bool(r["conflict"]), "superseded": bool(r["superseded"])}
                for r in rows.fetchall()
            ]

    def discard_op(self, op_id: str) -> None:
        """Give up a rejected op; the register goes back to what it held before the edit."""
        with self._tx(keys=True) as conn:
            row = conn.execute("SELECT * FROM outbox WHERE op_id = ?", (op_id,)).fetchone()
            if row is None or row["state"] != "rejected":
                raise CacheError(
                    "只能丢弃被服务器拒绝的修改；未发送的修改会在下次同步时发送",
                    "Only changes the office rejected can be discarded; unsent changes are "
                    "sent at the next sync",
                )
            conn.execute("UPDATE outbox SET state = 'discarded' WHERE op_id = ?", (op_id,))
            later = conn.execute(
                "SELECT 1 FROM outbox WHERE register = ? AND seq > ? AND state != 'discarded'",
                (row["register"], row["seq"]),
            )
            if later.fetchone() is None:
                outbox.restore(conn, row)
            outbox.refresh_register(conn, row["register"])
            progress.refresh(conn, [row["institution_id"]])
            outbox.sweep_removals(conn)

    # ---- pull ----------------------------------------------------------------------------

    def apply_changes(
        self,
        changes: list[dict[str, Any]],
        cursor: int,
        meta: dict[str, str] | None = None,
        observed: bool = False,
    ) -> None:
        """Apply one page of the office's changes and its cursor, in one transaction.

        `meta` (the office's mark of the page) is kept in the same transaction. `observed`: the
        clock has already seen the page's stamps (sync checks and observes each distinct one);
        otherwise it is moved past the newest here. Written without waiting for the disk (see
        `_tx`): a page a power cut undoes is pulled again, its cursor undone with it."""
        with self._tx(keys=True, durable=False) as conn:
            dirty = outbox.dirty_registers(conn)
            if sum(1 for c in changes if c.get("kind") == "institution") >= BIG_LOAD:
                sql.put_meta(conn, progress.STALE_KEY, "stale")
            if not observed:
                self._observe_newest(changes)
            for key, value in (meta or _EMPTY).items():
                sql.put_meta(conn, key, value)
            try:
                touched = pull.apply_page(conn, changes, dirty, self._apply_one)
            except pull.BadChange as bad:
                raise MalformedChange(bad.change, bad.detail) from None
            progress.refresh(conn, touched)  # (ids no longer cached update nothing)
            sql.put_meta(conn, "cursor", str(int(cursor)))
            sql.put_meta(conn, "clock", self.clock.now())

    def _apply_one(
        self, conn: sqlite3.Connection, change: dict[str, Any], dirty: set[str]
    ) -> set[str]:
        """Apply one change of a kind not written in runs (pull.RUNS); return the institutions
        whose progress it may move."""
        kind, data = change.get("kind"), change.get("data") or {}
        if kind == "visit":
            return pull.apply_visit(conn, data, dirty)
        if kind == "attachment":
            attachments.apply_attachment(conn, data)
            return set()
        if kind == "unassigned":
            inst_id = str(change.get("id") or data.get("institution_id"))
            outbox.unassign(conn, inst_id)
        if kind in cases.PULLED_KINDS:
            return cases.apply_change(conn, str(kind), data)
        if kind == "course":
            return platform.apply_course(conn, data)
        return set()

    def _observe_newest(self, changes: list[dict[str, Any]]) -> None:
        """Move the clock past the newest stamp of a page (stamp text sorts in stamp order)."""
        stamps = {c.get("hlc") for c in changes} | {
            (c.get("data") or {}).get("hlc") for c in changes if isinstance(c.get("data"), dict)
        }
        for stamp in sorted((s for s in stamps if isinstance(s, str)), reverse=True):
            try:
                self.clock.observe(stamp)
                return
            except domain.DomainError:
                continue  # a malformed stamp orders nothing; the change itself still applies

    def reset_for_full_pull(self) -> None:
        """Forget the office's copies (cursor to 0) but keep the outbox and unsent rows.

        Every row the office gave is dropped (the full pull brings back what the office still
        has); institutions that ops still refer to stay, with their local rows.
        """
        with self._tx(keys=True) as conn:
            held = outbox.held_institutions(conn)
            conn.execute("DELETE FROM steps WHERE sync_state = 'synced'")
            conn.execute("DELETE FROM visits WHERE sync_state = 'synced'")
            cases.forget_synced(conn)
            platform.remove(conn)  # the office's alone: the full pull brings them back
            conn.execute(
                "DELETE FROM institutions WHERE id NOT IN (SELECT value FROM json_each(?))",
                (json.dumps(sorted(held)),),
            )
            # Whatever the full pull does not bring back leaves once its ops are synced.
            conn.executemany(
                "INSERT OR IGNORE INTO pending_removals VALUES (?, ?)",
                [(i, sql.utcnow()) for i in held],
            )
            progress.refresh(conn, held)
            sql.put_meta(conn, "cursor", "0")

    def requeue_synced(self, exclude: Collection[str] = ()) -> int:
        """Queue again every synced op still kept, for an office restored from a backup; how many.

        The office keeps every op_id, so an op it still has answers "duplicate" and one it lost
        is applied again. `exclude`: ops known to be there (just answered by the restored office).
        """
        with self._tx(keys=True) as conn:
            # only ops of institutions still held here: one the office took away stays settled
            rows = conn.execute(
                "SELECT op_id FROM outbox WHERE state = 'synced' AND "
                "institution_id IN (SELECT id FROM institutions)"
            ).fetchall()
            skip = set(exclude)
            op_ids = [r[0] for r in rows if r[0] not in skip]
            conn.execute(
                "UPDATE outbox SET state = 'unsent', superseded = 0, conflict = 0 "
                "WHERE op_id IN (SELECT value FROM json_each(?))",
                (json.dumps(op_ids),),
            )
            for register in outbox.registers_of(conn, op_ids):
                outbox.refresh_register(conn, register)
            progress.refresh(conn, outbox.institutions_of(conn, op_ids))
        return len(op_ids)

    def forget_synced(self, before: str | None = None) -> int:
        """Drop synced ops created before `before` (ISO UTC; all if None): they will not be re-sent."""
        with self._tx() as conn:
            if before is None:
                cur = conn.execute("DELETE FROM outbox WHERE state = 'synced'")
            else:
                cur = conn.execute(
                    "DELETE FROM outbox WHERE state = 'synced' AND created_at < ?", (before,)
                )
            return cur.rowcount

    def bulk_load(self, institutions: list[dict[str, Any]], steps: list[dict[str, Any]]) -> None:
        """Load many institutions and their steps in one transaction (registers with local edits kept)."""
        values = progress.load_values(steps)
        untouched = progress.step_values(_EMPTY)
        inst_rows = [
            (*institution_row(i), "synced", *values.get(i["id"], untouched), None, None, 0)
            for i in institutions
        ]
        columns = sql.step_columns(steps)
        step_rows = (
            [tuple(s.get(c) for c in columns) for s in steps]
            if len(columns) > 4
            else [(s["institution_id"], s["step"], s["status"], s.get("reason")) for s in steps]
        )
        big = len(institutions) >= BIG_LOAD
        with self._tx(keys=True) as conn:
            if big:  # set-based search keys, one index rebuild and fresh sort indexes beat
                # 7,750 trigger runs and index updates
                sql.put_meta(conn, progress.STALE_KEY, "stale")
                sql.put_meta(conn, progress.BULK_KEY, "1")
                for name in schema.LIST_INDEXES:
                    conn.execute(f"DROP INDEX IF EXISTS {name}")
            local = conn.execute(
                "SELECT EXISTS (SELECT 1 FROM outbox) OR EXISTS (SELECT 1 FROM visits)"
            ).fetchone()[0]
            empty = not conn.execute("SELECT EXISTS (SELECT 1 FROM institutions)").fetchone()[0]
            conn.executemany(sql.INST_LOAD, inst_rows)
            conn.executemany(sql.step_load_sql(columns), step_rows)
            if big:
                if empty:
                    conn.execute(sql.SEARCH_KEYS_ALL)
                else:
                    conn.execute(
                        sql.SEARCH_KEYS_UPSERT, (json.dumps([i["id"] for i in institutions]),)
                    )
                sql.put_meta(conn, progress.BULK_KEY, None)
                for name, definition in schema.LIST_INDEXES.items():
                    conn.execute(f"CREATE INDEX {name} ON {definition}")
            if local:
                progress.refresh(conn, [i["id"] for i in institutions])
