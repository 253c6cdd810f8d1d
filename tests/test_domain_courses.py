"""The prepaid-fee rules at their edges, on a listed course and on a charge seen on site."""

from __future__ import annotations

from datetime import date

import pytest

from fieldkit.domain.courses import (
    AMOUNT,
    EARLY,
    HOURS,
    LISTING,
    MONTHS,
    Course,
    Plan,
    course_breaches,
    course_verdict,
    observed_breaches,
)


def _course(kind: str = "non_academic", hours: int = 40, **plan: object) -> Course:
    start = plan.pop("start", date(2026, 9, 1))
    end = plan.pop("end", date(2026, 11, 30))
    values = {"amount_fen": 300_000, "hours": hours, "months": 3} | plan
    return Course("KC1", "少儿美术", kind, hours, start, end, (Plan(**values),))  # type: ignore[arg-type]


def _rules(course: Course) -> list[str]:
    return [b.rule for _, b in course_breaches(course)]


def test_sixty_hours_keep_the_rule_sixty_one_break_it_by_one() -> None:
    assert _rules(_course(hours=60)) == []
    breach = course_breaches(_course(hours=61))[0][1]
    assert breach.rule == HOURS and "61" in breach.en and "1 over" in breach.en


def test_three_months_from_a_31st_ends_on_the_30th() -> None:
    whole = {"hours": None, "months": None, "start": date(2026, 1, 31)}
    assert _rules(_course(**whole, end=date(2026, 4, 30))) == []
    breach = course_breaches(_course(**whole, end=date(2026, 5, 1)))[0][1]
    assert breach.rule == MONTHS and "1 days past 3 months (2026-04-30)" in breach.en
    assert _rules(_course(months=4)) == [MONTHS]


def test_five_thousand_yuan_is_the_non_academic_limit() -> None:
    assert _rules(_course(amount_fen=500_000)) == []
    breach = course_breaches(_course(amount_fen=500_001))[0][1]
    assert breach.rule == AMOUNT and "0.01 over" in breach.en and "5,000.01" in breach.zh
    assert _rules(_course(kind="academic", amount_fen=900_000)) == []


def test_fees_from_one_month_before_the_start_and_not_a_day_earlier() -> None:
    start = date(2026, 3, 31)
    assert _rules(_course(start=start, end=date(2026, 6, 30), collect_from=date(2026, 2, 28))) == []
    breach = course_breaches(
        _course(start=start, end=date(2026, 6, 30), collect_from=date(2026, 2, 27))
    )[0][1]
    assert breach.rule == EARLY and "1 days before" in breach.en and "2026-02-28" in breach.en


def test_the_verdict_names_each_plan_that_breaks_a_rule() -> None:
    course = Course(
        "KC2",
        "素描年卡",
        "non_academic",
        96,
        date(2026, 9, 1),
        date(2027, 8, 31),
        (Plan(680_000, 96, 12), Plan(100_000, 12, 1)),
    )
    zh = course_verdict(course, "zh")
    assert zh.startswith("方案1：") and "方案2" not in zh and "36课时" in zh
    assert course_verdict(_course(), "en") == "keeps the prepaid-fee rules"


@pytest.mark.parametrize(
    ("amount", "hours", "months", "collected", "rules"),
    [
        (500_000, 60, 3, date(2026, 8, 1), []),
        (500_001, 60, 3, date(2026, 8, 1), [AMOUNT]),
        (300_000, 61, 3, date(2026, 8, 1), [HOURS]),
        (300_000, 40, 4, date(2026, 8, 1), [MONTHS]),
        (300_000, 40, 3, date(2026, 7, 31), [EARLY]),
    ],
)
def test_an_observed_charge_is_held_to_the_same_edges(
    amount: int, hours: int, months: int, collected: date, rules: list[str]
) -> None:
    found = observed_breaches(
        "non_academic", amount, hours, months, collected, None, date(2026, 9, 1)
    )
    assert [b.rule for b in found] == rules


def test_an_observed_price_that_differs_from_the_listing_is_named() -> None:
    listed = _course(amount_fen=300_000, hours=40, months=3)
    assert observed_breaches("non_academic", 300_000, 40, 3, date(2026, 8, 15), listed) == []
    found = observed_breaches("non_academic", 360_000, 40, 3, date(2026, 8, 15), listed)
    assert [b.rule for b in found] == [LISTING]
    assert "3,600.00" in found[0].zh and "3,000.00元/40课时/3个月" in found[0].zh
