"""The list's table hands Textual its kept lines itself (`VirtualTable.render_lines`), skipping
Textual's per-line styles pipeline: every line must be what that pipeline would have drawn, cell
by cell and style by style (Chinese text, styled parts, empty parts, the cursor row, focus, rows
past the end, scrolled down and sideways, a crop of the widget), and a table given a box
(padding) goes through Textual's own pipeline."""

from __future__ import annotations

from typing import Any

import pytest
from rich.cells import get_character_cell_size
from textual.app import App, ComposeResult
from textual.geometry import Region
from textual.strip import Strip
from textual.widget import Widget

from screens.widgets.virtual_table import ColumnSpec, VirtualTable

COLUMNS = [ColumnSpec("名称", 12, fill=True), ColumnSpec("区县", 8), ColumnSpec("状态", 8)]


def rows(count: int) -> tuple[list[str], list[list[Any]]]:
    keys = [f"i{n}" for n in range(count)]
    cells = [
        [
            [(f"长沙市星辰培训学校{n}", "")],
            [("芙蓉区", "dim"), ("", "dim"), ("·", "dim")],  # an empty part draws nothing
            [("未通过", "bold red")] if n % 3 else [("passed", "green"), ("  ", "")],
        ]
        for n in range(count)
    ]
    return keys, cells


class TableApp(App[None]):
    def __init__(self, css: str = "") -> None:
        super().__init__()
        self.extra_css = css

    def compose(self) -> ComposeResult:
        yield VirtualTable(id="t")

    def on_mount(self) -> None:
        if self.extra_css:
            self.stylesheet.add_source(self.extra_css)
            self.refresh_css()
        table = self.query_one(VirtualTable)
        table.set_columns(COLUMNS)
        table.set_rows(*rows(25))


def cells(strip: Strip) -> list[tuple[str, Any]]:
    """A line as (character, style) per terminal cell (wide characters take two)."""
    out: list[tuple[str, Any]] = []
    for text, style, _ in strip:
        for char in text:
            out += [(char, style)] * get_character_cell_size(char)
    return out


def same_as_textual(table: VirtualTable, crop: Region) -> None:
    """The table's lines for `crop` against Textual's own pipeline's, on the table's columns
    (Textual's also cover the scrollbar's gutter, which the scrollbar paints over)."""
    ours = table.render_lines(crop)
    theirs = Widget.render_lines(table, crop)
    assert len(ours) == len(theirs) == crop.height
    for y, (mine, textual) in enumerate(zip(ours, theirs, strict=True)):
        assert mine.cell_length <= textual.cell_length
        assert all(segment.text for segment in mine), "an empty segment (Textual: invalid)"
        assert cells(mine) == cells(textual)[: mine.cell_length], (crop, y)
        assert len(cells(mine)) == min(crop.width, table.scrollable_content_region.width - crop.x)


def whole(table: VirtualTable) -> Region:
    return Region(0, 0, *table.size)


@pytest.mark.parametrize("size", [(70, 14), (30, 10)])  # (30: the columns scroll sideways)
async def test_the_tables_lines_are_what_textuals_pipeline_draws(size: tuple[int, int]) -> None:
    app = TableApp()
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        table = app.query_one(VirtualTable)
        assert table._plain_box()
        same_as_textual(table, whole(table))  # unfocused, cursor on the first row
        table.focus()
        await pilot.pause()
        same_as_textual(table, whole(table))
        await pilot.press("down", "down", "pagedown")
        await pilot.pause()
        assert table.scroll_offset.y > 0
        same_as_textual(table, whole(table))
        same_as_textual(table, Region(3, 2, 12, 4))  # a crop inside the widget
        if table.virtual_size.width > table.size.width:
            table.scroll_to(x=5, animate=False)
            await pilot.pause()
            assert table.scroll_offset.x == 5
            same_as_textual(table, whole(table))
        table.set_rows(*rows(3))  # fewer rows than lines: blank lines below them
        await pilot.pause()
        same_as_textual(table, whole(table))
        app.theme = "textual-light" if app.theme != "textual-light" else "nord"
        await pilot.pause()
        same_as_textual(table, whole(table))


async def test_a_table_with_a_box_is_drawn_by_textuals_pipeline() -> None:
    app = TableApp("VirtualTable { padding: 0 1; }")
    async with app.run_test(size=(60, 10)) as pilot:
        await pilot.pause()
        table = app.query_one(VirtualTable)
        assert not table._plain_box()
        region = whole(table)
        assert [cells(s) for s in table.render_lines(region)] == [
            cells(s) for s in Widget.render_lines(table, region)
        ]
