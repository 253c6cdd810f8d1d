"""Every word readable in full at 80x24 and 120x40, in Chinese and English (issue 14): the list's
search hint and choices, the footer's keys, the visit form's labels and code-check hint, the
checklist's reasons, the due list's range, the cases' buttons, the list's next step.

Each test reads what the terminal shows (tests.painted) and looks for each label's whole text."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from cache.store import Store
from screens.i18n import tr
from screens.institution import InstitutionScreen
from screens.ledger import LedgerScreen, read_ledger
from screens.visit import VisitForm, VisitScreen
from screens.widgets.choice_bar import ChoiceBar
from screens.widgets.code_check import WORDS
from screens.widgets.footer import TranslatedFooter
from tests.case_data import load_cases
from tests.painted import PaintedScreen
from tests.test_app_fixtures import (
    app_for,
    county_rows,
    county_store,
    settle,
    technician_settings,
    wait_until,
)

LANGS = ["zh", "en"]
SIZES = [(80, 24), (120, 40)]
REASON = {
    "zh": "负责人不在，下周再来访，需带营业执照原件",
    "en": "The manager was away; come back next week with the licence",
}


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    """A real cache file with the demo county."""
    yield from county_store(tmp_path)


def _lines(app) -> list[str]:  # type: ignore[no-untyped-def]
    return PaintedScreen.repainted(app)


def _flat(lines: list[str]) -> str:
    """The screen's text in one piece, spaces and borders left out (a wrapped label joins up)."""
    return "".join(c for c in "".join(lines) if c not in " \n▊▎▔▁┃━│─▌▐█▇▆▅▄▃▂")


def _inst_id() -> str:
    return county_rows()[0][0]["id"]


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("size", SIZES, ids=["80x24", "120x40"])
async def test_the_list_shows_its_search_hint_and_every_choice_whole(
    store: Store, lang: str, size: tuple[int, int]
) -> None:
    app = app_for(store, lang)
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        lines = _lines(app)
        assert any(tr("list.search", lang) in line for line in lines), lines[:4]
        for bar in app.screen.query(ChoiceBar):
            words = " ".join([bar.title_text, *(label for label, _ in bar.choices)])
            assert any(words in line for line in lines), (words, lines[:5])


SCREEN_KEYS = ["", "f2", "f3", "f4", "f6", "f7"]  # the list, sync, dashboard, settings, due, ledger


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("size", SIZES, ids=["80x24", "120x40"])
@pytest.mark.parametrize("key", SCREEN_KEYS)
async def test_the_footer_shows_only_whole_keys(
    store: Store, lang: str, size: tuple[int, int], key: str
) -> None:
    app = app_for(store, lang)
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        if key:
            await pilot.press(key)
            await settle(pilot)
        _assert_whole_footer(app, lang)


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("size", SIZES, ids=["80x24", "120x40"])
async def test_the_institution_and_visit_footers_show_only_whole_keys(
    store: Store, lang: str, size: tuple[int, int]
) -> None:
    app = app_for(store, lang)
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        app.push_screen(InstitutionScreen(_inst_id()))
        await settle(pilot)
        _assert_whole_footer(app, lang)
        await pilot.press("v")
        await wait_until(pilot, lambda: isinstance(app.screen, VisitScreen))
        await settle(pilot)
        _assert_whole_footer(app, lang)


def _assert_whole_footer(app, lang: str) -> None:  # type: ignore[no-untyped-def]
    """The footer's line is exactly its shown keys, each whole; help is among them."""
    footer = app.screen.query_one(TranslatedFooter)
    bar = _lines(app)[-1]
    drawn = "".join(
        f" {app.get_key_display(binding)} {label} " for _node, binding, label in footer.entries
    )
    assert bar.rstrip() == drawn.rstrip(), (bar, drawn)
    assert tr("key.help", lang) in footer.descriptions


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("size", SIZES, ids=["80x24", "120x40"])
async def test_the_visit_form_shows_every_label_and_the_code_hint_whole(
    store: Store, lang: str, size: tuple[int, int]
) -> None:
    app = app_for(store, lang)
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        app.push_screen(InstitutionScreen(_inst_id()))
        await settle(pilot)
        await pilot.press("v")
        await wait_until(pilot, lambda: isinstance(app.screen, VisitScreen))
        await settle(pilot)
        form = app.screen.query_one(VisitForm)
        seen: list[str] = []
        for y in range(0, form.max_scroll_y + size[1], size[1] // 2):
            form.scroll_to(y=y, animate=False)
            await settle(pilot)
            seen.append(_flat(_lines(app)))
            if any(WORDS["placeholder"][LANGS.index(lang)] in line for line in _lines(app)):
                seen.append("placeholder whole")
        shown = "".join(seen)
        for key in ("visit.code_check", "visit.evidence", "visit.rect_items", "visit.next"):
            assert _flat([tr(key, lang)]) in shown, key
        assert "placeholder whole" in seen


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("size", SIZES, ids=["80x24", "120x40"])
async def test_a_blocked_steps_reason_is_whole_or_ends_in_an_ellipsis_and_whole_below(
    store: Store, lang: str, size: tuple[int, int]
) -> None:
    inst_id = _inst_id()
    store.set_step(inst_id, "parent_app", "blocked", REASON[lang], by="T0001")
    app = app_for(store, lang)
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        app.push_screen(InstitutionScreen(inst_id))
        await settle(pilot)
        name = "家长端指导" if lang == "zh" else "Parent app guidance"
        row = next(line for line in _lines(app) if name in line)
        cell = row.split("│")[0].split(tr("sync.unsent", lang))[-1].strip()
        assert cell == REASON[lang] or (cell.endswith("…") and REASON[lang].startswith(cell[:-1]))
        if size == (80, 24) and lang == "zh":
            assert cell == REASON[lang]  # room enough: the whole reason in its column
        for _ in range(10):
            await pilot.press("down")  # the blocked step selected: its guidance says why
        await settle(pilot)
        guidance = [line.split("│", 1)[-1] for line in _lines(app)]  # (beside the steps, if wide)
        assert _flat([REASON[lang]]) in _flat(guidance)


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("size", SIZES, ids=["80x24", "120x40"])
async def test_the_due_list_shows_every_range_whole(
    store: Store, lang: str, size: tuple[int, int]
) -> None:
    app = app_for(store, lang)
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        await pilot.press("f6")
        await wait_until(pilot, lambda: type(app.screen).__name__ == "DueListScreen")
        await settle(pilot)
        lines = _lines(app)
        bar = app.screen.query_one("#range", ChoiceBar)
        words = " ".join([bar.title_text, *(label for label, _ in bar.choices)])
        assert any(words in line for line in lines), lines[:4]
        assert _flat([tr("due.empty", lang)]) in _flat(lines[:5])


@pytest.mark.parametrize("lang", LANGS)
async def test_the_cases_buttons_are_whole_at_80_columns(store: Store, lang: str) -> None:
    app = app_for(store, lang)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.push_screen(InstitutionScreen(_inst_id()))
        await settle(pilot)
        await app.screen.run_action("show_tab('cases')")
        await settle(pilot)
        lines = _lines(app)
        for key in ("case.waive", "case.print", "case.evidence"):
            assert any(tr(key, lang) in line for line in lines), (key, lines[5:12])


SUPERVISOR_ONLY = {
    "zh": "升级、结案和审核由主管进行",
    "en": "Escalation, closing and review are done by a supervisor",
}


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("size", SIZES, ids=["80x24", "120x40"])
async def test_the_cases_tab_says_who_escalates_in_a_whole_sentence(
    store: Store, lang: str, size: tuple[int, int]
) -> None:
    app = app_for(store, lang)
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        app.push_screen(InstitutionScreen(_inst_id()))
        await settle(pilot)
        await app.screen.run_action("show_tab('cases')")
        await settle(pilot)
        whole = _flat([SUPERVISOR_ONLY[lang]])
        assert whole in _flat(_lines(app)), _lines(app)


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("size", SIZES, ids=["80x24", "120x40"])
async def test_the_evidence_dialogs_hint_and_keys_are_whole(
    store: Store, lang: str, size: tuple[int, int]
) -> None:
    app = app_for(store, lang)
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        app.push_screen(InstitutionScreen(_inst_id()))
        await settle(pilot)
        await pilot.press("e")
        await settle(pilot)
        lines = _lines(app)
        for key in ("evidence.path_hint", "evidence.keys"):
            assert _flat([tr(key, lang)]) in _flat(lines), (key, lines)


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("size", SIZES, ids=["80x24", "120x40"])
async def test_the_lists_next_step_is_never_cut(
    store: Store, lang: str, size: tuple[int, int]
) -> None:
    app = app_for(store, lang)
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        rows = [line for line in _lines(app) if "/11" in line]
        assert len(rows) > 10
        for line in rows:
            assert "…" not in line.split("/11", 1)[1], line  # a short name, not 'Course revi…'


@pytest.mark.parametrize("lang", LANGS)
def test_the_dashboards_figures_are_whole_beside_narrower_bars(lang: str) -> None:
    import io

    from rich.console import Console

    from fieldkit import domain
    from screens.dashboard import stats_table

    stats = {
        "institutions": 60,
        "bank_verified_rate": 0.8333,
        "full_process": 30,
        "orders": 55,
        "order_amount_fen": 5_173_500,
        "by_step": {s.key: 58 for s in domain.STEPS},
        "field": {"bank_verified": 50, "full_process": 30, "by_step": {}},
    }
    for width in (74, 116):  # the dashboard's panel at 80 and at 120 columns
        console = Console(width=width, file=io.StringIO(), record=True)
        console.print(stats_table(stats, lang, width))
        shown = console.export_text()
        assert "…" not in shown, shown
        assert shown.count("83.33%") == 2 and "51,735.00" in shown and "30 (50.0%)" in shown


@pytest.mark.parametrize("lang", LANGS)
async def test_settings_show_a_long_cache_path_whole(
    store: Store, lang: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FIELDKIT_HOME", str(tmp_path / ("a-rather-long-folder-name-" * 3)))
    app = app_for(store, lang)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("f4")
        await settle(pilot)
        path = str(app.settings.cache_path)
        assert len(path) > 70
        assert _flat([path]) in _flat(_lines(app))


@pytest.mark.parametrize("lang", LANGS)
async def test_the_help_screen_keeps_its_hint_when_the_keys_scroll(store: Store, lang: str) -> None:
    app = app_for(store, lang)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.push_screen(InstitutionScreen(_inst_id()))
        await settle(pilot)
        await pilot.press("f1")
        await settle(pilot)
        assert _flat([tr("help.footer", lang)]) in _flat(_lines(app))


@pytest.mark.parametrize("lang", LANGS)
async def test_a_search_that_matches_nothing_says_so_whole_at_80x24(
    store: Store, lang: str
) -> None:
    app = app_for(store, lang)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("slash", *"zzqqxx")
        await wait_until(pilot, lambda: tr("list.empty", lang) in "".join(_lines(app)))
        assert tr("list.empty", lang) in "".join(_lines(app)[:3])


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("size", [(80, 24), (110, 30), (120, 40)], ids=["80", "110", "120"])
async def test_the_ledgers_cut_cells_end_in_an_ellipsis_within_the_screen(
    store: Store, lang: str, size: tuple[int, int]
) -> None:
    ids = [i["id"] for i in county_rows()[0]]
    load_cases(store, ids, 40, date(2026, 11, 28))
    app = app_for(store, lang, settings=technician_settings(lang, "supervisor"))
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        await app.push_screen(LedgerScreen())
        await settle(pilot)
        lines = _lines(app)
        assert not [line for line in lines if re.search(r"[\u4e00-\u9fff] +…", line)], lines
        if size[0] < 110:
            return  # no details column
        details = {c["open_text"] for c in read_ledger(store, app.today()) if c["open_text"]}
        shown = 0
        for line in lines:
            starts = [line.find(text[:3]) for text in details if text[:3] in line]
            if not starts:
                continue
            painted = line[min(starts) :].rstrip(" ▊▎▐▌█▇▆▅▄▃▂▁")
            assert painted in details or (
                painted.endswith("…") and any(t.startswith(painted[:-1]) for t in details)
            ), (painted, line)
            shown += 1
        assert shown >= 10, lines
