"""Evidence files in the cache: the bytes beside the cache file, their records and upload state.

A file is written (and synced to disk) before the transaction that records it and queues its
`attachment.add` op commits, so an attachment the screen calls saved is never missing its bytes.
Files are named by the SHA-256 of their bytes: a photo attached to two visits is kept once.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import uuid
from pathlib import Path
from typing import Any

from fieldkit import domain
from fieldkit.domain.evidence import (
    DISK_RESERVE,
    DISK_WARN,
    FILE_FIELDS,
    sha256_hex,
)

from . import statements as sql
from .attachment_rows import (
    _check_count,
    _existing,
    _holds,
    _insert,
    _refused,
    _resolve,
    _select,
    apply_attachment,
    write_synced,
)
from .edits import Edits

META_FIELDS = FILE_FIELDS

# The rows' functions that the sync code reaches through this module.
__all__ = ["META_FIELDS", "Attachments", "apply_attachment", "write_synced"]


class Attachments(Edits):
    """Photos and PDFs attached to visits, code checks and case items; their upload bookkeeping."""

    @property
    def files_dir(self) -> Path:
        """The folder beside the cache file that holds the evidence files."""
        return self.path.with_name(f"{self.path.stem}.files")

    def file_path(self, sha256: str) -> Path:
        """Where the file with this SHA-256 is (or would be) kept."""
        return self.files_dir / sha256[:2] / sha256

    def attach(
        self,
        record_kind: str,
        record_id: str,
        stored: bytes,
        meta: dict[str, Any],
        *,
        item: int | None = None,
        by: str = "",
    ) -> dict[str, Any]:
        """Keep a prepared file with its record and queue its `attachment.add` op; the new row.

        The row carries `warning` (words, or None) when the disk is getting full.
        """
        digest = sha256_hex(stored)
        if meta.get("sha256") not in (None, digest):
            raise _refused(
                "changed",
                "文件内容与摘要不符（准备后被改动），未附上，请重新附上。",
                "The file's bytes do not match their hash (changed after it was read); "
                "it was not attached: attach it again.",
            )
        with self._read() as conn:
            inst_id, record_id = _resolve(conn, record_kind, record_id, item)
            same = _existing(conn, record_kind, record_id, item, digest)
            if same is not None:
                return same | {"warning": None, "already": True}
            _check_count(conn, record_kind, record_id, item)
            present = conn.execute("SELECT here FROM files WHERE sha256 = ?", (digest,)).fetchone()
        warning = self._keep_file(digest, stored, bool(present and present[0]))
        with self._tx() as conn:
            attachment_id = self._add(conn, record_kind, record_id, item, digest, stored, meta, by)
        return self.attachment(attachment_id) | {"warning": warning, "already": False}

    def save_visit_with_evidence(
        self,
        visit: domain.Visit,
        checks: list[tuple[str, str, str]],
        files: list[tuple[bytes, dict[str, Any], int | None]],
        *,
        by: str = "",
    ) -> list[str]:
        """Save a visit, its code checks and its files in one transaction; the check ids.

        `checks`: (result, found, content_sha256) each; `files`: (stored bytes, meta, the index
        of the check the file shows, or None for the visit itself). Every file is on disk and
        synced before the transaction that records it commits.
        """
        domain.validate_visit(visit)
        for result, _, digest in checks:
            self._check_qr(result, digest)
        for stored, _, _ in files:
            digest = sha256_hex(stored)
            with self._read() as conn:
                present = conn.execute(
                    "SELECT here FROM files WHERE sha256 = ?", (digest,)
                ).fetchone()
            self._keep_file(digest, stored, bool(present and present[0]))
        with self._tx() as conn:
            self._insert_visit(conn, visit)
            check_ids = []
            for result, found, digest in checks:
                data = {
                    "visit_id": visit.visit_id,
                    "result": result,
                    "found": found,
                    "content_sha256": digest,
                }
                op = self._insert_event(
                    conn, visit.institution_id, visit.visit_id, "qr.checked", data
                )
                check_ids.append(str(op["op_id"]))
            for stored, meta, check in files:
                kind, record_id = (
                    ("visit", visit.visit_id) if check is None else ("check", check_ids[check])
                )
                digest = sha256_hex(stored)
                if _existing(conn, kind, record_id, None, digest) is None:
                    _check_count(conn, kind, record_id, None)
                    self._add(conn, kind, record_id, None, digest, stored, meta, by)
        return check_ids

    def _keep_file(self, digest: str, stored: bytes, known: bool) -> str | None:
        """Put the bytes beside the cache, synced, unless they are there; words if disk is low."""
        path = self.file_path(digest)
        if known and _holds(path, len(stored)):
            return None
        warning = self._room_for(len(stored))
        write_synced(path, stored)
        return warning

    def _add(
        self,
        conn: sqlite3.Connection,
        kind: str,
        record_id: str,
        item: int | None,
        digest: str,
        stored: bytes,
        meta: dict[str, Any],
        by: str,
    ) -> str:
        """Record one attachment and queue its op (inside the caller's transaction); its id."""
        inst_id, record_id = _resolve(conn, kind, record_id, item)
        attachment_id = str(uuid.uuid4())
        data = {
            "attachment_id": attachment_id,
            "record": kind,
            "record_id": record_id,
            "item": item,
            **{k: meta.get(k) for k in META_FIELDS},
            "sha256": digest,
            "size": len(stored),
        }
        hlc = self._stamp(conn)
        op = self._enqueue(
            conn,
            "attachment.add",
            inst_id,
            f"attachment:{attachment_id}",
            data,
            None,
            hlc,
            op_id=attachment_id,
        )
        _insert(conn, data, inst_id, op["created_at"], by, op["op_id"], "unsent")
        conn.execute(
            "INSERT INTO files (sha256, size, mime, here, at_office, sent, updated_at) "
            "VALUES (?, ?, ?, 1, 0, 0, ?) ON CONFLICT (sha256) DO UPDATE SET here = 1",
            (digest, len(stored), data["mime"] or "", sql.utcnow()),
        )
        return attachment_id

    def _room_for(self, size: int) -> str | None:
        """Refuse a file the disk has no room for; words when the disk is getting full."""
        folder = self.files_dir if self.files_dir.exists() else self.path.parent
        try:
            free = shutil.disk_usage(folder).free
        except OSError:
            return None
        if free - size < DISK_RESERVE:
            raise _refused(
                "disk_full",
                f"磁盘剩余空间不足（{free // 1024 // 1024} MiB），照片未附上，已保存的内容都在。"
                "请清理磁盘后再附上。",
                f"The disk is almost full ({free // 1024 // 1024} MiB free); the photo was not "
                "attached and everything saved before is kept. Free some space and attach again.",
            )
        if free - size < DISK_WARN:
            return (
                f"磁盘仅剩 {(free - size) // 1024 // 1024} MiB，请尽快同步并清理磁盘 / only "
                f"{(free - size) // 1024 // 1024} MiB left on the disk: sync and free some space"
            )
        return None

    def restore_attachments(self, files_dir: Path | None = None) -> int:
        """Rebuild the attachment rows of rescued `attachment.add` ops (after a salvage); how many.

        The files were never inside the damaged cache: they wait beside it, named by their hash,
        in `files_dir` (where the cache will be; this store's own folder by default).
        """
        folder = files_dir or self.files_dir
        with self._tx() as conn:
            rows = conn.execute(
                "SELECT op_id, institution_id, data, state, created_at FROM outbox o WHERE "
                "kind = 'attachment.add' AND NOT EXISTS (SELECT 1 FROM attachments a "
                "WHERE a.op_id = o.op_id)"
            ).fetchall()
            for row in rows:
                data = json.loads(row["data"])
                digest = str(data["sha256"])
                here = _holds(folder / digest[:2] / digest, int(data["size"]))
                state = "synced" if row["state"] == "synced" else "unsent"
                _insert(
                    conn, data, row["institution_id"], row["created_at"], "", row["op_id"], state
                )
                conn.execute(
                    "INSERT INTO files (sha256, size, mime, here, at_office, sent, updated_at) "
                    "VALUES (?, ?, ?, ?, 0, 0, ?) ON CONFLICT (sha256) DO UPDATE SET "
                    "here = (here OR excluded.here)",
                    (
                        digest,
                        int(data["size"]),
                        str(data.get("mime") or ""),
                        int(here),
                        sql.utcnow(),
                    ),
                )
        return len(rows)

    # ---- reads ---------------------------------------------------------------------------

    def attachment(self, attachment_id: str) -> dict[str, Any]:
        """One attachment with its upload state."""
        with self._read() as conn:
            rows = _select(conn, "a.attachment_id = ?", (attachment_id,))
        if not rows:
            raise _refused("unknown_attachment", "没有这个附件", "No such attachment")
        return rows[0]

    def attachments(
        self,
        record_kind: str | None = None,
        record_id: str | None = None,
        *,
        institution_id: str | None = None,
        item: int | None = None,
    ) -> list[dict[str, Any]]:
        """Attachments of one record, or of one institution, or all; oldest first."""
        where: list[str] = ["1"]
        params: list[Any] = []
        if record_kind is not None:
            where.append("a.record_kind = ?")
            params.append(record_kind)
        if record_id is not None:
            where.append("a.record_id = ?")
            params.append(record_id)
        if item is not None:
            where.append("a.item = ?")
            params.append(item)
        if institution_id is not None:
            where.append("a.institution_id = ?")
            params.append(institution_id)
        with self._read() as conn:
            return _select(conn, " AND ".join(where), tuple(params))

    def case_evidence(self) -> dict[str, int]:
        """How many files each case holds (its notice visit's and its items'), by case id.

        (Counted by record id: a case's id is its notice visit's, and no other visit is asked.)
        """
        with self._read() as conn:
            rows = conn.execute(
                "SELECT a.record_id, count(*) FROM attachments a LEFT JOIN outbox o "
                "ON o.op_id = a.op_id WHERE a.record_kind IN ('case', 'visit') "
                "AND coalesce(o.state, '') != 'discarded' GROUP BY a.record_id"
            ).fetchall()
        return {str(r[0]): int(r[1]) for r in rows}

    def evidence_usage(self) -> dict[str, int]:
        """Files kept here, their bytes, and how many and how many bytes still wait to upload."""
        with self._read() as conn:
            row = conn.execute(
                "SELECT count(*), coalesce(sum(size), 0), "
                "coalesce(sum(NOT at_office), 0), coalesce(sum(CASE WHEN at_office THEN 0 "
                "ELSE size - sent END), 0) FROM files WHERE here"
            ).fetchone()
        return {"files": row[0], "bytes": row[1], "waiting": row[2], "waiting_bytes": row[3]}

    # ---- uploads -------------------------------------------------------------------------

    def uploads_waiting(self) -> list[dict[str, Any]]:
        """Files here the office does not hold yet whose attachment op it has applied."""
        with self._read() as conn:
            rows = conn.execute(
                "SELECT f.sha256, f.size, f.mime, f.sent FROM files f WHERE f.here AND "
                "NOT f.at_office AND EXISTS (SELECT 1 FROM attachments a WHERE "
                "a.sha256 = f.sha256 AND NOT EXISTS (SELECT 1 FROM outbox o WHERE "
                "o.op_id = a.op_id AND o.state != 'synced')) ORDER BY f.rowid"
            ).fetchall()
        return [dict(r) for r in rows]

    def note_upload(self, sha256: str, sent: int, done: bool = False) -> None:
        """Record how many bytes of a file the office holds (and whether it has it whole)."""
        with self._tx() as conn:
            conn.execute(
                "UPDATE files SET sent = ?, at_office = (at_office OR ?), error = NULL, "
                "updated_at = ? WHERE sha256 = ?",
                (sent, int(done), sql.utcnow(), sha256),
            )

    def note_upload_error(self, sha256: str, message: str) -> None:
        """Keep why a file could not be uploaded (shown until it goes through)."""
        with self._tx() as conn:
            conn.execute(
                "UPDATE files SET error = ?, updated_at = ? WHERE sha256 = ?",
                (message, sql.utcnow(), sha256),
            )

    def keep_fetched(self, sha256: str, data: bytes) -> Path:
        """Keep a file fetched from the office (checked against its hash); where it is."""
        if sha256_hex(data) != sha256:
            raise _refused(
                "hash_mismatch",
                "从办公室取回的文件与其摘要不符，未保存，请重试。",
                "The file fetched from the office does not match its hash; it was not kept: "
                "try again.",
            )
        path = self.file_path(sha256)
        if not _holds(path, len(data)):
            self._room_for(len(data))
            write_synced(path, data)
        with self._tx() as conn:
            conn.execute(
                "UPDATE files SET here = 1, updated_at = ? WHERE sha256 = ?",
                (sql.utcnow(), sha256),
            )
        return path

    def local_file(self, sha256: str) -> Path | None:
        """The file's path if its bytes are here and whole, else None (fetch it from the office)."""
        with self._read() as conn:
            row = conn.execute("SELECT size FROM files WHERE sha256 = ?", (sha256,)).fetchone()
        path = self.file_path(sha256)
        return path if row is not None and _holds(path, int(row[0])) else None
