"""What every op handler shares: the Rejected answer and the checks of op data."""

from __future__ import annotations

import math
import re
import time
from collections.abc import Iterable
from itertools import chain
from typing import Any

from sqlalchemy import Connection

from fieldkit import domain

from .auth import Caller
from .batch import Batch
from .store import SERVER_WRITER, conflicts, now_iso

MAX_TEXT = 2000
MAX_LONG_TEXT = 10_000  # any text in op data (visit notes, issues…)
MAX_DEPTH = 8
MAX_VALUES = 2_000  # keys and values of one op's data, all levels together
MAX_AHEAD_MS = domain.hlc.MAX_DRIFT_MS  # as far ahead as any clock believes a stamp
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
# What no store can be asked about: control characters and lone surrogates (not UTF-8).
UNSTORABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
SHA256 = re.compile(r"^[0-9a-f]{64}$")
CONTACT_FIELDS = domain.CONTACT_FIELDS
MASTER_FIELDS = domain.MASTER_FIELDS
POSTER_SIZES = ("a4", "a6", "strip")


class Rejected(Exception):
    """An op the server will not apply: a reason code and a bilingual message."""

    def __init__(self, reason: str, zh: str, en: str) -> None:
        super().__init__(en)
        self.reason = reason
        self.text = f"{zh} / {en}"


def check_data(data: Any) -> None:
    """Refuse op data no client means: too deep or large, NUL, broken Unicode, NaN or infinity."""
    if _check_value(data, 0, MAX_VALUES - 1) < 0:
        raise _too_large()


_PLAIN = (int, bool)  # numbers and booleans that need no check (a float may be NaN)


def _check_value(value: Any, depth: int, left: int) -> int:
    """Check a value and all it holds; how many more values the data may still hold (< 0: too
    many). `depth`: how deep the value sits (the data itself: 0)."""
    if isinstance(value, str):
        check_text(value)
        return left
    if isinstance(value, dict):
        children: Iterable[Any] = chain.from_iterable(value.items())  # keys count as values
        left -= 2 * len(value)
    elif isinstance(value, list):
        children, left = value, left - len(value)
    elif isinstance(value, float) and not math.isfinite(value):
        raise Rejected(
            "invalid",
            "数据中含有无效数字（NaN 或无穷大）",
            "The data contains a number that is not finite (NaN or infinity)",
        )
    else:
        return left
    if left < 0:
        return left
    if depth >= MAX_DEPTH and value:
        raise _too_large()
    for child in children:  # the usual values checked here, without a call each
        kind = child.__class__
        if kind is str:
            if len(child) > MAX_LONG_TEXT or "\x00" in child or not child.isascii():
                check_string(child)
        elif child is not None and kind not in _PLAIN:
            left = _check_value(child, depth + 1, left)
            if left < 0:
                return left
    return left


def _too_large() -> Rejected:
    return Rejected(
        "invalid",
        f"数据嵌套超过{MAX_DEPTH}层或超过{MAX_VALUES}项，请检查这条修改",
        f"The data is nested over {MAX_DEPTH} levels or holds over {MAX_VALUES} values; "
        "check this change",
    )


def check_text(value: str) -> None:
    """check_string, skipped for the usual text (short, ASCII, no NUL) without its encoding."""
    if len(value) > MAX_LONG_TEXT or "\x00" in value or not value.isascii():
        check_string(value)


def check_string(value: str) -> None:
    """Refuse a string too long to be typed, with a NUL, or not encodable as UTF-8."""
    if len(value) > MAX_LONG_TEXT:
        raise Rejected(
            "invalid",
            f"文本超过{MAX_LONG_TEXT}字，请缩短后重新保存",
            f"A text is over {MAX_LONG_TEXT} characters; shorten it and save again",
        )
    if "\x00" in value:
        raise Rejected(
            "invalid",
            "数据中含有不可见的空字符（\\0），请重新输入",
            "The data contains a NUL character; enter it again",
        )
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise Rejected(
            "invalid",
            "数据中含有无效的 Unicode 字符（孤立代理项），请重新输入",
            "The data contains invalid Unicode (a lone surrogate); enter it again",
        ) from None


def invalid(exc: domain.DomainError) -> Rejected:
    return Rejected("invalid", exc.zh, exc.en)


def text_field(data: dict[str, Any], key: str, required: bool = False) -> str | None:
    """A text field of op data, checked for type and length."""
    value = data.get(key)
    if value is None:
        if required:
            raise Rejected("invalid", f"缺少字段“{key}”", f"Field '{key}' is missing")
        return None
    if not isinstance(value, str) or len(value) > MAX_TEXT:
        raise Rejected(
            "invalid",
            f"字段“{key}”应为不超过{MAX_TEXT}字的文本",
            f"Field '{key}' must be text of at most {MAX_TEXT} characters",
        )
    return value


def concurrent(current_hlc: str | None, received_ms: int | None, incoming: str) -> bool:
    """Whether an edit was made without seeing the register's current value from another writer."""
    if current_hlc is None:
        return False
    current = domain.Stamp.parse(current_hlc)
    mine = domain.Stamp.parse(incoming)
    if current.client_id in (mine.client_id, SERVER_WRITER):
        return False
    # A writer can only have seen a value after the office received it.
    return mine < current or mine.ms < (received_ms or 0)


def flag_conflict(
    conn: Connection,
    caller: Caller,
    op: dict[str, Any],
    register: str,
    kept: tuple[str, Any],
    lost: tuple[str, Any],
) -> None:
    """Record a concurrent edit for supervisors."""
    Batch.of(conn).insert(
        conflicts,
        {
            "institution_id": op["institution_id"],
            "register_name": register,
            "kept_hlc": kept[0],
            "kept_value": kept[1],
            "lost_hlc": lost[0],
            "lost_value": lost[1],
            "op_id": op["op_id"],
            "technician_id": caller.id,
            "created_at": now_iso(),
            "resolved": False,
        },
    )


def now_ms() -> int:
    return time.time_ns() // 1_000_000
