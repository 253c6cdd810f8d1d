"""Snapshots of the main screens at 100x30 in Chinese and English, on fixed data and a fixed clock.

Regenerate with `pytest tests/test_app_snapshots.py --snapshot-update`, then look at the SVGs."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest

from cache.store import Store
from fieldkit import domain
from fieldkit.domain.platform import PLATFORM_STEPS
from screens.dashboard import DashboardScreen
from screens.institution import InstitutionScreen
from screens.sync_screen import SyncScreen
from screens.visit import VisitScreen
from tests.test_app_fixtures import CST, app_for, county_rows, county_store, settle

SIZE = (100, 30)
LANGS = ["zh", "en"]
EDITED_MS = int(datetime(2026, 11, 28, 9, 15, tzinfo=CST).timestamp() * 1000)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    """The demo county, with a step change, a visit and a refused change at fixed times."""
    for store in county_store(tmp_path):
        store.clock = domain.HLC(store.client_id, wall=lambda: EDITED_MS)
        insts, _ = county_rows()
        first, second = insts[0]["id"], insts[1]["id"]
        store.set_step(first, "parent_app", "in_progress", by="T0001")
        store.create_visit(
            domain.Visit(
                visit_id="00000000-0000-4000-8000-000000000001",
                institution_id=first,
                technician_id="T0001",
                kind="follow_up",
                started_at=datetime(2026, 11, 27, 14, 0, tzinfo=CST),
                ended_at=datetime(2026, 11, 27, 15, 10, tzinfo=CST),
                outcome="partial",
                steps_advanced=("parent_app",),
                issues=("前台仍张贴个人微信收款码",),
                rectification=domain.Rectification(("撤下个人收款码",), date(2026, 12, 5)),
                next_visit_on=date(2026, 12, 6),
                notes="负责人周一回来",
            )
        )
        refused = store.set_contact(second, contact_name="周老师", contact_phone="13907310000")
        store.mark_sending([refused["op_id"]])
        store.record_results(
            [
                {
                    "op_id": refused["op_id"],
                    "status": "rejected",
                    "reason": "not_assigned",
                    "message": "机构未分配给您，无法修改 / The institution is not "
                    "assigned to you; you cannot change it",
                }
            ]
        )
        yield store


def _first_id() -> str:
    return county_rows()[0][0]["id"]


async def _open(pilot: Any, screen: Any) -> None:
    await settle(pilot)
    await pilot.app.push_screen(screen)
    await settle(pilot)


@pytest.mark.parametrize("lang", LANGS)
def test_assignment_list(snap_compare: Any, store: Store, lang: str) -> None:
    assert snap_compare(app_for(store, lang), terminal_size=SIZE, run_before=settle)


@pytest.mark.parametrize("lang", LANGS)
def test_institution(snap_compare: Any, store: Store, lang: str) -> None:
    async def run_before(pilot: Any) -> None:
        await _open(pilot, InstitutionScreen(_first_id()))
        pilot.app.screen.query_one("#checklist").move_cursor(row=6)
        await settle(pilot)

    assert snap_compare(app_for(store, lang), terminal_size=SIZE, run_before=run_before)


@pytest.mark.parametrize("lang", LANGS)
def test_institution_visits(snap_compare: Any, store: Store, lang: str) -> None:
    async def run_before(pilot: Any) -> None:
        await _open(pilot, InstitutionScreen(_first_id()))
        await pilot.press("3")
        await settle(pilot)

    assert snap_compare(app_for(store, lang), terminal_size=SIZE, run_before=run_before)


@pytest.mark.parametrize("lang", LANGS)
def test_visit_form(snap_compare: Any, store: Store, lang: str) -> None:
    async def run_before(pilot: Any) -> None:
        inst = store.institution(_first_id())
        assert inst is not None
        await _open(pilot, VisitScreen(inst["id"], inst["name"], inst))

    assert snap_compare(app_for(store, lang), terminal_size=SIZE, run_before=run_before)


@pytest.mark.parametrize("lang", LANGS)
def test_sync_screen(snap_compare: Any, store: Store, lang: str) -> None:
    async def run_before(pilot: Any) -> None:
        await _open(pilot, SyncScreen())

    assert snap_compare(app_for(store, lang), terminal_size=SIZE, run_before=run_before)


@pytest.mark.parametrize("lang", LANGS)
def test_dashboard(snap_compare: Any, store: Store, lang: str) -> None:
    insts, steps = county_rows()
    done = {(s["institution_id"], s["step"]) for s in steps if s["status"] == domain.DONE}
    readings = [  # the platform's readings as pulled: every field mark confirmed but the first's
        {
            "seq": n + 1,
            "kind": "platform",
            "id": inst["id"],
            "data": {
                "institution_id": inst["id"],
                "steps": {
                    k: "2025-03-01" if (inst["id"], k) in done and n else None
                    for k in PLATFORM_STEPS
                },
                "orders": inst["orders"],
                "order_amount_fen": inst["order_amount_fen"],
                "imported_at": "2026-11-27T08:00:00+00:00",
            },
        }
        for n, inst in enumerate(insts)
    ]
    store.apply_changes(readings, len(readings))

    async def run_before(pilot: Any) -> None:
        await _open(pilot, DashboardScreen())

    assert snap_compare(app_for(store, lang), terminal_size=SIZE, run_before=run_before)
