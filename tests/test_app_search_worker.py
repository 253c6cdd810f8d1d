"""Searching never runs on the event loop: a keystroke is shown while the cache is busy elsewhere,
the list follows when the cache answers, and only the latest query's answer is shown."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from textual.widgets import Input, Label

from cache.store import Store
from screens.widgets.virtual_table import VirtualTable
from tests.test_app_fixtures import (
    app_for,
    county_rows,
    county_store,
    settle,
    visible_rows,
    wait_until,
)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    """A real cache file with the demo county."""
    yield from county_store(tmp_path)


class Busy:
    """Another thread holding the cache (as a long sync write does) until released."""

    def __init__(self, store: Store) -> None:
        self.held, self.release = threading.Event(), threading.Event()
        self.thread = threading.Thread(target=self._hold, args=(store,), daemon=True)

    def _hold(self, store: Store) -> None:
        with store._lock:  # the lock every query of the cache takes
            self.held.set()
            self.release.wait(30)

    def __enter__(self) -> Busy:
        self.thread.start()
        assert self.held.wait(10)
        return self

    def __exit__(self, *exc: object) -> None:
        self.release.set()
        self.thread.join(10)


async def test_typing_goes_on_while_the_cache_is_busy_and_the_latest_query_wins(
    store: Store,
) -> None:
    insts, _ = county_rows()
    target = insts[5]
    word = target["uscc"][-6:]
    app = app_for(store, "zh")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        screen = app.screen
        before = visible_rows(screen.query_one(VirtualTable))
        with Busy(store):
            await pilot.press("slash", *word)  # would hang here if a keystroke queried inline
            await pilot.pause(0.1)
            assert screen.query_one("#search", Input).value == word
            assert visible_rows(screen.query_one(VirtualTable)) == before  # not answered yet
            assert screen.loading_query
        await wait_until(pilot, lambda: not screen.loading_query)
        assert [r[0] for r in visible_rows(screen.query_one(VirtualTable))] == [target["name"]]
        assert str(screen.query_one("#count", Label).content) == "共 1 家"


async def test_the_first_word_after_start_finds_the_index_already_built(store: Store) -> None:
    app = app_for(store, "en")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)  # the list screen's warm-up worker has run
        assert store._matcher.ready  # the index was built before the first keystroke
        await pilot.press("slash", *"wl")
        await wait_until(pilot, lambda: not app.screen.loading_query)
        assert app.screen.total == store.count_assignments("wl")


async def test_a_query_the_cache_fails_is_said_in_words_and_typing_goes_on(
    store: Store,
) -> None:
    """The cache file changed under the app (its institutions table gone): the failed query is a
    notification in the user's language, the typed text stays, and the app keeps running."""
    import sqlite3

    app = app_for(store, "en")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        other = sqlite3.connect(store.path)
        other.execute("ALTER TABLE institutions RENAME TO institutions_gone")
        other.commit()
        other.close()
        await pilot.press("slash", "w", "l")
        await wait_until(
            pilot, lambda: any("did not work" in str(n.message) for n in app._notifications)
        )
        said = [str(n.message) for n in app._notifications if "did not work" in str(n.message)]
        assert said and "Nothing already saved was lost." in said[0]
        assert app.screen.query_one("#search", Input).value == "wl"
        assert app.is_running
