"""The `attachment.add` op at the office: a file (by SHA-256) belongs to a record of an institution."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import Connection, func, insert, select

from fieldkit.domain.evidence import FILE_FIELDS, MAX_FILES_PER_RECORD, RECORD_KINDS
from fieldkit.evidence import limits

from .auth import Caller, institution_scope
from .opdata import SHA256, UNSTORABLE, Rejected
from .store import (
    attachment_changes,
    attachments,
    emit,
    institutions,
    now_iso,
    records,
    stored_files,
    visits,
)

_NAME = re.compile(r"^[^\x00-\x1f\x7f/\\]{0,255}$")


# --- the op ---------------------------------------------------------------------------------------
def attachment_add(conn: Connection, caller: Caller, op: dict[str, Any], inst: Any) -> dict:
    """Record that a file belongs to a visit, a code check or a case item of `inst`."""
    data = op["data"]
    if not isinstance(data, dict):
        raise Rejected("invalid", "附件数据应为对象", "The attachment data must be an object")
    attachment_id = data.get("attachment_id")
    if attachment_id != op["op_id"]:
        raise Rejected(
            "invalid",
            "attachment_id 应与操作编号相同",
            "attachment_id must equal the op id",
        )
    digest, size, mime = data.get("sha256"), data.get("size"), data.get("mime")
    if not isinstance(digest, str) or not SHA256.match(digest):
        raise Rejected(
            "invalid", "sha256 应为64位十六进制小写", "sha256 must be 64 lower-case hex digits"
        )
    if not isinstance(size, int) or isinstance(size, bool) or size < 1:
        raise Rejected("invalid", "文件大小无效", "The file size is not valid")
    if size > limits.MAX_STORED_BYTES:
        raise Rejected(
            "too_large",
            f"文件有 {limits.mib(size)}，超过办公室的上限 {limits.mib(limits.MAX_STORED_BYTES)}",
            f"The file is {limits.mib(size)}, over the office's "
            f"{limits.mib(limits.MAX_STORED_BYTES)} limit",
        )
    if mime not in limits.STORED_MIMES:
        raise Rejected(
            "invalid",
            "只接受 JPEG、PNG 照片或 PDF 文件",
            "Only JPEG or PNG photos and PDF files are accepted",
        )
    name = data.get("name", "")
    if not isinstance(name, str) or not _NAME.match(name):
        raise Rejected("invalid", "文件名无效", "The file name is not valid")
    kind, record_id, item = data.get("record"), data.get("record_id"), data.get("item")
    if kind not in RECORD_KINDS or not isinstance(record_id, str) or UNSTORABLE.search(record_id):
        raise Rejected(
            "invalid",
            "附件应属于走访、核码或整改事项",
            "An attachment belongs to a visit, a code check or a case item",
        )
    _check_record(conn, inst, kind, record_id, item)
    count = conn.execute(
        select(func.count()).where(
            attachments.c.record_kind == kind,
            attachments.c.record_id == record_id,
            attachments.c.item.is_(None) if item is None else attachments.c.item == item,
        )
    ).scalar_one()
    if count >= MAX_FILES_PER_RECORD:
        raise Rejected(
            "too_many_files",
            f"这条记录已有 {count} 个附件，达到上限 {MAX_FILES_PER_RECORD}",
            f"This record already has {count} files, the limit is {MAX_FILES_PER_RECORD}",
        )
    kept = {k: data.get(k) for k in _KEPT}
    conn.execute(
        insert(attachments).values(
            attachment_id=attachment_id,
            sha256=digest,
            institution_id=inst.id,
            record_kind=kind,
            record_id=record_id,
            item=item,
            technician_id=caller.id,
            data=kept,
            hlc=op["hlc"],
            received_at=now_iso(),
        )
    )
    emit(conn, attachment_changes(conn, attachments.c.attachment_id == attachment_id))
    return {}


_KEPT = ("attachment_id", "record", "record_id", "item", *FILE_FIELDS)


def _check_record(conn: Connection, inst: Any, kind: str, record_id: str, item: Any) -> None:
    """Refuse an attachment whose record the office does not have for this institution."""
    if kind == "check":
        found = conn.execute(
            select(records.c.op_id).where(
                records.c.op_id == record_id,
                records.c.kind == "qr.checked",
                records.c.institution_id == inst.id,
            )
        ).first()
        if found is None:
            raise Rejected(
                "unknown_record",
                f"办公室没有机构“{inst.name}”的核码记录 {record_id[:8]}",
                f"The office has no code check {record_id[:8]} of '{inst.name}'",
            )
        if item is not None:
            raise Rejected("invalid", "只有整改事项有序号", "Only case items take an item number")
        return
    visit = conn.execute(
        select(visits.c.data, visits.c.has_rectification).where(
            visits.c.visit_id == record_id, visits.c.institution_id == inst.id
        )
    ).first()
    if visit is None:
        raise Rejected(
            "unknown_record",
            f"办公室没有机构“{inst.name}”的走访 {record_id[:8]}",
            f"The office has no visit {record_id[:8]} of '{inst.name}'",
        )
    if kind == "visit":
        if item is not None:
            raise Rejected("invalid", "只有整改事项有序号", "Only case items take an item number")
        return
    items = ((visit.data or {}).get("rectification") or {}).get("items") or []
    if not visit.has_rectification or not items:
        raise Rejected(
            "not_a_case",
            "这次走访没有整改通知书，不是整改案件",
            "This visit has no rectification notice, so it opened no case",
        )
    if not isinstance(item, int) or isinstance(item, bool) or not 0 <= item < len(items):
        raise Rejected(
            "invalid",
            f"整改事项序号应为 0 到 {len(items) - 1}",
            f"The case item must be 0 to {len(items) - 1}",
        )


def declared_size(conn: Connection, caller: Caller, sha256: str) -> int | None:
    """The size an attachment the caller may see declares for this file, or None (not theirs)."""
    return conn.execute(
        select(func.min(attachments.c.data["size"].as_integer()))
        .join(institutions, institutions.c.id == attachments.c.institution_id)
        .where(attachments.c.sha256 == sha256, institution_scope(caller))
    ).scalar()


# --- the ledger's evidence ------------------------------------------------------------------------
def case_files(
    conn: Connection, case_ids: list[str]
) -> dict[tuple[str, int | None], list[dict[str, Any]]]:
    """The files of each case: (case_id, None) its notice visit's, (case_id, n) its item n's.

    Each file: sha256, name, mime, size, taken_at, whether the office holds its bytes
    (`stored`) and where to fetch them (`url`, answered by the record's scope).
    """
    found: dict[tuple[str, int | None], list[dict[str, Any]]] = {}
    for start in range(0, len(case_ids), 500):
        chunk = case_ids[start : start + 500]
        rows = conn.execute(
            select(attachments, stored_files.c.sha256.label("held"))
            .outerjoin(stored_files, stored_files.c.sha256 == attachments.c.sha256)
            .where(
                attachments.c.record_id.in_(chunk),
                attachments.c.record_kind.in_(("visit", "case")),
            )
            .order_by(attachments.c.received_at, attachments.c.attachment_id)
        ).all()
        for r in rows:
            key = (r.record_id, r.item if r.record_kind == "case" else None)
            found.setdefault(key, []).append(
                {
                    "sha256": r.sha256,
                    "name": str(r.data.get("name") or ""),
                    "mime": str(r.data.get("mime") or ""),
                    "size": int(r.data.get("size") or 0),
                    "taken_at": r.data.get("taken_at"),
                    "stored": r.held is not None,
                    "url": f"/api/v1/files/{r.sha256}",
                }
            )
    return found
