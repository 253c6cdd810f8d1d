"""Every action is reachable from the command palette, named in the user's language."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from cache.store import Store
from screens.dashboard import DashboardScreen
from screens.i18n import tr
from screens.widgets.status_bar import StatusBar
from tests.painted import PaintedScreen
from tests.test_app_fixtures import app_for, county_store, settle, wait_until


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
        await wait_until(  # the palette's providers (commands, institutions) answer as they can
            pilot, lambda: app.screen.query("CommandList").first().highlighted is not None
        )
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


async def test_dashboard_figures_follow_a_sync_round(store: Store) -> None:
    from dataclasses import replace

    from textual.widgets import Static

    from fieldkit import domain
    from tests.test_app_fixtures import FIXED_NOW, county_rows, widget_text

    app = app_for(store, "en")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("f3")
        await settle(pilot)
        before = widget_text(app.screen.query_one("#stats", Static))
        visits_line = next(line for line in before.splitlines() if line.startswith("Visits"))
        assert visits_line.split()[-1] == "0"
        inst_id = county_rows()[0][0]["id"]  # a visit lands while the screen is open
        store.create_visit(
            domain.Visit(
                visit_id="V-1",
                institution_id=inst_id,
                technician_id="T0001",
                kind="guidance",
                started_at=FIXED_NOW,
                ended_at=FIXED_NOW,
                outcome="completed",
            )
        )
        app.status_view = replace(app.status_view, last_success="2026-11-28T09:31:00+08:00")
        await settle(pilot)
        after = widget_text(app.screen.query_one("#stats", Static))
        visits_line = next(line for line in after.splitlines() if line.startswith("Visits"))
        assert visits_line.split()[-1] == "1"


async def test_the_key_of_the_screen_shown_is_not_offered_again(store: Store) -> None:
    from screens.widgets.footer import TranslatedFooter

    app = app_for(store, "zh")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("f2")
        await settle(pilot)
        labels = app.screen.query_one(TranslatedFooter).descriptions
        assert "同步详情" not in labels and "统计" in labels
        await pilot.press("f3")
        await settle(pilot)
        labels = app.screen.query_one(TranslatedFooter).descriptions
        assert "统计" not in labels and "同步详情" in labels


@pytest.mark.parametrize(("lang", "hint"), [("zh", "搜索配色…"), ("en", "Search for themes…")])
async def test_the_theme_picker_asks_in_the_users_language(
    store: Store, lang: str, hint: str
) -> None:
    app = app_for(store, lang)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        theme = next(
            c for c in app.get_system_commands(app.screen) if c.title == tr("palette.theme", lang)
        )
        theme.callback()
        await settle(pilot)
        assert app.screen.query_one("CommandInput").placeholder == hint
        assert any(hint in line for line in PaintedScreen.repainted(app))


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_the_palettes_keys_command_opens_the_help_in_the_users_language(
    store: Store, lang: str
) -> None:
    """Textual's own keys panel names the keys in English: the palette's Keys opens ours."""
    from screens.help import HelpScreen

    app = app_for(store, lang)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*tr("palette.keys", lang))
        await wait_until(
            pilot, lambda: app.screen.query("CommandList").first().highlighted is not None
        )
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, HelpScreen))
        lines = "".join(PaintedScreen.repainted(app))
        assert tr("help.screen.AssignmentsScreen", lang) in lines


@pytest.mark.parametrize(
    ("lang", "typed", "said"),
    [("zh", "theme", "没有匹配的命令"), ("en", "xyzzy", "No matches found")],
)  # the theme command is 主题（配色） in Chinese: "theme" finds nothing there
async def test_a_search_that_finds_no_command_says_so_in_the_users_language(
    store: Store, lang: str, typed: str, said: str
) -> None:
    app = app_for(store, lang)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+p")
        await settle(pilot)
        await pilot.press(*typed)
        await wait_until(pilot, lambda: "No matches" in _painted(app) or said in _painted(app))
        await settle(pilot)
        painted = _painted(app)
        assert said in painted and (lang == "en" or "No matches" not in painted), painted


def _painted(app) -> str:  # type: ignore[no-untyped-def]
    return "".join(PaintedScreen.repainted(app))
