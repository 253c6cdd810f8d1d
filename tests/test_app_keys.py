"""Help and keys: the help screen in the user's language, F2/F3/F4 switching, the search box's
Enter and Esc, tab keys on the tabs, the theme kept across a restart, institutions in the palette."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from rich.cells import cell_len
from textual.widgets import Input, Label, Static, TabbedContent

from cache.store import Store
from fieldkit import config
from screens.app import make_app
from screens.assignments import AssignmentsScreen
from screens.dashboard import DashboardScreen
from screens.help import HelpScreen
from screens.i18n import tr
from screens.institution import InstitutionScreen
from screens.settings import SettingsScreen
from screens.sync_screen import SyncScreen
from screens.visit import VisitScreen
from screens.widgets.footer import TranslatedFooter
from screens.widgets.virtual_table import VirtualTable
from tests.painted import PaintedScreen
from tests.test_app_fixtures import (
    app_for,
    county_rows,
    county_store,
    settle,
    technician_settings,
    widget_text,
)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    """A real cache file with the demo county."""
    yield from county_store(tmp_path)


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        ("zh", ["/", "搜索", "f", "筛选", "o", "排序", "f5", "立即同步", "帮助", "机构列表"]),
        ("en", ["/", "Search", "Filter", "Sort", "Sync now", "Help", "the institution list"]),
    ],
)
async def test_f1_lists_the_list_screens_keys_in_the_users_language(
    store: Store, lang: str, expected: list[str]
) -> None:
    app = app_for(store, lang)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("f1")
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)
        shown = widget_text(app.screen.query_one("#keys", Static), 70) + str(
            app.screen.query_one(".title", Label).content
        )
        for words in expected:
            assert words in shown
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, AssignmentsScreen)


async def test_question_mark_shows_the_institutions_keys_including_hidden_tab_keys(
    store: Store,
) -> None:
    inst = county_rows()[0][0]
    app = app_for(store, "en")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.push_screen(InstitutionScreen(inst["id"]))
        await settle(pilot)
        await pilot.press("question_mark")
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)
        shown = widget_text(app.screen.query_one("#keys", Static), 70)
        for words in ("Start visit", "Payment code", "Done", "Blocked", "Back to to-do", "Visits"):
            assert words in shown
        assert "? / f1" in shown or "f1 / ?" in shown
        await pilot.press("question_mark")  # the same key closes it
        await settle(pilot)
        assert isinstance(app.screen, InstitutionScreen)


async def test_a_key_added_to_a_screen_appears_in_its_help_without_editing_help(
    store: Store,
) -> None:
    from textual.binding import Binding

    import screens.dashboard
    from screens.i18n import MESSAGES

    class WithExtraKey(DashboardScreen):
        CSS_PATH = str(Path(screens.dashboard.__file__).with_name("dashboard.tcss"))
        BINDINGS = [Binding("z", "app.bell", "Ring", id="extra_key_for_test")]

    MESSAGES["key.extra_key_for_test"] = ("响铃测试", "Ring for the test")
    try:
        app = app_for(store, "zh")
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            app.push_screen(WithExtraKey())
            await settle(pilot)
            await pilot.press("f1")
            await settle(pilot)
            assert "响铃测试" in widget_text(app.screen.query_one("#keys", Static), 70)
    finally:
        del MESSAGES["key.extra_key_for_test"]


async def test_f2_f3_f4_switch_screens_instead_of_piling_them_up(store: Store) -> None:
    app = app_for(store, "en")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        depth = len(app.screen_stack)
        for key, kind in (
            ("f2", SyncScreen),
            ("f3", DashboardScreen),
            ("f4", SettingsScreen),
            ("f2", SyncScreen),
            ("f3", DashboardScreen),
        ):
            await pilot.press(key)
            await settle(pilot)
            assert isinstance(app.screen, kind)
            assert len(app.screen_stack) == depth + 1
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, AssignmentsScreen)


async def test_f_keys_over_a_visit_keep_the_visit_below(store: Store) -> None:
    inst = county_rows()[0][0]
    app = app_for(store, "en")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.push_screen(InstitutionScreen(inst["id"]))
        await settle(pilot)
        await pilot.press("v")
        await settle(pilot)
        assert isinstance(app.screen, VisitScreen)
        await pilot.press("f3")
        await settle(pilot)
        await pilot.press("f2")
        await settle(pilot)
        assert isinstance(app.screen, SyncScreen)
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, VisitScreen)  # what was typed there is still there


async def test_esc_leaves_the_search_box_and_keeps_the_words(store: Store) -> None:
    app = app_for(store, "en")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("slash", *"wl")
        await settle(pilot)
        footer = app.screen.query_one(TranslatedFooter)
        assert "Leave the search box" in footer.descriptions
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen.focused, VirtualTable)
        assert app.screen.query_one("#search", Input).value == "wl"
        assert "Leave the search box" not in footer.descriptions


async def test_enter_in_the_search_box_opens_a_single_match(store: Store) -> None:
    target = county_rows()[0][3]
    app = app_for(store, "en")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("slash", *target["uscc"])
        await settle(pilot)
        assert str(app.screen.query_one("#count", Label).content) == "1 institution"
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, InstitutionScreen)
        assert app.screen.inst_id == target["id"]


async def test_enter_with_several_matches_goes_to_the_list(store: Store) -> None:
    app = app_for(store, "en")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("slash", *"wl")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, AssignmentsScreen)
        assert isinstance(app.screen.focused, VirtualTable)


async def test_tab_keys_are_shown_on_the_tabs(store: Store) -> None:
    inst = county_rows()[0][0]
    app = app_for(store, "zh")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.push_screen(InstitutionScreen(inst["id"]))
        await settle(pilot)
        tabs = app.screen.query_one("#tabs", TabbedContent)
        labels = [str(tabs.get_tab(pane).label) for pane in ("tab-checklist", "tab-visits")]
        assert labels == ["1 清单", "3 走访记录"]
        await pilot.press("3")
        await settle(pilot)
        assert tabs.active == "tab-visits"


async def test_the_chosen_theme_survives_a_restart(store: Store) -> None:
    settings = app_for(store, "en").settings
    config.save(settings)
    app = app_for(store, "en", settings=config.load("default"))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.theme = "nord"
        await settle(pilot)
    assert config.load("default").theme == "nord"
    again = app_for(store, "en", settings=config.load("default"))
    async with again.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert again.theme == "nord"


@pytest.mark.parametrize("how", ["initials", "name"])
async def test_the_palette_opens_an_institution_by_name_or_initials(store: Store, how: str) -> None:
    target = county_rows()[0][5]
    typed = target["initials"] if how == "initials" else target["name"][2:6]
    app = app_for(store, "zh")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+p")
        await settle(pilot)
        await pilot.press(*typed)
        for _ in range(40):  # the palette searches in the background
            await pilot.pause(0.05)
            hits = [str(h.prompt) for h in app.screen.query("CommandList").first()._options]
            if any(target["name"] in h for h in hits):
                break
        option = next(
            i
            for i, h in enumerate(app.screen.query("CommandList").first()._options)
            if target["name"] in str(h.prompt)
        )
        app.screen.query("CommandList").first().highlighted = option
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, InstitutionScreen)
        assert app.screen.inst_id == target["id"]


class _DemoNetwork:
    """The demo's switch, so the help also lists f9 (the longest help there is)."""

    online = True

    def set_online(self, online: bool) -> None:
        self.online = online


async def _open(pilot: Any, where: str, inst: dict[str, Any]) -> None:
    """Go to one of the screens that have a help."""
    app = pilot.app
    if where == "institution":
        app.push_screen(InstitutionScreen(inst["id"]))
    elif where == "visit":
        app.push_screen(VisitScreen(inst["id"], inst["name"], inst))
    elif where != "list":
        await pilot.press(where)
    await settle(pilot)


BORDER = re.compile(r"^[\s█▀▄]+|[\s█▀▄▁▂▃▅▆▇]+$")  # the box's edges and its scrollbar


def _box_lines(app: Any) -> list[str]:
    """The help box's lines as painted, without its border."""
    return [BORDER.sub("", line) for line in PaintedScreen.repainted(app)]


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize(
    "where", ["list", "institution", "visit", "f3", "f6", "f7", "f2", "f4"]
)  # the list, an institution, a visit, dashboard, due list, ledger, sync, settings
async def test_every_line_of_every_help_can_be_read_at_80x24(
    store: Store, lang: str, where: str
) -> None:
    inst = county_rows()[0][0]
    app = make_app(technician_settings(lang), store, None, demo_network=_DemoNetwork())
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await _open(pilot, where, inst)
        await pilot.press("f1")
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)
        entries = app.screen.entries
        title = tr("help.title", lang, screen=app.screen.title_text)
        seen = _box_lines(app)
        assert any(title in line for line in seen)
        for key in ["pagedown"] * 6 + ["end"]:  # as far as the keys go
            await pilot.press(key)
            await settle(pilot)
            seen += _box_lines(app)
        for entry in entries:
            assert any(
                line.startswith(" / ".join(entry.keys)) and entry.what in line for line in seen
            ), entry
        last = _box_lines(app)
        closing = "关闭本帮助。" if lang == "zh" else "closes this help."
        assert any(closing in line for line in last), "\n".join(last)  # End shows the closing line
        assert "Ctrl+P" not in seen  # the key starts its sentence, not a line of its own
        assert any(" / ".join(entries[-1].keys) in line for line in seen)
        await pilot.press("home")
        await settle(pilot)
        assert any(title in line for line in _box_lines(app))


async def test_a_dropdowns_own_key_is_named_in_chinese_in_the_key_bar(store: Store) -> None:
    inst = county_rows()[0][0]
    app = app_for(store, "zh")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.push_screen(VisitScreen(inst["id"], inst["name"], inst))
        await settle(pilot)
        app.screen.query_one("#outcome").focus()
        await pilot.press("enter")  # the outcome's menu opens
        await settle(pilot)
        said = app.screen.query_one(TranslatedFooter).descriptions
        assert "收起菜单" in said and "Dismiss menu" not in said


@pytest.mark.parametrize(
    ("lang", "words"), [("en", "Attach the folder's new photos"), ("zh", "关闭")]
)
async def test_f1_and_question_mark_help_in_the_evidence_dialog(
    store: Store, lang: str, words: str
) -> None:
    from screens.dialogs.evidence import EvidenceDialog

    app = app_for(store, lang)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.push_screen(InstitutionScreen(county_rows()[0][0]["id"]))
        await settle(pilot)
        await pilot.press("e")
        await settle(pilot)
        assert isinstance(app.screen, EvidenceDialog)
        await pilot.press("f1")  # the focus is in the path field
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)
        shown = widget_text(app.screen.query_one("#keys", Static), 70) + str(
            app.screen.query_one(".title", Label).content
        )
        assert words in shown and ("evidence" in shown or "证据" in shown)
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, EvidenceDialog)
        await pilot.press("question_mark")  # the path field is empty: ? is help too
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("question_mark")
        await settle(pilot)
        await pilot.press(*"/tmp/a", "question_mark")  # in a path, ? is the character typed
        await settle(pilot)
        assert isinstance(app.screen, EvidenceDialog)
        assert app.screen.query_one("#evidence-path", Input).value == "/tmp/a?"


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
async def test_the_chinese_help_footnote_keeps_ctrl_p_with_its_words(
    store: Store, size: tuple[int, int]
) -> None:
    app = app_for(store, "zh")
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        await pilot.press("f1")
        await settle(pilot)
        footer = app.screen.query_one("#help-footer")
        width = footer.content_region.width
        lines = [
            "".join(s.text for s in footer.render_line(y)).rstrip()
            for y in range(footer.content_region.height)
        ]
        lines = [line for line in lines if line.strip()]
        assert lines[0].startswith("Ctrl+P") and "命令面板" in lines[0]  # not alone on its line
        assert all(cell_len(line) < width for line in lines)  # none runs to the border
        assert "关闭本帮助" in lines[-1]
