"""The app's platform side: both readings on the institution, courses with verdicts, a charge
recorded (from the institution and in a visit), the list's mismatch filter, the dashboard's list."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Input, Label, TextArea

from cache.store import Store
from fieldkit import domain
from screens.dashboard import DashboardScreen
from screens.institution import InstitutionScreen
from screens.visit import VisitScreen
from screens.widgets.discrepancies import DiscrepancyList
from screens.widgets.platform_panel import PlatformPanel
from screens.widgets.wrapped import WrappedText
from tests.test_app_fixtures import app_for, county_rows, county_store, settle, widget_text


def _registered_done(store: Store) -> str:
    insts, _ = county_rows()
    for inst in insts:
        if store.step_states(inst["id"])["registered"].status == domain.DONE:
            return str(inst["id"])
    raise AssertionError("no registered institution in the demo county")


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    """The demo county's cache, with the platform's reading and a course for one institution."""
    for store in county_store(tmp_path):
        inst = _registered_done(store)
        changes: list[dict[str, Any]] = [
            {
                "seq": 1,
                "kind": "platform",
                "id": inst,
                "data": {
                    "institution_id": inst,
                    "steps": {"registered": None, "account": "2025-04-01"},
                    "orders": 2,
                    "order_amount_fen": 123450,
                    "lessons_consumed": 10,
                    "refunds": 0,
                    "refund_amount_fen": 0,
                    "imported_at": "2026-11-27T08:00:00+00:00",
                },
            },
            {
                "seq": 2,
                "kind": "course",
                "id": f"{inst}:KC02",
                "data": {
                    "institution_id": inst,
                    "course_id": "KC02",
                    "name": "素描年卡班",
                    "kind": "non_academic",
                    "class_hours": 61,
                    "start_on": "2026-09-01",
                    "end_on": "2026-11-30",
                    "plans": [
                        {"amount_fen": 500_001, "hours": 61, "months": 3, "collect_from": None}
                    ],
                },
            },
        ]
        store.apply_changes(changes, 2)
        store.inst_id = inst  # type: ignore[attr-defined]
        yield store


async def _open(app: Any, pilot: Any, inst: str) -> InstitutionScreen:
    await settle(pilot)
    await app.push_screen(InstitutionScreen(inst))
    await settle(pilot)
    await pilot.press("5")
    await settle(pilot)
    return app.screen  # type: ignore[no-any-return]


async def test_the_platform_tab_shows_both_readings_and_the_verdicts(store: Store) -> None:
    inst = store.inst_id  # type: ignore[attr-defined]
    for lang, words in (
        ("zh", ["现场已标记完成 · 平台尚未确认", "61课时", "5,000.01", "订单 2 笔，1,234.50 元"]),
        ("en", ["marked done on site · not yet on the platform", "1 over the limit of 60"]),
    ):
        app = app_for(store, lang)
        async with app.run_test(size=(120, 40)) as pilot:
            screen = await _open(app, pilot, inst)
            shown = widget_text(screen.query_one(PlatformPanel), 110)
            for word in words:
                assert word in shown, (lang, word, shown)


async def test_a_charge_recorded_from_the_institution_names_its_breach(store: Store) -> None:
    inst = store.inst_id  # type: ignore[attr-defined]
    app = app_for(store, "zh")
    async with app.run_test(size=(120, 40)) as pilot:
        await _open(app, pilot, inst)
        await pilot.press("r")
        await settle(pilot)
        app.screen.query_one("#amount", Input).value = "5200"
        app.screen.query_one("#hours", Input).value = "61"
        await pilot.click("#ok")
        await settle(pilot)
        feedback = str(app.screen.query_one("#feedback", WrappedText).plain)
        assert "违反规定" in feedback and "61课时" in feedback and "平台公示" in feedback
        panel = widget_text(app.screen.query_one(PlatformPanel), 110)
        assert "5,200.00" in panel
    (op,) = [o for o in store.pending_ops(50) if o["kind"] == "charge.observed"]
    assert op["data"]["amount_fen"] == 520_000 and op["data"]["course_id"] == "KC02"


async def test_a_bad_amount_is_refused_in_the_dialog_and_nothing_is_saved(store: Store) -> None:
    inst = store.inst_id  # type: ignore[attr-defined]
    app = app_for(store, "en")
    async with app.run_test(size=(120, 40)) as pilot:
        await _open(app, pilot, inst)
        await pilot.press("r")
        await settle(pilot)
        app.screen.query_one("#amount", Input).value = "12.345"
        await pilot.click("#ok")
        await settle(pilot)
        assert "at most two decimals" in str(app.screen.query_one("#error", Label).content)
    assert [o for o in store.pending_ops(50) if o["kind"] == "charge.observed"] == []


async def test_in_a_visit_a_breach_becomes_an_issue_and_with_one_key_a_notice_item(
    store: Store,
) -> None:
    inst = store.inst_id  # type: ignore[attr-defined]
    app = app_for(store, "en")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await app.push_screen(VisitScreen(inst, "x", store.institution(inst)))
        await settle(pilot)
        await pilot.press("ctrl+r")
        await settle(pilot)
        app.screen.query_one("#amount", Input).value = "5,000.01"
        await pilot.click("#ok")
        await settle(pilot)
        issues = app.screen.query_one("#issues", TextArea).text
        assert "0.01 over the limit of 5,000" in issues
        await pilot.press("ctrl+t")
        await settle(pilot)
        assert "0.01 over" in app.screen.query_one("#rect-items", TextArea).text


async def test_the_mismatch_filter_and_the_dashboard_list(store: Store) -> None:
    inst = store.inst_id  # type: ignore[attr-defined]
    assert [r.id for r in store.assignments(filter="discrepancy")] == [inst]
    app = app_for(store, "zh")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await app.push_screen(DashboardScreen())
        await settle(pilot)
        shown = widget_text(app.screen.query_one(DiscrepancyList), 110)
    assert "与平台不符的机构：1 家" in shown and inst in shown and "平台超过7天仍未确认" in shown
