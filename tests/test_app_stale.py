"""Nothing shown goes stale: a visit saved offline says it was sent once a background sync sends
it, and the status bar's unsent count follows the sync and changes another process (the CLI in
another terminal) makes to the same cache, at 80x24."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from textual.widgets import Input

from cache.store import Store
from fieldkit import config
from fieldkit.sync import BackgroundSync, SyncClient, SyncStatus
from fieldkit.sync.background import Backoff
from screens.app import SyncFactory
from screens.i18n import tr
from screens.institution import InstitutionScreen
from screens.widgets.wrapped import WrappedText
from tests.live_server import LiveServer, free_port, small_office
from tests.test_app_fixtures import app_for, county_rows, county_store, settle, wait_until
from tests.test_app_sync import logged_in, status_text


def background_sync(settings: config.Settings, store: Store) -> SyncFactory:
    """The app's background sync, with short waits: it finds the office back on its own."""
    token = config.load_token(settings.profile)

    def build(on_status: Callable[[SyncStatus], None]) -> BackgroundSync:
        return BackgroundSync(
            SyncClient(settings, store, token),
            on_status,
            period=3600,
            debounce=0.05,
            backoff=Backoff(base=0.2, cap=0.4),
        )

    return build


async def test_a_visit_saved_offline_says_sent_once_a_background_sync_sent_it(
    tmp_path: Path,
) -> None:
    office = small_office(tmp_path)
    port = free_port()
    with LiveServer(office.db, port=port) as server:
        settings, store = await logged_in(server.url, office.tokens["tech_a"])
    app = app_for(store, "zh", sync=background_sync(settings, store), settings=settings)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: "离线" in status_text(app))
        await app.push_screen(InstitutionScreen(office.wuling[0]))
        await settle(pilot)
        await pilot.press("v")
        await settle(pilot)
        app.screen.query_one("#issues").text = "前台仍有个人收款码"
        app.screen.query_one("#next-visit", Input).value = "2026-12-05"
        await pilot.press("ctrl+e")
        await settle(pilot)
        feedback = app.screen.query_one("#feedback", WrappedText)
        assert feedback.plain == tr("visit.saved", "zh")
        await wait_until(pilot, lambda: "未发送 1" in status_text(app))
        shown: list[tuple[bool, int]] = []  # (sending, unsent) of every status shown from now on
        app.watch(app, "status_view", lambda v: shown.append((v.sending, v.unsent)), init=False)
        with LiveServer(office.db, port=port):  # the office answers again: no key pressed
            await wait_until(pilot, lambda: feedback.plain == tr("visit.sent_now", "zh"), 400)
            assert "未发送 0" in status_text(app) and "在线" in status_text(app)
        assert (True, 1) in shown  # while it was being sent it still counted as unsent
        assert all(unsent == 1 for sending, unsent in shown if sending), shown
    store.close()


async def test_the_unsent_count_follows_changes_made_by_another_process(tmp_path: Path) -> None:
    store = next(county_store(tmp_path))
    inst = county_rows()[0][0]["id"]
    app = app_for(store, "zh")  # no sync at all: only the cache can tell
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: "未发送 0" in status_text(app))
        with Store.open(tmp_path / "cache.sqlite") as other:  # `fieldkit …` in another terminal
            other.set_step(inst, "parent_app", "in_progress", by="T0001")
        await wait_until(pilot, lambda: "未发送 1" in status_text(app))
    store.close()


async def test_a_change_made_by_another_process_counts_as_unsent_while_it_is_being_sent(
    tmp_path: Path,
) -> None:
    office = small_office(tmp_path)
    port = free_port()
    with LiveServer(office.db, port=port) as server:
        settings, store = await logged_in(server.url, office.tokens["tech_a"])
    app = app_for(store, "zh", sync=background_sync(settings, store), settings=settings)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: "离线" in status_text(app))
        with Store.open(settings.cache_path) as other:  # `fieldkit …` in another terminal
            other.set_step(office.wuling[0], "parent_app", "in_progress", by="T0001")
        await wait_until(pilot, lambda: "未发送 1" in status_text(app))
        shown: list[tuple[bool, int]] = []
        app.watch(app, "status_view", lambda v: shown.append((v.sending, v.unsent)), init=False)
        with LiveServer(office.db, port=port):
            await wait_until(pilot, lambda: "未发送 0" in status_text(app), 400)
        assert (True, 1) in shown and all(unsent == 1 for sending, unsent in shown if sending)
    store.close()
