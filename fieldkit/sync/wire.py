"""Checks on what the server answers: anything that is not the agreed shape is a protocol error."""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from typing import Any, TypeGuard

from fieldkit.domain import Stamp, ValidationError

from .errors import SyncError, protocol

CHANGE_KINDS = (
    "institution",
    "step",
    "visit",
    "unassigned",
    "case",
    "review",
    "round",
    "platform",
    "course",
    "attachment",
)
RESULT_STATUSES = ("applied", "duplicate", "rejected")
OP_FIELDS = ("op_id", "hlc", "kind", "institution_id", "data")
_MARK = re.compile(r"^\d{1,19}\.[0-9a-f]{1,32}$")


@dataclass(frozen=True)
class Page:
    """One checked pull page."""

    changes: list[dict[str, Any]]
    cursor: int
    more: bool
    epoch: str | None
    mark: str | None = None
    stamps: frozenset[str] = frozenset()  # the distinct HLC stamps its changes carry


def mark_of(body: Any) -> str | None:
    """The office's mark in an answer ("seq.hex": proof of what was seen), None if absent or odd."""
    mark = body.get("mark") if isinstance(body, dict) else None
    return mark if isinstance(mark, str) and _MARK.match(mark) else None


def mark_seq(mark: str | None) -> int:
    """The sequence number a mark stands for (0 for none)."""
    return int(mark.split(".", 1)[0]) if mark else 0


def _is_int(value: Any) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _bad(zh: str, en: str) -> SyncError:
    return protocol(zh, en)


def check_me(body: Any) -> dict[str, str]:
    """The technician /api/v1/me describes."""
    if not isinstance(body, dict):
        raise _bad("/api/v1/me 不是 JSON 对象", "/api/v1/me is not a JSON object")
    out = {}
    for key in ("id", "name", "role", "zone"):
        value = body.get(key)
        if not isinstance(value, str) or not value:
            raise _bad(f"/api/v1/me 缺少字段 {key}", f"/api/v1/me lacks the field {key}")
        out[key] = value
    if out["role"] not in ("technician", "supervisor"):
        raise _bad(f"未知的角色 {out['role']!r}", f"unknown role {out['role']!r}")
    return out


def check_office(body: Any) -> tuple[str, str]:
    """The office's name and its base64 Ed25519 public key (32 bytes)."""
    if not isinstance(body, dict):
        raise _bad("/api/v1/office 不是 JSON 对象", "/api/v1/office is not a JSON object")
    name, key = body.get("name"), body.get("public_key")
    if not isinstance(name, str) or not isinstance(key, str):
        raise _bad(
            "/api/v1/office 缺少 name 或 public_key", "/api/v1/office lacks name or public_key"
        )
    try:
        raw = base64.b64decode(key, validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != 32:
        raise _bad(
            "办公室公钥不是有效的 Ed25519 公钥", "the office key is not an Ed25519 public key"
        )
    return name, key


def wire_op(op: dict[str, Any]) -> dict[str, Any]:
    """An outbox op as it travels (the local bookkeeping fields left out)."""
    return {key: op[key] for key in OP_FIELDS}


def check_push(body: Any, sent: list[str]) -> list[dict[str, Any]]:
    """One valid result for each op sent, nothing else."""
    results = body.get("results") if isinstance(body, dict) else None
    if not isinstance(results, list):
        raise _bad("推送的回答缺少 results 列表", "the push answer has no results list")
    expected = set(sent)
    seen: set[str] = set()
    checked = []
    for item in results:
        op_id = item.get("op_id") if isinstance(item, dict) else None
        if not isinstance(op_id, str) or op_id not in expected:
            raise _bad(
                "推送的回答含有未发送的操作", "the push answer names an op that was not sent"
            )
        if item["op_id"] in seen:
            raise _bad("推送的回答重复了同一操作", "the push answer repeats an op")
        if item.get("status") not in RESULT_STATUSES:
            raise _bad(
                f"未知的推送结果 {item.get('status')!r}",
                f"unknown push result {item.get('status')!r}",
            )
        seen.add(item["op_id"])
        checked.append(_result(item))
    if seen != expected:
        raise _bad(
            f"推送的回答缺少 {len(expected - seen)} 个操作的结果",
            f"the push answer lacks the result of {len(expected - seen)} ops",
        )
    return checked


def _result(item: dict[str, Any]) -> dict[str, Any]:
    """A push result with only the agreed fields, reason and message as text."""
    out: dict[str, Any] = {"op_id": item["op_id"], "status": item["status"]}
    if item["status"] == "rejected":
        out["reason"] = str(item.get("reason") or "invalid")
        out["message"] = str(item.get("message") or out["reason"])
    else:
        for key in ("reason", "message"):
            if isinstance(item.get(key), str):
                out[key] = item[key]
    for key in ("superseded", "conflict"):
        if key in item:
            out[key] = bool(item[key])
    return out


def check_page(body: Any, cursor: int) -> Page:
    """A pull page that moves forward from `cursor` with well-formed changes."""
    if not isinstance(body, dict):
        raise _bad("拉取的回答不是 JSON 对象", "the pull answer is not a JSON object")
    changes, new, more = body.get("changes"), body.get("cursor"), body.get("more")
    epoch = body.get("epoch")
    if not isinstance(changes, list) or not _is_int(new) or not isinstance(more, bool):
        raise _bad(
            "拉取的回答缺少 changes、cursor 或 more",
            "the pull answer lacks changes, cursor or more",
        )
    if epoch is not None and not isinstance(epoch, str):
        raise _bad("拉取的回答中 epoch 不是文本", "the pull answer's epoch is not text")
    if new < cursor:
        raise _bad(
            f"同步游标倒退（{cursor} → {new}）", f"the cursor went backwards ({cursor} → {new})"
        )
    if more and new == cursor:
        raise _bad(
            "服务器称还有更多数据，但游标没有前进",
            "the server says there is more but the cursor did not move",
        )
    stamps = _check_changes(changes, cursor, new)
    return Page(changes, new, more, epoch, mark_of(body), frozenset(stamps))


_KINDS = frozenset(CHANGE_KINDS)


def _check_changes(changes: list[Any], after: int, upto: int) -> set[str]:
    """Check every change of a page (one loop: a province's page holds 5,000); the distinct
    stamps they carry, each found well-formed."""
    stamps: set[str] = set()
    last, kinds = after, _KINDS
    for change in changes:
        if not isinstance(change, dict):
            raise _bad("变更不是 JSON 对象", "a change is not a JSON object")
        get = change.get
        seq = get("seq")
        if type(seq) is not int or not last < seq <= upto:
            raise _bad(
                f"变更序号 {seq!r} 不在 {last}–{upto} 之间或未递增",
                f"change seq {seq!r} is not increasing within {last}–{upto}",
            )
        last = seq
        kind = get("kind")
        if type(kind) is not str or kind not in kinds:
            raise _bad(f"未知的变更类型 {kind!r}", f"unknown change kind {kind!r}")
        id_ = get("id")
        if type(id_) is not str or not id_:
            raise _bad(f"变更 {seq} 缺少 id", f"change {seq} has no id")
        data = get("data")
        if not isinstance(data, dict):
            if kind != "unassigned":
                raise _bad(f"变更 {seq} 缺少数据", f"change {seq} has no data")
            data = _NO_DATA
        stamp = data.get("hlc")  # (the office's changes carry it here; a stamp is checked once)
        if stamp is not None and (type(stamp) is not str or stamp not in stamps):
            _check_stamp(stamp, seq)
            stamps.add(stamp)
        stamp = get("hlc")
        if stamp is not None and (type(stamp) is not str or stamp not in stamps):
            _check_stamp(stamp, seq)
            stamps.add(stamp)
    return stamps


_NO_DATA: dict[str, Any] = {}


def _check_stamp(stamp: Any, seq: int) -> None:
    if not isinstance(stamp, str):
        raise _bad("时间戳不是文本", "an HLC is not text")
    try:
        Stamp.parse(stamp)
    except ValidationError:
        raise _bad(f"变更 {seq} 的时间戳格式错误", f"change {seq} has a malformed HLC") from None
