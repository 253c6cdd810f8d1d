"""The demo's practice switch: F9 cuts the connection to the office, work goes on, F9 brings it back
and the unsent changes reach the office."""

from __future__ import annotations

from pathlib import Path

from cache.store import Store
from fieldkit import config
from fieldkit.demo import Relay
from fieldkit.sync import SyncClient, login
from screens.app import make_app
from screens.institution import InstitutionScreen
from tests.live_server import LiveServer, SmallOffice, small_office
from tests.test_app_fixtures import settle, wait_until
from tests.test_app_sync import quick_sync, status_text


async def test_f9_cuts_and_restores_the_demo_network(tmp_path: Path) -> None:
    office: SmallOffice = small_office(tmp_path)
    with LiveServer(office.db) as server:
        relay = Relay(server.port)
        try:
            settings = await login(f"http://127.0.0.1:{relay.port}", office.tokens["tech_a"])
            settings.language = "zh"
            store = Store.open(settings.cache_path)
            first = SyncClient(settings, store, config.load_token(settings.profile))
            await first.run_round()
            await first.aclose()
            app = make_app(settings, store, quick_sync(settings, store), demo_network=relay)
            async with app.run_test(size=(100, 30)) as pilot:
                await wait_until(pilot, lambda: "在线" in status_text(app))
                await pilot.press("f9")
                assert relay.online is False
                inst_id = office.wuling[0]
                await app.push_screen(InstitutionScreen(inst_id))
                await settle(pilot)
                await pilot.press("p")  # 平台注册 in progress, saved while cut off
                await wait_until(
                    pilot, lambda: "离线" in status_text(app) and "未发送 1" in status_text(app)
                )
                await pilot.press("f9")
                assert relay.online is True
                await wait_until(
                    pilot, lambda: "未发送 0" in status_text(app) and "在线" in status_text(app)
                )
            store.close()
        finally:
            relay.close()
    with LiveServer(office.db) as server:
        import httpx

        seen = httpx.get(
            f"{server.url}/api/v1/institutions/{office.wuling[0]}", headers=office.headers("tech_a")
        ).json()
    registered = next(s for s in seen["steps"] if s["step"] == "registered")
    assert registered["status"] == "in_progress"
