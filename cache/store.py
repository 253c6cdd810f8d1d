"""The offline store: one SQLite file per profile holding the technician's institutions and their outbox."""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import uuid
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Any

from fieldkit import domain

from . import outbox, progress, pull, queries, schema, search
from . import statements as sql
from .errors import (
    CacheDamaged,
    CacheError,
    CacheUnavailable,
    MalformedChange,
    from_sqlite,
    is_damage,
)
from .rows import (
    CONTACT_FIELDS,
    AssignmentRow,
    StepState,
    institution_row,
    op_dict,
    visit_params,
)

# From this many institutions in one load or pulled page, the trigram index is rebuilt once
# (before the next search that needs it) instead of being updated row by row.
BIG_LOAD = 200
_EMPTY: dict[str, str] = {}
POSTER_SIZES = ("a4", "a6", "strip")
QR_RESULTS = ("match", "mismatch")


def _unknown_institution(inst_id: str) -> domain.ValidationError:
    return domain.ValidationError(
        "unknown_institution",
        f"本地没有机构 {inst_id}，请先同步",
        f"Institution {inst_id} is not in the local cache; sync first",
        "institution_id",
    )


class Store:
    """The technician's offline cache; every method is safe to call from any thread."""

    def __init__(self, path: Path, conn: sqlite3.Connection) -> None:
        self.path = path
        self._conn = conn
        self._lock = threading.RLock()
        self._matcher = search.Matcher()
        self.client_id: str = self._ensure_client_id()
        self.clock = domain.HLC(self.client_id, self.get_meta("clock"))

    # ---- opening -------------------------------------------------------------------------

    @classmethod
    def open(cls, path: Path, timeout: float = 10.0) -> Store:
        """Open (creating if missing) and migrate the cache at `path`.

        `timeout`: seconds to wait for another process's write before giving up.
        """
        path = Path(path)
        _finish_salvage(path)
        schema.check_file(path)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(
                str(path), timeout=timeout, isolation_level=None, check_same_thread=False
            )
        except (OSError, sqlite3.Error) as exc:
            raise CacheUnavailable(path, str(exc)) from None
        try:
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = FULL")
            schema.migrate(conn)
        except sqlite3.Error as exc:
            conn.close()
            raise from_sqlite(path, exc) from None
        conn.row_factory = sqlite3.Row
        return cls(path, conn)

    def quick_check(self) -> str | None:
        """None if SQLite's quick check finds the file sound, else its first complaint."""
        try:
            with self._read() as conn:
                first = conn.execute("PRAGMA quick_check").fetchone()
        except CacheDamaged as exc:
            return exc.detail
        return None if first is None or first[0] == "ok" else str(first[0])

    def close(self) -> None:
        """Close the file (checkpointing the WAL)."""
        with self._lock:
            self._conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            try:
                yield self._conn
            except sqlite3.DatabaseError as exc:
                if is_damage(exc):
                    raise CacheDamaged(self.path, str(exc)) from None
                raise

    @contextmanager
    def _tx(self, keys: bool = False) -> Iterator[sqlite3.Connection]:
        """One write transaction, rolled back whole on any error; `keys`: it may change search keys."""
        with self._lock:
            if keys:
                self._matcher.invalidate()
            conn = self._conn
            try:
                conn.execute("BEGIN IMMEDIATE")
            except sqlite3.DatabaseError as exc:
                raise from_sqlite(self.path, exc, writing=True) from None
            try:
                yield conn
            except sqlite3.DatabaseError as exc:  # disk full, I/O error, damaged file...
                _rollback(conn)
                if isinstance(exc, sqlite3.OperationalError) or is_damage(exc):
                    raise from_sqlite(self.path, exc, writing=True) from None
                raise
            except BaseException:
                _rollback(conn)
                raise
            try:
                conn.execute("COMMIT")
            except sqlite3.Error as exc:
                _rollback(conn)
                raise from_sqlite(self.path, exc, writing=True) from None

    def _ensure_client_id(self) -> str:
        existing = self.get_meta("client_id")
        if existing:
            return existing
        with self._tx() as conn:
            conn.execute(
                "INSERT OR IGNORE INTO meta (key, value) VALUES ('client_id', ?)",
                (uuid.uuid4().hex,),
            )
            return str(conn.execute("SELECT value FROM meta WHERE key = 'client_id'").fetchone()[0])

    # ---- meta ----------------------------------------------------------------------------

    def get_meta(self, key: str, default: str | None = None) -> str | None:
        """A value kept in meta (cursor, epoch, client_id, clock...)."""
        with self._read() as conn:
            row = conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return default if row is None or row[0] is None else str(row[0])

    def set_meta(self, key: str, value: str | None) -> None:
        """Keep (or with None, forget) a value in meta."""
        with self._tx() as conn:
            sql.put_meta(conn, key, value)

    # ---- reads ---------------------------------------------------------------------------

    def assignments(
        self,
        query: str = "",
        filter: str = "all",
        sort: str = "priority",
        limit: int = 100,
        offset: int = 0,
        today: date | None = None,
    ) -> list[AssignmentRow]:
        """One page of the assignment list, searched, filtered and sorted."""
        indexed = self._search_ready(query)
        with self._read() as conn:
            return queries.assignments(
                conn,
                self._matcher,
                query,
                filter,
                sort,
                limit,
                offset,
                today or date.today(),
                indexed,
            )

    def count_assignments(
        self, query: str = "", filter: str = "all", today: date | None = None
    ) -> int:
        """How many institutions the same search and filter would list."""
        indexed = self._search_ready(query)
        with self._read() as conn:
            return queries.count_assignments(
                conn, self._matcher, query, filter, today or date.today(), indexed
            )

    def build_search_index(self) -> bool:
        """Rebuild the trigram index if a big load left it stale; return whether it was rebuilt."""
        with self._tx() as conn:
            if not sql.get_meta(conn, progress.STALE_KEY):
                return False
            conn.execute("INSERT INTO search_fts (search_fts) VALUES ('rebuild')")
            sql.put_meta(conn, progress.STALE_KEY, None)
        return True

    def _search_ready(self, query: str) -> bool:
        """Whether the trigram index can answer this query (rebuilding it first if stale)."""
        if not search.needs_index(query) or not self.get_meta(progress.STALE_KEY):
            return True
        try:
            self.build_search_index()
        except CacheUnavailable:
            return False  # another process holds the write lock: the scan answers meanwhile
        return True

    def institution(self, inst_id: str) -> dict[str, Any] | None:
        """The institution's wire fields plus its sync_state, or None."""
        with self._read() as conn:
            return queries.institution(conn, inst_id)

    def step_states(self, inst_id: str) -> dict[str, StepState]:
        """All eleven steps of one institution (missing ones as todo)."""
        with self._read() as conn:
            return queries.step_states(conn, inst_id)

    def visits(self, inst_id: str | None = None) -> list[dict[str, Any]]:
        """Visits, newest first, of one institution or of all."""
        with self._read() as conn:
            return queries.visits(conn, inst_id)

    def events(self, inst_id: str) -> list[dict[str, Any]]:
        """Posters printed and codes checked for one institution, newest first."""
        with self._read() as conn:
            return queries.events(conn, inst_id)

    def progress(self, level: str = "county") -> list[dict[str, Any]]:
        """Progress per county or city over the cached institutions."""
        with self._read() as conn:
            return queries.progress(conn, level)

    def local_stats(self, division: str | None = None) -> dict[str, Any]:
        """The office's stats shape over the cached rows (all of them, or one division)."""
        with self._read() as conn:
            return queries.local_stats(conn, division)

    def counts(self) -> dict[str, int]:
        """Unsent and rejected ops, institutions and visits held."""
        with self._read() as conn:
            return queries.counts(conn)

    # ---- local edits ---------------------------------------------------------------------

    def set_step(
        self,
        inst_id: str,
        step: str,
        status: str,
        reason: str | None = None,
        note: str | None = None,
        *,
        by: str,
    ) -> dict[str, Any]:
        """Change one checklist step (checked by the domain) and queue it for the office."""
        reason = reason.strip() if reason and reason.strip() else None
        note = note.strip() if note and note.strip() else None
        with self._tx() as conn:
            _require_institution(conn, inst_id)
            current = queries.step_states(conn, inst_id)
            statuses = {key: s.status for key, s in current.items()}
            domain.check_transition(statuses, step, status, reason, actor=domain.TECHNICIAN)
            prev = conn.execute(
                "SELECT status, reason, note, hlc, updated_by, sync_state "
                "FROM steps WHERE institution_id = ? AND step = ?",
                (inst_id, step),
            ).fetchone()
            hlc = self._stamp(conn)
            conn.execute(sql.STEP_UPSERT, (inst_id, step, status, reason, note, hlc, by, "unsent"))
            op = self._enqueue(
                conn,
                "step.set",
                inst_id,
                f"step:{inst_id}:{step}",
                {"step": step, "status": status, "reason": reason, "note": note},
                dict(prev) if prev else None,
                hlc,
            )
            progress.refresh(conn, [inst_id])
        return op

    def create_visit(self, visit: domain.Visit) -> dict[str, Any]:
        """Record a new visit (checked by the domain) and queue it."""
        domain.validate_visit(visit)
        data = domain.visit_to_wire(visit)
        with self._tx() as conn:
            _require_institution(conn, visit.institution_id)
            if conn.execute(
                "SELECT 1 FROM visits WHERE visit_id = ?", (visit.visit_id,)
            ).fetchone():
                raise domain.ValidationError(
                    "visit_exists",
                    f"走访 {visit.visit_id} 已存在，走访只能追加或修订",
                    f"Visit {visit.visit_id} already exists; visits are appended or amended",
                    "visit_id",
                )
            hlc = self._stamp(conn)
            conn.execute(
                sql.VISIT_UPSERT, {**visit_params(data), "hlc": hlc, "sync_state": "unsent"}
            )
            op = self._enqueue(
                conn,
                "visit.create",
                visit.institution_id,
                f"visit:{visit.visit_id}",
                data,
                None,
                hlc,
            )
            progress.refresh(conn, [visit.institution_id])
        return op

    def amend_visit(self, visit_id: str, changes: dict[str, Any]) -> dict[str, Any]:
        """Amend fields of a visit (only the amendable ones; checked by the domain) and queue it."""
        unknown = sorted(set(changes) - set(domain.AMENDABLE))
        if unknown or not changes:
            raise domain.ValidationError(
                "visit_amend",
                f"走访只能修订这些字段：{', '.join(domain.AMENDABLE)}",
                f"Only these visit fields can be amended: {', '.join(domain.AMENDABLE)}",
                unknown[0] if unknown else "changes",
            )
        with self._tx() as conn:
            row = conn.execute("SELECT * FROM visits WHERE visit_id = ?", (visit_id,)).fetchone()
            if row is None:
                raise domain.ValidationError(
                    "unknown_visit",
                    f"本地没有走访 {visit_id}",
                    f"Visit {visit_id} is not in the local cache",
                    "visit_id",
                )
            before = queries.visit_from_row(row)
            merged = {**before, **{k: _wire_value(v) for k, v in changes.items()}}
            visit = domain.validate_visit(domain.visit_from_wire(merged))
            wire = domain.visit_to_wire(visit)
            hlc = self._stamp(conn)
            amended = {k: wire[k] for k in changes}
            amendments = [*before["amendments"], {"hlc": hlc, "changes": amended}]
            conn.execute(
                sql.VISIT_UPSERT,
                {
                    **visit_params({**wire, "amendments": amendments}),
                    "hlc": hlc,
                    "sync_state": "unsent",
                },
            )
            op = self._enqueue(
                conn,
                "visit.amend",
                row["institution_id"],
                f"visit:{visit_id}",
                {"visit_id": visit_id, **amended},
                dict(row),
                hlc,
            )
            progress.refresh(conn, [row["institution_id"]])
        return op

    def set_contact(
        self, inst_id: str, *, contact_name: str | None = None, contact_phone: str | None = None
    ) -> dict[str, Any]:
        """Change the institution's contact person or mobile (checked) and queue it."""
        data: dict[str, str] = {}
        if contact_name is not None:
            if not contact_name.strip():
                raise domain.ValidationError(
                    "contact_name",
                    "联系人姓名不能为空",
                    "The contact name cannot be empty",
                    "contact_name",
                )
            data["contact_name"] = contact_name.strip()
        if contact_phone is not None:
            data["contact_phone"] = domain.validate_mobile(contact_phone)
        if not data:
            raise domain.ValidationError(
                "contact_empty",
                "请填写联系人或手机号",
                "Give a contact name or a mobile number",
                "contact_name",
            )
        with self._tx(keys=True) as conn:
            row = _require_institution(conn, inst_id)
            prev = {k: row[k] for k in CONTACT_FIELDS}
            hlc = self._stamp(conn)
            sets = ", ".join(f"{k} = ?" for k in data)
            conn.execute(
                f"UPDATE institutions SET {sets}, sync_state = 'unsent' WHERE id = ?",
                (*data.values(), inst_id),
            )
            op = self._enqueue(conn, "contact.set", inst_id, f"contact:{inst_id}", data, prev, hlc)
            progress.refresh(conn, [inst_id])
        return op

    def record_poster(
        self, inst_id: str, size: str, payload_sha256: str, copies: int = 1
    ) -> dict[str, Any]:
        """Record that a payment-code poster was printed, and queue it for the office's audit."""
        if size not in POSTER_SIZES:
            raise domain.ValidationError(
                "poster_size",
                f"未知的海报尺寸“{size}”（a4、a6、strip）",
                f"Unknown poster size '{size}' (a4, a6, strip)",
                "size",
            )
        if copies < 1:
            raise domain.ValidationError(
                "poster_copies", "打印份数至少为1", "At least one copy must be printed", "copies"
            )
        _check_sha256(payload_sha256, "payload_sha256")
        return self._record_event(
            inst_id,
            None,
            "poster.printed",
            {"size": size, "payload_sha256": payload_sha256, "copies": copies},
        )

    def record_qr_check(
        self, inst_id: str, visit_id: str | None, result: str, found: str, content_sha256: str
    ) -> dict[str, Any]:
        """Record an on-site check of the code at the front desk, and queue it."""
        if result not in QR_RESULTS:
            raise domain.ValidationError(
                "qr_result",
                f"未知的核码结果“{result}”",
                f"Unknown check result '{result}'",
                "result",
            )
        _check_sha256(content_sha256, "content_sha256")
        return self._record_event(
            inst_id,
            visit_id,
            "qr.checked",
            {
                "visit_id": visit_id,
                "result": result,
                "found": found,
                "content_sha256": content_sha256,
            },
        )

    def _record_event(
        self, inst_id: str, visit_id: str | None, kind: str, data: dict[str, Any]
    ) -> dict[str, Any]:
        with self._tx() as conn:
            _require_institution(conn, inst_id)
            hlc = self._stamp(conn)
            event_id = str(uuid.uuid4())
            conn.execute(
                "INSERT INTO events (event_id, institution_id, visit_id, kind, data, hlc, "
                "created_at, sync_state) VALUES (?, ?, ?, ?, ?, ?, ?, 'unsent')",
                (event_id, inst_id, visit_id, kind, json.dumps(data), hlc, sql.utcnow()),
            )
            op = self._enqueue(
                conn, kind, inst_id, f"event:{event_id}", data, None, hlc, op_id=event_id
            )
            progress.refresh(conn, [inst_id])
        return op

    def _stamp(self, conn: sqlite3.Connection) -> str:
        """A fresh HLC stamp, persisted in meta in the same transaction."""
        saved = conn.execute("SELECT value FROM meta WHERE key = 'clock'").fetchone()
        if saved and saved[0]:
            self.clock.observe(saved[0])  # another process on this file may have moved on
        stamp = self.clock.now()
        sql.put_meta(conn, "clock", stamp)
        return stamp

    def _enqueue(
        self,
        conn: sqlite3.Connection,
        kind: str,
        inst_id: str,
        register: str,
        data: dict[str, Any],
        prev: dict[str, Any] | None,
        hlc: str,
        op_id: str | None = None,
    ) -> dict[str, Any]:
        """Append one op to the outbox (inside the caller's transaction) and return it."""
        op_id = op_id or str(uuid.uuid4())
        created = sql.utcnow()
        conn.execute(
            "INSERT INTO outbox (op_id, hlc, kind, institution_id, register, data, prev, state, "
            "created_at) VALUES (?, ?, ?, ?, ?, ?, ?, 'unsent', ?)",
            (
                op_id,
                hlc,
                kind,
                inst_id,
                register,
                json.dumps(data, ensure_ascii=False),
                json.dumps(prev, ensure_ascii=False) if prev is not None else None,
                created,
            ),
        )
        return {
            "op_id": op_id,
            "hlc": hlc,
            "kind": kind,
            "institution_id": inst_id,
            "data": data,
            "state": "unsent",
            "reason": None,
            "message": None,
            "created_at": created,
        }

    # ---- outbox --------------------------------------------------------------------------

    def pending_ops(self, limit: int) -> list[dict[str, Any]]:
        """Ops still to push (unsent or sending), oldest first."""
        with self._read() as conn:
            rows = conn.execute(
                "SELECT * FROM outbox WHERE state IN ('unsent', 'sending') ORDER BY seq LIMIT ?",
                (limit,),
            ).fetchall()
        return [op_dict(r) for r in rows]

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

    def record_results(self, results: list[dict[str, Any]]) -> None:
        """Apply the office's answer per op: applied/duplicate → synced, rejected → kept with why."""
        with self._tx(keys=True) as conn:
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

    def apply_changes(self, changes: list[dict[str, Any]], cursor: int) -> None:
        """Apply one page of the office's changes and its cursor, in one transaction."""
        with self._tx(keys=True) as conn:
            dirty = outbox.dirty_registers(conn)
            if sum(1 for c in changes if c.get("kind") == "institution") >= BIG_LOAD:
                sql.put_meta(conn, progress.STALE_KEY, "stale")
            self._observe_newest(changes)
            touched: set[str] = set()
            steps: list[tuple[Any, ...]] = []  # runs of step changes go in one executemany
            for change in changes:
                try:
                    if change.get("kind") == "step":
                        steps += self._step_row(change, dirty, touched)
                        continue
                    conn.executemany(sql.STEP_UPSERT, steps)
                    steps = []
                    touched |= self._apply_one(conn, change, dirty)
                except (
                    KeyError,
                    TypeError,
                    ValueError,
                    AttributeError,
                    sqlite3.IntegrityError,
                    sqlite3.ProgrammingError,  # a list or an object where text is stored
                ) as exc:
                    raise MalformedChange(change, f"{type(exc).__name__}: {exc}") from None
            try:
                conn.executemany(sql.STEP_UPSERT, steps)
            except (sqlite3.IntegrityError, sqlite3.ProgrammingError) as exc:
                raise MalformedChange(changes[-1], str(exc)) from None
            progress.refresh(conn, touched)  # (ids no longer cached update nothing)
            sql.put_meta(conn, "cursor", str(int(cursor)))
            sql.put_meta(conn, "clock", self.clock.now())

    def _step_row(
        self, change: dict[str, Any], dirty: set[str], touched: set[str]
    ) -> list[tuple[Any, ...]]:
        """The steps row a pulled step change writes (none if the register has local edits)."""
        data = change["data"]
        inst_id, key, status = str(data["institution_id"]), str(data["step"]), data["status"]
        if status not in domain.STATUSES:
            raise ValueError(f"unknown status {status!r}")
        if key not in domain.STEPS_BY_KEY or f"step:{inst_id}:{key}" in dirty:
            return []  # a step this version does not know cannot be shown; it is skipped
        touched.add(inst_id)
        return [
            (
                inst_id,
                key,
                status,
                data.get("reason"),
                data.get("note"),
                data.get("hlc"),
                data.get("updated_by"),
                "synced",
            )
        ]

    def _apply_one(
        self, conn: sqlite3.Connection, change: dict[str, Any], dirty: set[str]
    ) -> set[str]:
        """Apply one change other than a step; return the institutions whose progress it may move."""
        kind, data = change.get("kind"), change.get("data") or {}
        if kind == "institution":
            return {pull.apply_institution(conn, data, dirty)}
        if kind == "visit":
            return pull.apply_visit(conn, data, dirty)
        if kind == "unassigned":
            inst_id = str(change.get("id") or data.get("institution_id"))
            outbox.unassign(conn, inst_id)
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


# ---- helpers working inside a transaction ----------------------------------------------------


def _wire_value(value: Any) -> Any:
    """A visit field as the wire carries it (dates as ISO text, tuples as lists)."""
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, domain.Rectification):
        return {"items": list(value.items), "deadline": value.deadline.isoformat()}
    if isinstance(value, tuple):
        return list(value)
    return value


def salvaging_path(path: Path) -> Path:
    """Where a salvage builds the fresh cache before renaming it into place."""
    return path.with_name(f"{path.name}.salvaging")


def _finish_salvage(path: Path) -> None:
    """Put in place the fresh cache of a salvage cut short after the damaged file was set aside."""
    building = salvaging_path(path)
    if not path.exists() and building.is_file():
        os.replace(building, path)


def _rollback(conn: sqlite3.Connection) -> None:
    if conn.in_transaction:
        try:
            conn.execute("ROLLBACK")
        except sqlite3.Error:
            pass  # SQLite already rolled back (after a full disk or I/O error it may)


def _require_institution(conn: sqlite3.Connection, inst_id: str) -> sqlite3.Row:
    row = conn.execute("SELECT * FROM institutions WHERE id = ?", (inst_id,)).fetchone()
    if row is None:
        raise _unknown_institution(inst_id)
    return row


def _check_sha256(value: str, field: str) -> None:
    if len(value) != 64 or any(c not in "0123456789abcdef" for c in value.lower()):
        raise domain.ValidationError(
            "sha256",
            f"{field} 应为64位十六进制摘要",
            f"{field} must be a 64-character hex SHA-256",
            field,
        )
