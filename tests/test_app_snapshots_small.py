"""Snapshots at 80x24, the smallest terminal a technician uses, in Chinese and English: the help
screen, the code check's verdict, the checklist.

Regenerate with `pytest tests/test_app_snapshots_small.py --snapshot-update`, then look at the SVGs."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cache.store import Store
from tests.test_app_fixtures import app_for, county_store, settle

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
