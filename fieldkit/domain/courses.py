"""Courses and the prepaid-fee rules: each charging plan checked, each breach named in words.

The rules (DESIGN.md, "The checklist"): no single charge covers more than 60 class hours or
more than 3 months; a non-academic charge is at most 5,000 yuan; no fee is collected earlier
than one month before the course starts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from .validators import (
    ACADEMIC,
    MAX_CLASS_HOURS,
    MAX_MONTHS,
    MAX_NON_ACADEMIC_FEN,
    NON_ACADEMIC,
    _add_months,
)

HOURS, MONTHS, AMOUNT, EARLY, LISTING = (
    "prepaid_hours",
    "prepaid_months",
    "prepaid_amount",
    "prepaid_early",
    "listing",
)
KIND_NAMES = {ACADEMIC: ("学科类", "academic"), NON_ACADEMIC: ("非学科类", "non-academic")}


@dataclass(frozen=True)
class Plan:
    """One charging plan: the amount of one charge, what it covers, and when it may be taken."""

    amount_fen: int
    hours: int | None = None
    months: int | None = None
    collect_from: date | None = None


@dataclass(frozen=True)
class Course:
    """A course as the platform lists it, with its charging plans."""

    course_id: str
    name: str
    kind: str
    class_hours: int
    start_on: date
    end_on: date
    plans: tuple[Plan, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class Breach:
    """One rule a charge breaks, by how much, in both languages."""

    rule: str
    zh: str
    en: str

    def text(self, lang: str = "zh") -> str:
        """The words in one language."""
        return self.zh if lang == "zh" else self.en


def yuan(fen: int) -> str:
    """Fen as yuan with thousands separators and two decimals: 500001 → '5,000.01'."""
    return f"{fen / 100:,.2f}"


def plan_breaches(
    kind: str, start_on: date, end_on: date | None, class_hours: int | None, plan: Plan
) -> list[Breach]:
    """Every fee rule one charge breaks (empty when it keeps them all)."""
    out: list[Breach] = []
    hours = plan.hours if plan.hours is not None else class_hours
    if hours is not None and hours > MAX_CLASS_HOURS:
        over = hours - MAX_CLASS_HOURS
        out.append(
            Breach(
                HOURS,
                f"单次收费覆盖{hours}课时，超过60课时上限{over}课时",
                f"one charge covers {hours} class hours, {over} over the limit of 60",
            )
        )
    if plan.months is not None:
        if plan.months > MAX_MONTHS:
            over = plan.months - MAX_MONTHS
            out.append(
                Breach(
                    MONTHS,
                    f"单次收费覆盖{plan.months}个月，超过3个月上限{over}个月",
                    f"one charge covers {plan.months} months, {over} over the limit of 3",
                )
            )
    elif end_on is not None and (plan.hours is None or (class_hours or 0) <= plan.hours):
        # one charge for the whole course: its span is what the charge covers
        limit = _add_months(start_on, MAX_MONTHS)
        if end_on > limit:
            days = (end_on - limit).days
            out.append(
                Breach(
                    MONTHS,
                    f"一次收取全部课程费用，课程{start_on}至{end_on}超过3个月（{limit}）{days}天",
                    f"one charge for the whole course, {start_on} to {end_on}: {days} days "
                    f"past 3 months ({limit})",
                )
            )
    if kind == NON_ACADEMIC and plan.amount_fen > MAX_NON_ACADEMIC_FEN:
        over = plan.amount_fen - MAX_NON_ACADEMIC_FEN
        out.append(
            Breach(
                AMOUNT,
                f"非学科类单次收费{yuan(plan.amount_fen)}元，超过5,000元上限{yuan(over)}元",
                f"a non-academic charge of {yuan(plan.amount_fen)} yuan, {yuan(over)} over "
                "the limit of 5,000",
            )
        )
    if plan.collect_from is not None:
        earliest = _add_months(start_on, -1)
        if plan.collect_from < earliest:
            days = (earliest - plan.collect_from).days
            out.append(
                Breach(
                    EARLY,
                    f"{plan.collect_from}开始收费，早于开课（{start_on}）前一个月（{earliest}）{days}天",
                    f"fees collected from {plan.collect_from}, {days} days before the earliest "
                    f"allowed ({earliest}, one month before the start on {start_on})",
                )
            )
    return out


def course_breaches(course: Course) -> list[tuple[int, Breach]]:
    """(plan index, breach) for every rule any of the course's plans breaks."""
    return [
        (i, breach)
        for i, plan in enumerate(course.plans)
        for breach in plan_breaches(
            course.kind, course.start_on, course.end_on, course.class_hours, plan
        )
    ]


def course_verdict(
    course: Course, lang: str = "zh", found: list[tuple[int, Breach]] | None = None
) -> str:
    """The course's verdict in words: which rules it breaks and by how much, or that it keeps them
    (`found`: its course_breaches, when the caller has them already)."""
    found = course_breaches(course) if found is None else found
    if not found:
        return "符合预收费规定" if lang == "zh" else "keeps the prepaid-fee rules"
    many = len(course.plans) > 1
    parts = []
    for i, breach in found:
        prefix = (f"方案{i + 1}：" if lang == "zh" else f"plan {i + 1}: ") if many else ""
        parts.append(prefix + breach.text(lang))
    return ("；" if lang == "zh" else "; ").join(parts)


def observed_breaches(
    kind: str,
    amount_fen: int,
    hours: int | None,
    months: int | None,
    collected_on: date | None,
    course: Course | None,
    start_on: date | None = None,
) -> list[Breach]:
    """What an observed charge breaks: the fee rules, and the platform's listing of its course."""
    start = course.start_on if course else start_on
    out: list[Breach] = []
    if start is not None:
        plan = Plan(amount_fen, hours, months, collected_on)
        end = course.end_on if course else None
        class_hours = course.class_hours if course else None
        out += plan_breaches(kind, start, end, class_hours, plan)
    else:
        plan = Plan(amount_fen, hours, months, None)
        out += [
            b
            for b in plan_breaches(kind, date.max, None, None, plan)
            if b.rule in (HOURS, MONTHS, AMOUNT)
        ]
    if course is not None and not _listed(course.plans, amount_fen, hours, months):
        listed = "、".join(_plan_words(p, "zh") for p in course.plans) or "无收费方案"
        listed_en = "; ".join(_plan_words(p, "en") for p in course.plans) or "no charging plan"
        out.append(
            Breach(
                LISTING,
                f"现场收费{yuan(amount_fen)}元与平台公示（{listed}）不一致",
                f"the charge seen on site, {yuan(amount_fen)} yuan, differs from the platform "
                f"listing ({listed_en})",
            )
        )
    return out


def _listed(plans: Sequence[Plan], amount_fen: int, hours: int | None, months: int | None) -> bool:
    for p in plans:
        if p.amount_fen != amount_fen:
            continue
        if hours is not None and p.hours is not None and p.hours != hours:
            continue
        if months is not None and p.months is not None and p.months != months:
            continue
        return True
    return False


def _plan_words(plan: Plan, lang: str) -> str:
    bits = [f"{yuan(plan.amount_fen)}元" if lang == "zh" else f"{yuan(plan.amount_fen)} yuan"]
    if plan.hours is not None:
        bits.append(f"{plan.hours}课时" if lang == "zh" else f"{plan.hours} hours")
    if plan.months is not None:
        bits.append(f"{plan.months}个月" if lang == "zh" else f"{plan.months} months")
    return "/".join(bits)


def course_from_wire(value: Mapping[str, Any]) -> Course:
    """A course as stored or sent (`course` change data) as a Course."""
    return Course(
        course_id=str(value["course_id"]),
        name=str(value["name"]),
        kind=str(value["kind"]),
        class_hours=int(value["class_hours"]),
        start_on=date.fromisoformat(value["start_on"]),
        end_on=date.fromisoformat(value["end_on"]),
        plans=tuple(
            Plan(
                amount_fen=int(p["amount_fen"]),
                hours=p.get("hours"),
                months=p.get("months"),
                collect_from=date.fromisoformat(p["collect_from"])
                if p.get("collect_from")
                else None,
            )
            for p in value["plans"]
        ),
    )


def fen_of(text: str, field: str = "amount") -> int:
    """An amount typed in yuan (`2880`, `2,880.50`, `¥2880`) as fen; ValidationError in words."""
    import re
    from decimal import Decimal, InvalidOperation

    from .errors import ValidationError

    compact = re.sub(r"[\s¥￥元]", "", text)
    if re.fullmatch(r"\d{1,3}(,\d{3})+(\.\d+)?", compact):
        compact = compact.replace(",", "")
    try:
        amount = Decimal(compact) if re.fullmatch(r"\d+(\.\d+)?", compact) else None
    except InvalidOperation:
        amount = None
    if amount is None or (amount * 100) != (amount * 100).to_integral_value():
        raise ValidationError(
            "amount",
            f"金额“{text}”无效：请填写元，最多两位小数，如 2880.00",
            f"Amount '{text}' is invalid: yuan with at most two decimals, e.g. 2880.00",
            field,
        )
    return int(amount * 100)
