"""The platform's reading of each step beside the field's, and where the two disagree."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from .steps import BLOCKED, DONE, STEP_KEYS, STEPS_BY_KEY

# The steps the platform knows (the parent app guidance is the field's alone).
PLATFORM_STEPS = tuple(k for k in STEP_KEYS if k != "parent_app")
CONFIRM_DAYS = 7  # a step marked done on site should be on the platform within a week
EARLIEST = date(2021, 1, 1)  # the platform's fund supervision started in 2021

UNCONFIRMED = "unconfirmed"
FIELD_BLOCKED = "field_blocked"
TRADE_BEFORE_PAYMENT = "trade_before_payment"
BANK_UNCONFIRMED = "bank_unconfirmed"
DISCREPANCY_KINDS = (UNCONFIRMED, FIELD_BLOCKED, TRADE_BEFORE_PAYMENT, BANK_UNCONFIRMED)


@dataclass(frozen=True)
class Discrepancy:
    """One place where the field and the platform disagree, in words."""

    kind: str
    step: str | None
    zh: str
    en: str

    def text(self, lang: str = "zh") -> str:
        """The words in one language."""
        return self.zh if lang == "zh" else self.en


@dataclass(frozen=True)
class Reading:
    """What the platform said of an institution at its last import."""

    done_on: Mapping[str, date | None]  # only the steps the export carried
    orders: int = 0


def marked_on(hlc: str | None) -> date | None:
    """The day a field mark was made, from its stamp (None for the office's initial stamp)."""
    if not hlc:
        return None
    try:
        ms = int(hlc.split("-", 1)[0])
    except ValueError:
        return None
    if ms <= 0:
        return None
    return datetime.fromtimestamp(ms / 1000, UTC).date()


def discrepancies(
    field: Mapping[str, tuple[str, str | None]],
    reading: Reading | None,
    today: date,
    bank_passed: bool | None = None,
) -> list[Discrepancy]:
    """Where the field's marks (step → (status, stamp)) and the platform's reading disagree.

    Nothing is listed for an institution the platform has not reported on yet.
    """
    if reading is None:
        return []
    out: list[Discrepancy] = []
    for key in PLATFORM_STEPS:
        if key not in reading.done_on:
            continue  # the export did not carry this step
        status, stamp = field.get(key, ("todo", None))
        name = STEPS_BY_KEY[key]
        platform_done = reading.done_on[key] is not None
        if status == DONE and not platform_done:
            day = marked_on(stamp)
            if day is None or today - day >= timedelta(days=CONFIRM_DAYS):
                since = f"{day.isoformat()}" if day else "导入时"
                out.append(
                    Discrepancy(
                        UNCONFIRMED,
                        key,
                        f"{name.zh}：现场已标记完成（{since}），平台超过{CONFIRM_DAYS}天仍未确认",
                        f"{name.en}: marked done on site"
                        f"{' on ' + day.isoformat() if day else ''}, not on the platform "
                        f"after {CONFIRM_DAYS} days",
                    )
                )
        elif status == BLOCKED and platform_done:
            out.append(
                Discrepancy(
                    FIELD_BLOCKED,
                    key,
                    f"{name.zh}：平台显示已完成（{reading.done_on[key]}），现场仍标记受阻",
                    f"{name.en}: done on the platform ({reading.done_on[key]}), still blocked "
                    "in the field",
                )
            )
    if bank_passed is False and reading.done_on.get("bank_verified"):
        out.append(
            Discrepancy(
                BANK_UNCONFIRMED,
                "bank_verified",
                "银行核验：平台显示已通过，但办公室没有银行的通过结果（不会生成收款码）",
                "Bank verification: passed on the platform, but the office has no pass from "
                "the bank (no payment code is issued)",
            )
        )
    trade = _trade_before_payment(reading)
    if trade:
        out.append(Discrepancy(TRADE_BEFORE_PAYMENT, "payment_enabled", *trade))
    return out


def _trade_before_payment(reading: Reading) -> tuple[str, str] | None:
    if "payment_enabled" not in reading.done_on:
        return None  # the export did not say when payment was enabled
    enabled = reading.done_on.get("payment_enabled")
    first = reading.done_on.get("first_purchase")
    if enabled is None and (reading.orders > 0 or first is not None):
        return (
            f"平台上已有交易（{reading.orders}笔订单），但支付尚未开通",
            f"trade on the platform ({reading.orders} orders) before payment was enabled",
        )
    if enabled is not None and first is not None and first < enabled:
        return (
            f"平台首次购课（{first}）早于支付开通（{enabled}）",
            f"first purchase on the platform ({first}) before payment was enabled ({enabled})",
        )
    return None


def reading_note(status: str, done_on: date | str | None, known: bool) -> tuple[str, str] | None:
    """Words for a step whose field mark and platform reading differ (zh, en), or None."""
    if not known:
        return None
    if status == DONE and done_on is None:
        return ("现场已标记完成 · 平台尚未确认", "marked done on site · not yet on the platform")
    if status != DONE and done_on is not None:
        return (
            f"平台已完成（{done_on}）· 现场未标记",
            f"done on the platform ({done_on}) · not marked on site",
        )
    return None
