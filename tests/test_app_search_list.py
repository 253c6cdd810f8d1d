"""What the list draws while a technician types: the rows the cache lists for each query, line by
line as the table renders them (it keeps the drawn strips of rows that did not change, so a
stale strip would show here), and the count."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from textual.widgets import Label

from cache.store import Store
from screens.widgets.virtual_table import VirtualTable
from tests.test_app_fixtures import app_for, county_store, fixed_clock, settle, wait_until

SIZE = (100, 30)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    yield from county_store(tmp_path)


def drawn(table: VirtualTable) -> list[str]:
    """The text of every row line the table renders now (header left out)."""
    lines = [
        "".join(s.text for s in table.render_line(y)).strip() for y in range(1, table.size.height)
    ]
    return [line for line in lines if line]


def expected(store: Store, query: str, rows: int) -> list[str]:
    today = fixed_clock().date()
    return [r.name for r in store.assignments(query, limit=rows, today=today)]


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_each_keystroke_draws_the_rows_the_cache_lists(store: Store, lang: str) -> None:
    app = app_for(store, lang)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        table = screen.query_one(VirtualTable)
        rows = table.size.height - 1
        await pilot.press("slash")
        typed = ""
        for key in [
            "长",
            "沙",
            "backspace",
            "w",
            "l",
            "backspace",
            "backspace",
            "不",
            "ctrl+u",
            "5",
        ]:
            await pilot.press(key)
            typed = typed[:-1] if key == "backspace" else "" if key == "ctrl+u" else typed + key
            await wait_until(pilot, lambda: not screen.loading_query)
            names = expected(store, typed, rows)
            lines = drawn(table)
            assert len(lines) == len(names), typed
            assert all(line.startswith(name[:6]) for line, name in zip(lines, names, strict=True))
            count = store.count_assignments(typed, today=fixed_clock().date())
            label = str(screen.query_one("#count", Label).content)
            assert (str(count) in label) if count > 1 else True, (typed, label)


async def test_the_count_is_drawn_right_aligned_from_its_text_and_kept_while_it_stays() -> None:
    from textual.app import App, ComposeResult

    from screens.widgets.count_label import CountLabel

    class One(App[None]):
        CSS = "CountLabel { width: 19; padding-left: 1; text-align: right; }"

        def compose(self) -> ComposeResult:
            yield CountLabel(id="count")

    app = One()
    async with app.run_test(size=(40, 3)) as pilot:
        label = app.query_one(CountLabel)
        label.update("共 7,750 家")
        await pilot.pause()
        line = label.render_line(0)
        assert "".join(s.text for s in line) == " " * 7 + "共 7,750 家"  # 18 cells inside
        assert str(label.content) == "共 7,750 家"
        label.update("共 7,750 家")  # the same count at the next key: its drawn line kept
        assert label.render_line(0) is line
        label.update("[b]1 家[/b]")  # (text, not markup)
        await pilot.pause()
        assert "".join(s.text for s in label.render_line(0)) == " " * 7 + "[b]1 家[/b]"


async def test_a_count_longer_than_its_box_shows_its_first_words_as_a_label_did() -> None:
    from textual.app import App, ComposeResult

    from screens.widgets.count_label import CountLabel

    class One(App[None]):
        CSS = "CountLabel { width: 19; padding-left: 1; text-align: right; }"

        def compose(self) -> ComposeResult:
            yield CountLabel(id="count")

    app = One()
    async with app.run_test(size=(40, 3)) as pilot:
        label = app.query_one(CountLabel)
        label.update("No institution matches")  # (the English empty list: 22 cells in 18)
        await pilot.pause()
        assert "".join(s.text for s in label.render_line(0)) == " " * 4 + "No institution"
        label.update("Nothinginthislistatall")
        await pilot.pause()
        assert "".join(s.text for s in label.render_line(0)) == "Nothinginthislista"
