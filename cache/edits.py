"""Local edits: each written with its outbox op in one transaction, before the screen says saved."""

from __future__ import annotations

import json
import sqlite3
import uuid
from datetime import date, datetime
from typing import Any

from fieldkit import domain

from . import progress, queries
from . import statements as sql
from .core import StoreCore, _require_institution
from .rows import CONTACT_FIELDS, visit_params

POSTER_SIZES = ("a4", "a6", "strip")
QR_RESULTS = ("match", "mismatch")


class Edits(StoreCore):
    """The technician's changes: steps, visits, contacts, posters printed, codes checked."""

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
        with self._tx() as conn:
            return self._insert_visit(conn, visit)

    def _insert_visit(self, conn: sqlite3.Connection, visit: domain.Visit) -> dict[str, Any]:
        """Write a validated visit and queue its op, inside the caller's transaction."""
        data = domain.visit_to_wire(visit)
        _require_institution(conn, visit.institution_id)
        if conn.execute("SELECT 1 FROM visits WHERE visit_id = ?", (visit.visit_id,)).fetchone():
            short = visit.visit_id[:8].upper()  # as the visit list shows it
            raise domain.ValidationError(
                "visit_exists",
                f"这次走访（#{short}）已经保存过了，同一次走访不能再存一份；要补记内容，请新开一次走访",
                f"This visit (#{short}) was already saved; the same visit cannot be saved twice."
                " To add to it, start a new visit",
                "visit_id",
            )
        hlc = self._stamp(conn)
        conn.execute(sql.VISIT_UPSERT, {**visit_params(data), "hlc": hlc, "sync_state": "unsent"})
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
        conn.execute("DELETE FROM visit_drafts WHERE visit_id = ?", (visit.visit_id,))
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
            data["contact_phone"] = domain.validate_phone(contact_phone)
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
        self._check_qr(result, content_sha256)
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

    @staticmethod
    def _check_qr(result: str, content_sha256: str) -> None:
        """Refuse a code check the office could not take."""
        if result not in QR_RESULTS:
            raise domain.ValidationError(
                "qr_result",
                f"未知的核码结果“{result}”",
                f"Unknown check result '{result}'",
                "result",
            )
        _check_sha256(content_sha256, "content_sha256")

    def _record_event(
        self, inst_id: str, visit_id: str | None, kind: str, data: dict[str, Any]
    ) -> dict[str, Any]:
        with self._tx() as conn:
            return self._insert_event(conn, inst_id, visit_id, kind, data)

    def _insert_event(
        self,
        conn: sqlite3.Connection,
        inst_id: str,
        visit_id: str | None,
        kind: str,
        data: dict[str, Any],
    ) -> dict[str, Any]:
        """Write an event and queue its op, inside the caller's transaction."""
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


def _wire_value(value: Any) -> Any:
    """A visit field as the wire carries it (dates as ISO text, tuples as lists)."""
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, domain.Rectification):
        return {"items": list(value.items), "deadline": value.deadline.isoformat()}
    if isinstance(value, tuple):
        return list(value)
    return value


def _check_sha256(value: str, field: str) -> None:
    if len(value) != 64 or any(c not in "0123456789abcdef" for c in value.lower()):
        raise domain.ValidationError(
            "sha256",
            f"{field} 应为64位十六进制摘要",
            f"{field} must be a 64-character hex SHA-256",
            field,
        )
