"""Flows that talk to the real office server on 127.0.0.1: first run, a visit logged offline and
sent later, a rejected change shown in words and discarded."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from textual.widgets import DataTable, Input, Label

from cache.store import Store
from fieldkit import config, domain
from fieldkit.sync import BackgroundSync, SyncClient, SyncStatus, login
from screens.app import SyncFactory, services_for
from screens.institution import InstitutionScreen
from screens.widgets.status_bar import StatusBar
from screens.widgets.virtual_table import VirtualTable
from screens.widgets.wrapped import WrappedText
from tests.live_server import LiveServer, SmallOffice, free_port, small_office
from tests.test_app_fixtures import app_for, settle, visible_rows, wait_until, widget_text


@pytest.fixture
def office(tmp_path: Path) -> SmallOffice:
    """Six institutions, tech_a (李明, T0001) responsible for three in 武陵区."""
    return small_office(tmp_path)


def quick_sync(settings: config.Settings, store: Store) -> SyncFactory:
    """A background sync without the two-second debounce, so tests do not wait."""
    token = config.load_token(settings.profile)

    def build(on_status: Callable[[SyncStatus], None]) -> BackgroundSync:
        return BackgroundSync(
            SyncClient(settings, store, token), on_status, period=3600, debounce=0.05
        )

    return build


async def logged_in(url: str, token: str) -> tuple[config.Settings, Store]:
    """A profile logged in and synced once, as after a day in the office."""
    settings = await login(url, token, "default")
    settings.language = "zh"
    store, _, _ = services_for(settings)
    client = SyncClient(settings, store, token)
    await client.run_round()
    await client.aclose()
    return settings, store


def status_text(app) -> str:  # type: ignore[no-untyped-def]
    """The status line as the user reads it."""
    return str(app.screen.query_one(StatusBar).content)


async def test_first_run_checks_the_token_then_opens_the_synced_list(office: SmallOffice) -> None:
    with LiveServer(office.db) as server:
        app = app_for(None, "zh", settings=config.Settings(profile="default", language="zh"))
        async with app.run_test(size=(100, 30)) as pilot:
            await settle(pilot)
            app.screen.query_one("#url", Input).value = server.url
            app.screen.query_one("#token", Input).value = "wrong-token"
            await pilot.click("#connect")
            await settle(pilot)
            refused = app.screen.query_one("#message", WrappedText).plain
            assert refused.startswith("✗") and "令牌" in refused
            app.screen.query_one("#token", Input).value = office.tokens["tech_a"]
            await pilot.click("#connect")
            await wait_until(
                pilot,
                lambda: (
                    app.screen.query(VirtualTable)
                    and app.screen.query_one(VirtualTable).row_count == 3
                ),
            )
            names = {r[0] for r in visible_rows(app.screen.query_one(VirtualTable))}
            assert names == {
                "常德星辰教育培训学校",
                "武陵区童趣美术培训中心",
                "常德明理书法培训学校",
            }
            assert "李明" in status_text(app) and "在线" in status_text(app)
            app.store.close()  # type: ignore[union-attr]
    saved = config.load("default")
    assert saved.logged_in and saved.technician is not None and saved.technician.id == "T0001"


async def test_visit_logged_offline_is_unsent_then_sent(office: SmallOffice) -> None:
    port = free_port()
    with LiveServer(office.db, port=port) as server:
        settings, store = await logged_in(server.url, office.tokens["tech_a"])
    inst_id = office.wuling[0]
    app = app_for(store, "zh", sync=quick_sync(settings, store), settings=settings)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: "离线" in status_text(app))
        await app.push_screen(InstitutionScreen(inst_id))
        await settle(pilot)
        await pilot.press("v")
        await settle(pilot)
        app.screen.query_one("#issues").text = "前台仍有个人收款码"
        app.screen.query_one("#next-visit", Input).value = "2026-12-05"
        await pilot.press("ctrl+e")
        await settle(pilot)
        assert isinstance(app.screen, InstitutionScreen)
        assert "走访已保存" in str(app.screen.query_one("#feedback", WrappedText).plain)
        visits = widget_text(app.screen.query_one("#visits"))
        assert "前台仍有个人收款码" in visits and "未发送" in visits
        assert "未发送 1" in status_text(app)
        assert store.visits(inst_id)[0]["sync_state"] == "unsent"
        with LiveServer(office.db, port=port):
            await pilot.press("f5")
            await wait_until(
                pilot, lambda: "未发送 0" in status_text(app) and "在线" in status_text(app)
            )
            await settle(pilot)
            visits = widget_text(app.screen.query_one("#visits"))
            assert "前台仍有个人收款码" in visits and "未发送" not in visits
    assert store.visits(inst_id)[0]["sync_state"] == "synced"
    store.close()


def _stray_institution(inst_id: str) -> tuple[list[dict], list[dict]]:
    """An institution this technician's cache still holds but the office gave to someone else."""
    inst = {
        "id": inst_id,
        "name": "鼎城区音乐舞蹈培训中心",
        "uscc": "",
        "licence_no": "",
        "division_code": "430703",
        "address": "常德市鼎城区",
        "contact_name": "刘晓燕",
        "contact_phone": "13974212345",
        "kind": "non_academic",
        "pinyin": "dingchengqu",
        "initials": "dcq",
        "bank_status": "pending",
        "bank_reason": None,
        "payment": None,
        "orders": 0,
        "order_amount_fen": 0,
    }
    steps = [
        {"institution_id": inst_id, "step": k, "status": "todo", "reason": None}
        for k in domain.STEP_KEYS
    ]
    return [inst], steps


async def test_rejected_change_is_shown_in_words_and_discarded(office: SmallOffice) -> None:
    with LiveServer(office.db) as server:
        settings, store = await logged_in(server.url, office.tokens["tech_a"])
        stray = office.dingcheng[0]
        store.bulk_load(*_stray_institution(stray))
        store.set_step(stray, "registered", "in_progress", by="T0001")
        settings.language = "en"
        app = app_for(store, "en", sync=quick_sync(settings, store), settings=settings)
        async with app.run_test(size=(100, 30)) as pilot:
            await wait_until(pilot, lambda: "rejected 1" in status_text(app))
            await pilot.press("f2")
            await settle(pilot)
            rows = visible_rows(app.screen.query_one("#rejected", DataTable))
            assert len(rows) == 1
            assert rows[0][2] == "Step: Platform registration → in progress"
            assert rows[0][3] and "not_assigned" not in rows[0][3]
            await pilot.press("x")
            await pilot.pause()
            await pilot.press("y")
            await wait_until(pilot, lambda: "rejected 0" in status_text(app))
            assert app.screen.query_one("#rejected", DataTable).row_count == 0
            assert "Rejected changes (0)" in str(
                app.screen.query_one("#rejected-title", Label).content
            )
    assert store.rejected_ops() == []
    store.close()


async def test_a_change_left_sending_by_a_failed_round_reads_unsent(tmp_path: Path) -> None:
    from tests.test_app_fixtures import county_rows

    insts, steps = county_rows()
    with Store.open(tmp_path / "cache.sqlite") as store:
        store.bulk_load(insts, steps)
        store.set_step(insts[0]["id"], "parent_app", "in_progress", by="T0001")
        store.mark_sending([op["op_id"] for op in store.pending_ops(10)])
        app = app_for(store, "zh")
        async with app.run_test(size=(100, 30)) as pilot:
            await settle(pilot)
            await pilot.press("f2")
            await settle(pilot)
            rows = visible_rows(app.screen.query_one("#unsent", DataTable))
            assert [row[3] for row in rows] == ["未发送"]


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_at_80_columns_the_sync_tables_need_no_sideways_scroll(
    tmp_path: Path, lang: str
) -> None:
    from tests.test_app_fixtures import county_rows

    with Store.open(tmp_path / "cache.sqlite") as store:
        store.bulk_load(*county_rows())
        store.set_step(county_rows()[0][0]["id"], "parent_app", "in_progress", by="T0001")
        app = app_for(store, lang)
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            await pilot.press("f2")
            await settle(pilot)
            for table_id in ("#rejected", "#unsent"):
                table = app.screen.query_one(table_id, DataTable)
                assert table.virtual_size.width <= table.scrollable_content_region.width
                assert table.max_scroll_x == 0  # every column (the reason too) is in view


async def test_f9_in_the_demo_says_offline_at_once(tmp_path: Path) -> None:
    from fieldkit.demo import Relay
    from screens.app import make_app

    office = small_office(tmp_path)
    with LiveServer(office.db) as server:
        relay = Relay(server.port)
        try:
            settings, store = await logged_in(
                f"http://127.0.0.1:{relay.port}", office.tokens["tech_a"]
            )
            app = make_app(settings, store, quick_sync(settings, store), demo_network=relay)
            async with app.run_test(size=(100, 30)) as pilot:
                await wait_until(pilot, lambda: "在线" in status_text(app))
                await pilot.press("f9")
                await wait_until(pilot, lambda: "离线" in status_text(app))
                await pilot.press("f9")
                await wait_until(pilot, lambda: "在线" in status_text(app))
            store.close()
        finally:
            relay.close()


async def test_first_run_with_an_unusable_cache_says_why_and_can_try_again(
    office: SmallOffice,
) -> None:
    import sqlite3

    from cache import schema
    from fieldkit import paths

    cache_path = paths.cache_file("default")  # left by a newer fieldkit on this laptop
    Store.open(cache_path).close()
    conn = sqlite3.connect(cache_path)
    with conn:
        conn.execute(
            f"INSERT INTO {schema.MIGRATIONS_TABLE} (migration_set, name, applied_at) "
            "VALUES (?, '9999_future', '2027-01-01')",
            (schema.MIGRATION_SET,),
        )
    conn.close()
    with LiveServer(office.db) as server:
        app = app_for(None, "zh", settings=config.Settings(profile="default", language="zh"))
        async with app.run_test(size=(100, 30)) as pilot:
            await settle(pilot)
            app.screen.query_one("#url", Input).value = server.url
            app.screen.query_one("#token", Input).value = office.tokens["tech_a"]
            await pilot.click("#connect")
            await settle(pilot)
            said = app.screen.query_one("#message", WrappedText).plain
            assert said.startswith("✗") and "9999_future" in said
            assert not app.screen.query_one("#connect").disabled


async def test_sync_screen_offers_discard_only_when_something_was_rejected(tmp_path: Path) -> None:
    from screens.widgets.footer import TranslatedFooter
    from tests.test_app_fixtures import county_rows

    insts, steps = county_rows()
    with Store.open(tmp_path / "cache.sqlite") as store:
        store.bulk_load(insts, steps)
        app = app_for(store, "zh")
        async with app.run_test(size=(100, 30)) as pilot:
            await settle(pilot)
            await pilot.press("f2")
            await settle(pilot)
            labels = app.screen.query_one(TranslatedFooter).descriptions
            assert "丢弃" not in labels and "打开机构" not in labels
            store.set_step(insts[0]["id"], "parent_app", "in_progress", by="T0001")
            app.screen.reload()  # type: ignore[attr-defined]
            await settle(pilot)
            labels = app.screen.query_one(TranslatedFooter).descriptions
            assert "丢弃" not in labels and "打开机构" in labels
