"""Every action is reachable from the command palette, named in the user's language."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from cache.store import Store
from screens.dashboard import DashboardScreen
from screens.widgets.status_bar import StatusBar
from tests.test_app_fixtures import app_for, county_store, settle


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    """A real cache file with the demo county."""
    yield from county_store(tmp_path)


async def test_palette_lists_the_screens_actions_in_chinese(store: Store) -> None:
    app = app_for(store, "zh")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        titles = [c.title for c in app.get_system_commands(app.screen)]
        for expected in (
            "立即同步 (f5)",
            "同步详情 (f2)",
            "统计 (f3)",
            "设置 (f4)",
            "筛选 (f)",
            "排序 (o)",
            "搜索 (/)",
        ):
            assert expected in titles


async def test_palette_opens_the_dashboard(store: Store) -> None:
    app = app_for(store, "zh")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"统计")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, DashboardScreen)


async def test_palette_switches_the_language(store: Store) -> None:
    app = app_for(store, "zh")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        command = next(
            c for c in app.get_system_commands(app.screen) if c.title == "语言：中文 / English"
        )
        command.callback()
        await settle(pilot)
        assert app.language == "en"
        assert "unsent 0" in str(app.screen.query_one(StatusBar).content)


async def test_palette_speaks_chinese_only_and_finds_the_theme(store: Store) -> None:
    app = app_for(store, "zh")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert "主题（配色）" in titles  # what the settings screen tells the user to look for
        assert [t for t in titles if t.isascii()] == []
        await pilot.press("ctrl+p")
        await settle(pilot)
        assert app.screen.query_one("CommandInput").placeholder == "搜索命令…"
