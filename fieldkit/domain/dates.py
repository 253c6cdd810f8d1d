"""A date typed by a person: a wrong format and a day that does not exist are told apart."""

from __future__ import annotations

import calendar
import re
from datetime import date

from .errors import ValidationError

_SHAPE = re.compile(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})")
_FULLWIDTH = str.maketrans("０１２３４５６７８９－／．", "0123456789-/.")
MONTHS = (
    "", "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip


def parse_date(text: str, field: str = "date") -> date:
    """A date written YYYY-MM-DD (or YYYY/M/D, full-width digits too); a ValidationError that
    says which is wrong: the format ("bad_date") or the day ("no_such_date", 2026-02-30)."""
    value = text.strip().translate(_FULLWIDTH)
    shape = _SHAPE.fullmatch(value)
    if shape is None:
        raise ValidationError(
            "bad_date",
            f"日期“{text.strip()}”的格式不对：请写成 YYYY-MM-DD，例如 2026-12-31",
            f"The date '{text.strip()}' is not in the form YYYY-MM-DD (for example 2026-12-31)",
            field,
        )
    year, month, day = (int(part) for part in shape.groups())
    if not 1 <= month <= 12:
        raise ValidationError(
            "no_such_date",
            f"日期“{text.strip()}”不存在：月份应为 1 到 12",
            f"The date '{text.strip()}' does not exist: the month must be 1 to 12",
            field,
        )
    last = calendar.monthrange(year, month)[1] if year >= 1 else 31
    if not 1 <= day <= last:
        raise ValidationError(
            "no_such_date",
            f"日期“{text.strip()}”不存在：{year}年{month}月只有{last}天",
            f"The date '{text.strip()}' does not exist: {MONTHS[month]} {year} has {last} days",
            field,
        )
    try:
        return date(year, month, day)
    except ValueError:  # year 0
        raise ValidationError(
            "no_such_date",
            f"日期“{text.strip()}”不存在",
            f"The date '{text.strip()}' does not exist",
            field,
        ) from None
