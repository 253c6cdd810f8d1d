"""Snapshots at 80x24, the smallest terminal a technician uses, in Chinese and English: the help
screen, the code check's verdict, the checklist.

Regenerate with `pytest tests/test_app_snapshots_small.py --snapshot-update`, then look at the SVGs."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Input

from cache.store import Store
from fieldkit.payment import emv
from screens.institution import InstitutionScreen
from tests.test_app_fixtures import app_for, county_rows, county_store, settle

SIZE = (80, 24)
LANGS = ["zh", "en"]


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    """The demo county."""
    yield from county_store(tmp_path)


@pytest.mark.parametrize("lang", LANGS)
def test_help_screen(snap_compare: Any, store: Store, lang: str) -> None:
    async def open_help(pilot: Any) -> None:
        await settle(pilot)
        await pilot.press("f1")
        await settle(pilot)

    assert snap_compare(app_for(store, lang), terminal_size=SIZE, run_before=open_help)


def _first_id() -> str:
    return county_rows()[0][0]["id"]


def _other_payload() -> str:
    """Another institution's supervised code (of the same county, as a neighbour would post)."""
    other = county_rows()[0][1]
    return emv.build_payload(
        other["id"], "43050162360800000002", "Neighbour", "Changde", other["name"], "常德"
    )


async def _checked(pilot: Any, code: str) -> None:
    """Open the first institution's payment tab and check a code found at the desk."""
    await settle(pilot)
    await pilot.app.push_screen(InstitutionScreen(_first_id()))
    await settle(pilot)
    await pilot.press("4")
    await settle(pilot)
    field = pilot.app.screen.query_one("#code-check", Input)
    field.cursor_blink = False  # the cursor always drawn: a slow machine may snap it mid-blink
    field.focus()
    field.value = code
    await pilot.press("enter")
    await pilot.app.workers.wait_for_complete()
    await settle(pilot)


@pytest.mark.parametrize("lang", LANGS)
def test_code_check_verdict_wraps_whole(snap_compare: Any, store: Store, lang: str) -> None:
    async def run_before(pilot: Any) -> None:
        await _checked(pilot, "wxp://f2f0Ab3xYz9EXAMPLEabcdefghijklmnopqrstuvw")

    assert snap_compare(app_for(store, lang), terminal_size=SIZE, run_before=run_before)


@pytest.mark.parametrize("lang", LANGS)
def test_code_check_names_whose_code_it_is(snap_compare: Any, store: Store, lang: str) -> None:
    async def run_before(pilot: Any) -> None:
        await _checked(pilot, _other_payload())

    assert snap_compare(app_for(store, lang), terminal_size=SIZE, run_before=run_before)


@pytest.mark.parametrize("lang", LANGS)
def test_checklist(snap_compare: Any, store: Store, lang: str) -> None:
    async def run_before(pilot: Any) -> None:
        await settle(pilot)
        await pilot.app.push_screen(InstitutionScreen(_first_id()))
        await settle(pilot)
        pilot.app.screen.query_one("#checklist").move_cursor(row=7)  # 平台购课, the longest name
        await settle(pilot)

    assert snap_compare(app_for(store, lang), terminal_size=SIZE, run_before=run_before)
