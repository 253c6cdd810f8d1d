"""The assignment list: what it shows, search as you type (initials, Chinese, credit code), filters."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from rich.cells import cell_len
from textual.widgets import Label

from cache.store import Store
from screens.widgets.virtual_table import VirtualTable
from tests.test_app_fixtures import app_for, county_rows, county_store, settle, visible_rows


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    """A real cache file with the demo county."""
    yield from county_store(tmp_path)


async def test_list_shows_the_county_with_progress_and_next_step(store: Store) -> None:
    insts, _ = county_rows()
    app = app_for(store, "zh")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        table = app.screen.query_one(VirtualTable)
        rows = visible_rows(table)
        assert str(app.screen.query_one("#count", Label).content).startswith(f"共 {len(insts)} 家")
        assert {r[0] for r in rows} <= {i["name"] for i in insts}
        assert all("/11" in r[2] for r in rows)
        assert {r[4] for r in rows} <= {"待核验", "已通过", "未通过"}


async def test_search_by_pinyin_initials_as_you_type(store: Store) -> None:
    insts, _ = county_rows()
    target = insts[7]
    prefix = target["initials"][:4]
    expected = sorted(i["name"] for i in insts if prefix in i["initials"])
    app = app_for(store, "zh")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("slash", *prefix)
        await settle(pilot)
        names = sorted(r[0] for r in visible_rows(app.screen.query_one(VirtualTable)))
        assert target["name"] in names
        assert len(names) < len(insts)
        assert set(names) >= set(expected)


async def test_search_by_chinese_name_and_credit_code(store: Store) -> None:
    insts, _ = county_rows()
    target = insts[3]
    app = app_for(store, "en")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("slash", *target["uscc"])
        await settle(pilot)
        assert [r[0] for r in visible_rows(app.screen.query_one(VirtualTable))] == [target["name"]]
        search = app.screen.query_one("#search")
        search.value = target["name"][-6:]
        await settle(pilot)
        assert target["name"] in [r[0] for r in visible_rows(app.screen.query_one(VirtualTable))]


async def test_filter_blocked_shows_only_blocked_institutions(store: Store) -> None:
    app = app_for(store, "en")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("f", "f", "f")  # all → not started → in progress → blocked
        await settle(pilot)
        rows = visible_rows(app.screen.query_one(VirtualTable))
        blocked = store.count_assignments(filter="blocked")
        assert len(rows) == blocked > 0
        assert str(app.screen.query_one("#count", Label).content).startswith(f"{blocked} ")


async def test_chinese_names_align_in_the_table(store: Store) -> None:
    app = app_for(store, "zh")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        table = app.screen.query_one(VirtualTable)
        # every rendered line of the table has the same width in cells, Chinese or not
        widths = {
            cell_len(strip.text)
            for strip in (table.render_line(y) for y in range(min(10, table.size.height)))
        }
        assert len(widths) == 1, widths


async def test_opening_a_row_shows_the_institution(store: Store) -> None:
    app = app_for(store, "zh")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        first = visible_rows(app.screen.query_one(VirtualTable))[0][0]
        await pilot.press("enter")
        await settle(pilot)
        assert first in str(app.screen.query_one("#title", Label).content)


async def test_clicking_a_filter_word_filters(store: Store) -> None:
    app = app_for(store, "zh")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        # "筛选 全部 未开始 进行中 受阻 …": 受阻 takes cells 24-27
        await pilot.click("#filter", offset=(25, 0))
        await settle(pilot)
        rows = visible_rows(app.screen.query_one(VirtualTable))
        assert len(rows) == store.count_assignments(filter="blocked") > 0
        assert all("/11" in r[2] for r in rows)


async def test_a_wide_terminal_shows_english_step_names_whole(store: Store) -> None:
    app = app_for(store, "en")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        table = app.screen.query_one(VirtualTable)
        drawn = [table.render_line(y).text for y in range(1, table.size.height)]
        steps = [row[3] for row in visible_rows(table)][: len(drawn)]
        assert "Qualification review" in steps
        assert [step for step, line in zip(steps, drawn, strict=True) if step not in line] == []
