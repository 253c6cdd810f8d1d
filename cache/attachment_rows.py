"""Attachments' rows in the cache, inside a transaction: pulled attachments applied, files resolved and counted, and the bytes written and synced to disk."""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path
from typing import Any

from fieldkit import domain
from fieldkit.domain.evidence import (
    MAX_FILES_PER_RECORD,
    RECORD_KINDS,
    RECORD_NAMES,
)

from . import statements as sql

_COLUMNS = (
    "attachment_id, sha256, institution_id, record_kind, record_id, item, name, mime, size, "
    "width, height, taken_at, lat, lon, original_size, original_sha256, added_at, added_by, "
    "op_id, sync_state"
)


# ---- inside a transaction --------------------------------------------------------------------


def apply_attachment(conn: sqlite3.Connection, data: dict[str, Any]) -> None:
    """Apply a pulled `attachment` change: the record's file, kept here or fetched when opened."""
    attachment_id, digest = str(data["attachment_id"]), str(data["sha256"])
    if len(digest) != 64:
        raise ValueError(f"bad sha256 {digest!r}")
    if data.get("record") not in RECORD_KINDS:
        raise ValueError(f"unknown record kind {data.get('record')!r}")
    mine = conn.execute(
        "SELECT 1 FROM attachments WHERE attachment_id = ?", (attachment_id,)
    ).fetchone()
    if mine is None:
        _insert(
            conn,
            data,
            str(data["institution_id"]),
            str(data.get("added_at") or sql.utcnow()),
            str(data.get("added_by") or ""),
            attachment_id,
            "synced",
        )
    else:
        conn.execute(
            "UPDATE attachments SET sync_state = 'synced' WHERE attachment_id = ?",
            (attachment_id,),
        )
    stored = bool(data.get("stored"))
    conn.execute(
        "INSERT INTO files (sha256, size, mime, here, at_office, sent, updated_at) "
        "VALUES (?, ?, ?, 0, ?, 0, ?) ON CONFLICT (sha256) DO UPDATE SET "
        "at_office = (at_office OR excluded.at_office), "
        "sent = CASE WHEN excluded.at_office THEN files.size ELSE files.sent END",
        (digest, int(data["size"]), str(data.get("mime") or ""), int(stored), sql.utcnow()),
    )


def _insert(
    conn: sqlite3.Connection,
    data: dict[str, Any],
    inst_id: str,
    added_at: str,
    by: str,
    op_id: str,
    state: str,
) -> None:
    conn.execute(
        f"INSERT INTO attachments ({_COLUMNS}) VALUES "
        "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            data["attachment_id"],
            data["sha256"],
            inst_id,
            data["record"],
            data["record_id"],
            data.get("item"),
            str(data.get("name") or ""),
            str(data.get("mime") or ""),
            int(data["size"]),
            data.get("width"),
            data.get("height"),
            data.get("taken_at"),
            data.get("lat"),
            data.get("lon"),
            data.get("original_size"),
            data.get("original_sha256"),
            added_at,
            by,
            op_id,
            state,
        ),
    )


def _select(conn: sqlite3.Connection, where: str, params: tuple[Any, ...]) -> list[dict[str, Any]]:
    rows = conn.execute(
        "SELECT a.*, f.here, f.at_office, f.sent, f.error AS upload_error, o.state AS op_state, "
        "o.message AS op_message FROM attachments a JOIN files f ON f.sha256 = a.sha256 "
        f"LEFT JOIN outbox o ON o.op_id = a.op_id WHERE {where} ORDER BY a.added_at, a.rowid",
        params,
    ).fetchall()
    return [_row(r) for r in rows]


def _row(r: sqlite3.Row) -> dict[str, Any]:
    row = dict(r)
    op_state = row.pop("op_state")
    if op_state == "rejected":
        state = "rejected"
    elif op_state in ("discarded",):
        state = "discarded"
    elif row["at_office"]:
        state = "sent"
    elif op_state in ("unsent", "sending"):
        state = "unsent"
    else:
        state = "uploading" if row["here"] else "at_office"
    row["state"] = state
    row["here"] = bool(row["here"])
    row["at_office"] = bool(row["at_office"])
    return row


def _resolve(
    conn: sqlite3.Connection, kind: str, record_id: str, item: int | None
) -> tuple[str, str]:
    """The institution and full id of the record an attachment goes to (a unique prefix does)."""
    if kind not in RECORD_KINDS:
        raise _refused(
            "record_kind",
            f"只能附在走访、核码或整改事项上（不是“{kind}”）",
            f"Evidence goes on a visit, a code check or a case item (not '{kind}')",
        )
    zh, en = RECORD_NAMES[kind]
    record_id = domain.typed_id(record_id)  # `#F51194C5`, as the app shows it, too
    if kind == "check":
        query = (
            "SELECT event_id, institution_id, NULL FROM events WHERE kind = 'qr.checked' AND "
            "event_id LIKE ? || '%' ESCAPE '\\' LIMIT 2"
        )
    else:
        query = (
            "SELECT visit_id, institution_id, rectification FROM visits "
            "WHERE visit_id LIKE ? || '%' ESCAPE '\\' LIMIT 2"
        )
    escaped = record_id.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    rows = conn.execute(query, (escaped,)).fetchall() if len(record_id) >= 4 else []
    if len(rows) != 1:
        raise _refused(
            "unknown_record" if not rows else "ambiguous_record",
            f"本地没有{zh}“{record_id}”" + ("" if not rows else "（有多个匹配，请多输入几位）"),
            f"No {en} '{record_id}' in the local cache"
            if not rows
            else f"'{record_id}' matches several {en}s; give more characters",
        )
    full_id, inst_id, rectification = rows[0][0], rows[0][1], rows[0][2]
    if kind == "case":
        items = (json.loads(rectification) or {}).get("items", []) if rectification else []
        if not items:
            raise _refused(
                "not_a_case",
                f"走访 {full_id[:8]} 没有整改通知书，不是整改案件",
                f"Visit {full_id[:8]} has no rectification notice, so it opened no case",
            )
        if item is None or not 0 <= item < len(items):
            raise _refused(
                "case_item",
                f"请指定整改事项序号（1 到 {len(items)}）",
                f"Name the case item (1 to {len(items)})",
            )
    elif item is not None:
        raise _refused(
            "case_item",
            "只有整改事项有序号",
            "Only case items take an item number",
        )
    return str(inst_id), str(full_id)


def _existing(
    conn: sqlite3.Connection, kind: str, record_id: str, item: int | None, digest: str
) -> dict[str, Any] | None:
    rows = _select(
        conn,
        "a.record_kind = ? AND a.record_id = ? AND a.item IS ? AND a.sha256 = ? "
        "AND coalesce(o.state, '') != 'discarded'",
        (kind, record_id, item, digest),
    )
    return rows[0] if rows else None


def _check_count(conn: sqlite3.Connection, kind: str, record_id: str, item: int | None) -> None:
    count = conn.execute(
        "SELECT count(*) FROM attachments WHERE record_kind = ? AND record_id = ? AND item IS ?",
        (kind, record_id, item),
    ).fetchone()[0]
    if count >= MAX_FILES_PER_RECORD:
        zh, en = RECORD_NAMES[kind]
        raise _refused(
            "too_many_files",
            f"这个{zh}已有 {count} 个附件，达到上限 {MAX_FILES_PER_RECORD}。",
            f"This {en} already has {count} files, the limit is {MAX_FILES_PER_RECORD}.",
        )


def _holds(path: Path, size: int) -> bool:
    try:
        return path.stat().st_size == size
    except OSError:
        return False


def _refused(code: str, zh: str, en: str) -> domain.ValidationError:
    return domain.ValidationError(code, zh, en, "file")


def write_synced(path: Path, data: bytes) -> None:
    """Write bytes to `path` through a temporary file, synced to disk before it takes the name."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.{os.getpid()}.part")
    try:
        with open(temp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(temp, path)
    except OSError as exc:
        temp.unlink(missing_ok=True)
        raise _refused(
            "disk_full" if exc.errno == 28 else "file_write",
            f"照片无法写入磁盘（{exc.strerror or exc}），未附上；已保存的内容都在。",
            f"The photo could not be written to disk ({exc.strerror or exc}); it was not "
            "attached, and everything saved before is kept.",
        ) from None
    _sync_folder(path.parent)


def _sync_folder(folder: Path) -> None:
    """Sync a folder's entries (POSIX; Windows has no such call and needs none)."""
    if os.name != "posix":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
