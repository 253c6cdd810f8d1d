"""A supervisor's app opening a technician's photo, against the real office on 127.0.0.1.

The technician attaches with `fieldkit attach` and sends with `fieldkit sync` (their own profile);
the supervisor's app (driven by Pilot) lists the photo after its own sync without holding its
bytes, and fetches them from the office only when the photo is opened.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from textual.widgets import Label, Static

from cache.store import Store
from fieldkit import config
from fieldkit.cli import main
from fieldkit.sync import BackgroundSync, SyncClient, SyncStatus, login
from screens.app import SyncFactory
from screens.dialogs.evidence import EvidenceDialog
from screens.dialogs.preview import PreviewDialog
from screens.institution import InstitutionScreen
from tests.evidence_files import photo, write
from tests.fault_proxy import FaultProxy
from tests.live_server import LiveServer
from tests.test_app_fixtures import app_for, settle, wait_until, widget_text
from tests.test_sync_office import RealOffice, visit

FILES = "/api/v1/files/"


def background(settings: config.Settings, store: Store) -> SyncFactory:
    """The app's background sync without its debounce, so the test does not wait."""
    token = config.load_token(settings.profile)

    def build(on_status: Callable[[SyncStatus], None]) -> BackgroundSync:
        return BackgroundSync(
            SyncClient(settings, store, token), on_status, period=3600, debounce=0.05
        )

    return build


async def technician_sends_a_photo(real: RealOffice, url: str, tmp_path: Path) -> Path:
    """李娜 logs in, records a visit, `fieldkit attach`es a desk photo and `fieldkit sync`s it."""
    tech = real.add("李娜")
    real.assign(tech, real.ids)
    settings = await login(url, tech.token, profile=tech.id)
    profile = ["--profile", tech.id]
    assert await asyncio.to_thread(main, [*profile, "sync", "--quiet"]) == 0
    with Store.open(settings.cache_path) as store:
        store.create_visit(visit(tech, real.ids[0], 1, "前台张贴个人微信收款码"))
    desk = write(tmp_path / "phone" / "前台收款码.jpg", photo(7, size=(1600, 1200)))
    assert (
        await asyncio.to_thread(main, [*profile, "attach", "--visit", f"{tech.id}-v1", str(desk)])
        == 0
    )
    assert await asyncio.to_thread(main, [*profile, "sync", "--quiet"]) == 0
    with Store.open(settings.cache_path) as store:
        [sent] = store.attachments("visit", f"{tech.id}-v1")
        assert sent["state"] == "sent"
        return store.file_path(sent["sha256"])


async def test_a_supervisor_opens_a_technicians_photo_fetched_only_when_opened(
    tmp_path: Path,
) -> None:
    real = RealOffice(tmp_path, institutions=2)
    with LiveServer(real.db) as server:
        kept = await technician_sends_a_photo(real, server.url, tmp_path)
        boss = real.add("赵主管", supervisor=True)
        fetched: list[str] = []
        with FaultProxy(server.url, enabled=False) as proxy:
            proxy.on_request = lambda method, path: (
                fetched.append(path) if path.startswith(FILES) else None
            )
            settings = await login(server.url, boss.token, profile=boss.id)
            settings = replace(settings, server_url=proxy.url, language="zh")
            store = Store.open(settings.cache_path)
            app = app_for(store, "zh", sync=background(settings, store), settings=settings)
            async with app.run_test(size=(120, 40)) as pilot:
                await wait_until(pilot, lambda: bool(store.attachments(institution_id=real.ids[0])))
                [row] = store.attachments(institution_id=real.ids[0])
                assert row["name"] == "前台收款码.jpg" and not row["here"]
                assert store.local_file(row["sha256"]) is None  # listed at sync, not fetched
                await app.push_screen(InstitutionScreen(real.ids[0]))
                await settle(pilot)
                await pilot.press("e")
                await wait_until(
                    pilot,
                    lambda: (
                        isinstance(app.screen, EvidenceDialog)
                        and "前台收款码.jpg"
                        in widget_text(app.screen.query_one("#evidence-rows", Static), 120)
                    ),
                )
                listed = widget_text(app.screen.query_one("#evidence-rows", Static), 120)
                assert "办公室" in listed  # the file is at the office, not on this laptop
                assert fetched == []
                await pilot.press("enter")  # the empty field: open the selected file
                await wait_until(
                    pilot,
                    lambda: (
                        isinstance(app.screen, PreviewDialog) and bool(app.screen.query("#picture"))
                    ),
                )
                facts = str(app.screen.query_one("#facts", Label).render())
                assert row["sha256"] in facts
                assert fetched == [FILES + row["sha256"]]
                here = store.local_file(row["sha256"])
                assert here is not None and here.read_bytes() == kept.read_bytes()
                assert hashlib.sha256(here.read_bytes()).hexdigest() == row["sha256"]
                await pilot.press("escape")
                await settle(pilot)
                await pilot.press("enter")  # opened again: read here, not fetched twice
                await wait_until(
                    pilot,
                    lambda: (
                        isinstance(app.screen, PreviewDialog) and bool(app.screen.query("#picture"))
                    ),
                )
                assert fetched == [FILES + row["sha256"]]
            store.close()
