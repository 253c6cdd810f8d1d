"""Snapshots of the due list and the ledger at 80x24 and 120x40, in Chinese and English, on the
demo county with fixed cases and a fixed clock (2026-11-28).

Regenerate with `pytest tests/test_app_cases_snapshots.py --snapshot-update`, then look at them."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from cache.store import Store
from screens.due_list import DueListScreen
from screens.ledger import LedgerScreen
from tests.case_data import follow_up_visits, load_cases
from tests.test_app_fixtures import app_for, county_rows, county_store, settle, technician_settings

SIZES = [(80, 24), (120, 40)]
LANGS = ["zh", "en"]
TODAY = date(2026, 11, 28)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    """The demo county with 40 cases, a look-back round and ten follow-up dates."""
    for store in county_store(tmp_path):
        ids = [i["id"] for i in county_rows()[0]]
        load_cases(store, ids, 40, TODAY)
        follow_up_visits(store, ids[20:], TODAY, 10)
        yield store


async def _open(pilot: Any, screen: Any) -> None:
    await settle(pilot)
    await pilot.app.push_screen(screen)
    await settle(pilot)


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "120x40"])
@pytest.mark.parametrize("lang", LANGS)
def test_due_list(snap_compare: Any, store: Store, lang: str, size: tuple[int, int]) -> None:
    async def run_before(pilot: Any) -> None:
        await _open(pilot, DueListScreen())

    assert snap_compare(app_for(store, lang), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "120x40"])
@pytest.mark.parametrize("lang", LANGS)
def test_ledger(snap_compare: Any, store: Store, lang: str, size: tuple[int, int]) -> None:
    async def run_before(pilot: Any) -> None:
        await _open(pilot, LedgerScreen())

    app = app_for(store, lang, settings=technician_settings(lang, "supervisor"))
    assert snap_compare(app, terminal_size=size, run_before=run_before)
