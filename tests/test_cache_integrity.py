"""The whole-file integrity check runs after an unclean shutdown or once a week, not at every start
(start must not grow with the cache); a damaged file is still found and salvaged then."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from cache import integrity
from cache.salvage import open_or_salvage
from cache.store import Store
from fieldkit import config, paths
from tests.test_app_fixtures import county_rows, technician_settings

ROOT = Path(__file__).resolve().parents[1]

# The app as `fieldkit` starts it (services_for: open_or_salvage, the background sync to an office
# that does not answer), headless; it says when the list is shown, then quits or waits to be killed.
APP = textwrap.dedent(
    """
    import sys
    sys.path.insert(0, {root!r})
    from fieldkit import config
    from screens.app import make_app, services_for
    from screens.assignments import AssignmentsScreen

    settings = config.load("default")
    store, sync, notice = services_for(settings)

    async def pilot(p):
        while not (isinstance(p.app.screen, AssignmentsScreen) and p.app.screen.pages_shown):
            await p.pause(0.02)
        print("shown", flush=True)
        if {then!r} == "quit":
            p.app.exit()
            return
        while True:
            await p.pause(0.1)

    app = make_app(settings, store, sync, notice=notice)
    try:
        app.run(headless=True, size=(100, 30), auto_pilot=pilot)
    finally:
        store.close()
    """
)


@pytest.fixture
def cache() -> Path:
    """A logged-in technician's profile whose cache holds the demo county (never checked)."""
    config.save(technician_settings())
    config.save_token("default", "t" * 32)
    path = paths.cache_file("default")
    with Store.open(path) as store:
        store.bulk_load(*county_rows())
    return path


def _run_app(then: str) -> int:
    """Start the app in its own process; quit once the list is shown, or SIGKILL it there."""
    child = subprocess.Popen(
        [sys.executable, "-c", APP.format(root=str(ROOT), then=then)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        line = child.stdout.readline()
        assert line.strip() == "shown", child.stderr.read() if child.stderr else ""
        if then == "kill":
            os.kill(child.pid, signal.SIGKILL)  # a flat battery with the app open
        return child.wait(timeout=60)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()


def _checked_at(path: Path) -> str | None:
    with Store.open(path) as store:
        return store.get_meta(integrity.CHECKED_KEY)


def _marks(path: Path) -> list[Path]:
    return sorted(path.parent.glob(f"{path.name}.open-*"))


def test_after_a_clean_exit_the_next_start_does_not_read_the_whole_file(cache: Path) -> None:
    assert _run_app("quit") == 0  # first start: never checked, so it checks
    first = _checked_at(cache)
    assert first is not None
    assert integrity.clean_file(cache).exists() and _marks(cache) == []
    assert _run_app("quit") == 0
    assert _checked_at(cache) == first  # no second check
    assert integrity.clean_file(cache).exists()


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")
def test_after_the_app_is_killed_the_next_start_checks_the_file(cache: Path) -> None:
    assert _run_app("quit") == 0
    first = _checked_at(cache)
    assert _run_app("kill") == -signal.SIGKILL
    assert not integrity.clean_file(cache).exists()
    assert len(_marks(cache)) == 1  # the killed app's mark stays behind
    assert _run_app("quit") == 0
    assert _checked_at(cache) != first
    assert integrity.clean_file(cache).exists()
    assert _marks(cache) == []  # the dead process's mark was cleared


def test_a_week_after_the_last_check_the_next_start_checks_again(cache: Path) -> None:
    store, _ = open_or_salvage(cache)
    store.close()
    week_ago = datetime.now(UTC) - timedelta(days=7, hours=1)
    with Store.open(cache) as store:
        integrity.checked(store, week_ago)
    store, _ = open_or_salvage(cache)
    store.close()
    again = _checked_at(cache)
    assert again is not None and datetime.fromisoformat(again) > week_ago + timedelta(days=7)
    store, _ = open_or_salvage(cache)  # a day (here: a moment) later: no check
    store.close()
    assert _checked_at(cache) == again


def test_the_clean_mark_waits_for_the_last_store_of_the_file_to_close(cache: Path) -> None:
    first, _ = open_or_salvage(cache)
    second, _ = open_or_salvage(cache)  # the app and a `fieldkit sync` of the same process
    assert _marks(cache) == [integrity.open_file(cache)]
    second.close()
    assert not integrity.clean_file(cache).exists()  # the first still has it open
    first.close()
    assert integrity.clean_file(cache).exists() and _marks(cache) == []


def test_a_damaged_file_after_an_unclean_shutdown_is_salvaged(cache: Path) -> None:
    store, _ = open_or_salvage(cache)
    store.close()
    integrity.open_file(cache, 999_999_999).touch()  # a process that was killed with it open
    integrity.clean_file(cache).unlink()
    size = cache.stat().st_size
    with cache.open("r+b") as f:  # garbage over a page in the middle of the file
        f.seek(size // 2 // 4096 * 4096)
        f.write(b"\xde\xad" * 2048)
    store, report = open_or_salvage(cache)
    store.close()
    assert report is not None and "damaged" in report.message("en")
    assert list(cache.parent.glob("cache.sqlite.damaged-*"))
    assert _checked_at(cache) is not None  # the fresh file counts as checked


def test_damage_seen_by_status_makes_the_next_start_check(cache: Path) -> None:
    store, _ = open_or_salvage(cache)
    store.close()
    size = cache.stat().st_size
    with cache.open("r+b") as f:  # a failing disk, between two clean runs
        f.seek(size // 2 // 4096 * 4096)
        f.write(b"\xde\xad" * 2048)
    with Store.open(cache) as store:
        assert store.quick_check() is not None  # what `fieldkit status` asks
    assert not integrity.clean_file(cache).exists()
    store, report = open_or_salvage(cache)
    store.close()
    assert report is not None  # found at opening, before anything was written to it
