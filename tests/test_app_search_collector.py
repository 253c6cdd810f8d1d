"""Python's cycle collector and the keystroke: start-up's objects are kept out of collections once
the start's background work is done (a whole-heap collection over them cost 40-100 ms inside a
keystroke on a busy machine), and no collection runs while a keystroke's list is being answered
and painted; the collector is on again once the frame is painted, or the screen left."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cache.store import Store
from screens.institution import InstitutionScreen
from tests.test_app_fixtures import app_for, county_rows, county_store, settle, wait_until


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    yield from county_store(tmp_path)


@pytest.fixture(autouse=True)
def collector_on() -> Iterator[None]:
    """Each test starts and ends with the collector on, as a Python process has it."""
    gc.enable()
    yield
    gc.enable()


def watch_collector(screen: Any) -> list[bool]:
    """Whether the collector was on each time the screen queried the cache for a keystroke (in
    the worker, while the keystroke's frame is held)."""
    seen: list[bool] = []
    query_page = screen.query_page

    def watched(offset: int) -> Any:
        seen.append(gc.isenabled())
        return query_page(offset)

    screen.query_page = watched
    return seen


async def test_no_collection_while_a_keystroke_is_answered_and_on_again_once_painted(
    store: Store,
) -> None:
    app = app_for(store, "zh")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        assert gc.isenabled()
        screen = app.screen
        seen = watch_collector(screen)
        await pilot.press("slash")
        for key in ["w", "l", "backspace", "ctrl+u"]:
            await pilot.press(key)
            await wait_until(pilot, lambda: not screen.loading_query)
            await pilot.pause(0.05)
            assert gc.isenabled(), key  # the frame is painted: collecting again
        assert len(seen) == 4 and not any(seen)


async def test_the_collector_waits_for_the_keystrokes_frame_to_be_written(store: Store) -> None:
    """Right after the frame is painted Textual's output thread writes it: a collection then
    (0.2-2 ms holding the interpreter) would hold that write back, so the collector comes back
    a little later, before the next key."""
    from screens.widgets.search_box import COLLECT_AFTER

    app = app_for(store, "zh")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        screen = app.screen
        await pilot.press("slash")
        await settle(pilot)
        after_frame: list[bool] = []
        display = app._display

        def _display(target: Any, renderable: Any) -> None:
            display(target, renderable)
            # (runs with the screen's after-refresh callbacks, the hold's own among them)
            screen.call_after_refresh(lambda: after_frame.append(gc.isenabled()))

        app._display = _display  # type: ignore[method-assign]
        await pilot.press("w")
        await wait_until(pilot, lambda: bool(after_frame))
        assert after_frame[0] is False
        await pilot.pause(COLLECT_AFTER + 0.05)
        assert gc.isenabled()


async def test_a_collector_turned_off_elsewhere_stays_off(store: Store) -> None:
    """A sync's pull turns the collector off for its length: a keystroke meanwhile leaves that
    to the pull."""
    app = app_for(store, "en")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        screen = app.screen
        await pilot.press("slash")
        gc.disable()
        await pilot.press("w")
        await wait_until(pilot, lambda: not screen.loading_query)
        await pilot.pause(0.6)  # past the hold's own fallback
        assert not gc.isenabled()


async def test_the_collector_is_on_again_when_a_keystroke_opens_another_screen(
    store: Store,
) -> None:
    """Enter right after the last key opens the single match: the list never paints that
    frame, and the collector comes back anyway."""
    target = county_rows()[0][5]
    app = app_for(store, "zh")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("slash", *target["uscc"][-6:], "enter")
        await wait_until(pilot, lambda: isinstance(app.screen, InstitutionScreen))
        await pilot.pause(0.6)
        assert gc.isenabled()


async def test_start_ups_objects_are_kept_out_of_collections(store: Store) -> None:
    app = app_for(store, "zh")
    frozen_at_start = gc.get_freeze_count()  # (the app freezes what exists when it is made)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)  # the list painted, the index warmed, the sync built
        # the screens, widgets and styles made since, and the sync's modules
        assert gc.get_freeze_count() > frozen_at_start + 1000
