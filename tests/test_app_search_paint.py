"""What the terminal shows while a technician types in the list's search box: every frame the
app writes is read back into a grid of cells (tests/painted.py), so a row left stale on screen,
a typed character painted without its list, or a key lost after the slash would show here."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from textual import events
from textual.widgets import Input

from cache.store import Store
from screens.widgets.virtual_table import VirtualTable
from tests.painted import PaintedScreen
from tests.test_app_fixtures import app_for, county_store, fixed_clock, settle, wait_until
from tests.test_app_search_worker import Busy

SIZE = (100, 30)
TOP = 4  # the list's first row on screen: status bar, search line, controls, header


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    yield from county_store(tmp_path)


def names(store: Store, query: str, rows: int) -> list[str]:
    return [r.name for r in store.assignments(query, limit=rows, today=fixed_clock().date())]


def shows_list(lines: list[str], expected: list[str], rows: int) -> bool:
    """Whether the screen's list rows start with these names, and the rows below are empty."""
    body = [line.strip() for line in lines[TOP : TOP + rows]]
    return all(
        line.startswith(name[:6]) for line, name in zip(body, expected, strict=False)
    ) and all(
        not line or line.startswith("▁")
        for line in body[len(expected) :]
        if "institution" not in line
    )


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_each_key_paints_its_list_and_nothing_stale_stays_on_screen(
    store: Store, lang: str
) -> None:
    app = app_for(store, lang)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        painted = PaintedScreen.watch(app)
        screen = app.screen
        table = screen.query_one(VirtualTable)
        rows = table.size.height - 1
        await pilot.press("slash")
        typed = ""
        # narrowing, widening, a single match, nothing, and back to everything (the scrollbar
        # comes and goes, the rows below the last one must be blanked)
        for key in ["w", "l", "backspace", "长", "ctrl+u", "5", "2", "4", "3", "0", "ctrl+u"]:
            typed = typed[:-1] if key == "backspace" else "" if key == "ctrl+u" else typed + key
            await pilot.press(key)
            await wait_until(pilot, lambda: not screen.loading_query)
            await pilot.pause(0.05)
            lines = painted.lines()
            assert lines == PaintedScreen.repainted(app), typed  # no cell left stale
            assert shows_list(lines, names(store, typed, rows), rows), (typed, lines[TOP:])
            assert lines[1].strip().startswith(typed) or not typed, lines[1]


async def test_a_keystroke_and_its_list_are_painted_in_one_frame(store: Store) -> None:
    app = app_for(store, "zh")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        rows = screen.query_one(VirtualTable).size.height - 1
        await pilot.press("slash")
        await settle(pilot)
        painted = PaintedScreen.watch(app)
        typed = ""
        for key in "wlj":
            typed += key
            before = len(painted.frames)
            await pilot.press(key)
            await wait_until(pilot, lambda: not screen.loading_query)
            await pilot.pause(0.05)
            frames = painted.frames[before:]
            echoed = [f for f in frames if f[1].strip().startswith(typed)]
            assert echoed, typed
            # the first frame that shows the typed text already shows that text's list
            assert shows_list(echoed[0], names(store, typed, rows), rows), (typed, echoed[0])


async def test_keys_typed_right_after_the_slash_reach_the_search_box(store: Store) -> None:
    app = app_for(store, "en")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        # as a terminal delivers a fast typist's keys: several in one read, none waited for
        for key, char in [("slash", "/"), ("w", "w"), ("l", "l")]:
            app.post_message(events.Key(key, char))
        await wait_until(pilot, lambda: not app.screen.loading_query)
        assert app.screen.query_one("#search", Input).value == "wl"
        assert app.screen.query_text == "wl"
        await pilot.press("slash")  # in the search box a slash is text
        assert app.screen.query_one("#search", Input).value == "wl/"


async def test_typing_is_painted_even_while_the_cache_is_busy(store: Store) -> None:
    app = app_for(store, "zh")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        painted = PaintedScreen.watch(app)
        screen = app.screen
        rows = screen.query_one(VirtualTable).size.height - 1
        everything, wl = names(store, "", rows), names(store, "wl", rows)
        with Busy(store):
            await pilot.press("slash", "w", "l")
            await pilot.pause(0.3)  # past the hold: the typing is painted without its list
            assert painted.lines()[1].strip().startswith("wl")
            assert shows_list(painted.lines(), everything, rows)
        await wait_until(pilot, lambda: not screen.loading_query)
        await pilot.pause(0.05)
        assert shows_list(painted.lines(), wl, rows)


async def test_moving_and_scrolling_through_a_searched_list_leaves_nothing_stale(
    store: Store,
) -> None:
    app = app_for(store, "en")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        painted = PaintedScreen.watch(app)
        screen = app.screen
        table = screen.query_one(VirtualTable)
        await pilot.press("slash", "w", "escape")
        await wait_until(pilot, lambda: not screen.loading_query)
        for key in ["down", "down", "pagedown", "pagedown", "end", "up", "home"]:
            await pilot.press(key)
            await settle(pilot)
            await pilot.pause(0.05)
            assert painted.lines() == PaintedScreen.repainted(app), key
            top = table.scroll_offset.y
            shown = [table.row_text(i)[0] for i in range(top, min(top + 5, table.row_count))]
            body = [line.strip() for line in painted.lines()[TOP : TOP + 5]]
            assert all(line.startswith(name[:6]) for line, name in zip(body, shown, strict=True))


async def test_a_row_that_moves_keeps_its_drawn_line_until_its_cells_change() -> None:
    from textual.app import App, ComposeResult

    from screens.widgets.virtual_table import ColumnSpec

    class One(App[None]):
        def compose(self) -> ComposeResult:
            yield VirtualTable(id="t")

    def row(name: str, done: str = "1/11") -> list[list[tuple[str, str]]]:
        return [[(name, "")], [(done, "green")]]

    def text(strip: object) -> str:
        return "".join(segment.text for segment in strip)  # type: ignore[attr-defined]

    app = One()
    async with app.run_test(size=(60, 12)) as pilot:
        table = app.query_one(VirtualTable)
        table.set_columns([ColumnSpec("name", 10, fill=True), ColumnSpec("done", 5)])
        table.set_rows(list("abcdef"), [row(k * 3) for k in "abcdef"])
        await pilot.pause()
        e, f = table._row_strip(4), table._row_strip(5)
        # as a search narrows: e and f move up two rows (their shading is the same there)
        table.set_rows(list("azef"), [row("aaa"), row("zzz"), row("eee"), row("fff")])
        await pilot.pause()
        assert table._row_strip(2) is e and table._row_strip(3) is f
        assert text(table.render_line(3)).strip().startswith("eee")  # line 0 is the header
        # e's progress changed: drawn again
        table.set_rows(list("azef"), [row("aaa"), row("zzz"), row("eee", "2/11"), row("fff")])
        await pilot.pause()
        assert table._row_strip(2) is not e
        assert "2/11" in text(table.render_line(3))


async def test_the_scrollbar_is_drawn_again_only_when_its_thumb_can_change() -> None:
    from textual.app import App, ComposeResult
    from textual.strip import Strip

    from screens.widgets.virtual_table import ColumnSpec

    class One(App[None]):
        def compose(self) -> ComposeResult:
            yield VirtualTable(id="t")

    def thumb(strips: list[Strip]) -> bool:
        """Whether the drawn scrollbar shows a thumb (reversed cells or a partial bar)."""
        return any(s.style and (s.style.reverse or s.text.strip()) for st in strips for s in st)

    app = One()
    async with app.run_test(size=(40, 12)) as pilot:  # 11 rows under the header
        table = app.query_one(VirtualTable)
        table.set_columns([ColumnSpec("name", 10, fill=True)])
        bar = table.vertical_scrollbar
        drawn = 0
        render = bar.render

        def spy() -> object:  # (the bar's picture made anew, ~1 ms: not its kept lines)
            nonlocal drawn
            drawn += 1
            return render()

        bar.render = spy  # type: ignore[method-assign]
        for rows, shown in [(30, True), (6, False), (3, False), (8, False), (30, True)]:
            keys = [f"k{n}" for n in range(rows)]
            before = drawn
            table.set_rows(keys, [[[(k, "")]] for k in keys], keep_cursor=False)
            await pilot.pause()
            await pilot.pause()
            if rows in (3, 8):  # all rows fitted before and after: the bar is left as it was
                assert drawn == before, rows
            else:
                assert drawn > before, rows
            lines = bar.render_lines(bar.size.region)
            assert thumb(lines) is shown, rows
