"""Shared pieces of the app tests: a real cache filled from the generated province, a fixed clock."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any

from cache.store import Store
from fieldkit import config
from fieldkit.demo_data import generate_province
from screens.app import FieldkitApp, SyncFactory, make_app
from screens.list_search import ListSearch

CST = timezone(timedelta(hours=8))
FIXED_NOW = datetime(2026, 11, 28, 9, 30, tzinfo=CST)
COUNTY = "430702"  # 常德市武陵区, the demo technician's county


@lru_cache(maxsize=1)
def province() -> Any:
    """The generated province (deterministic; built once per test session)."""
    return generate_province()


def county_rows(county: str = COUNTY) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Institutions and steps of one county, without the server-only keys."""
    prov = province()
    insts = [
        {k: v for k, v in i.items() if k not in ("account_no", "name_latin")}
        for i in prov.institutions
        if i["division_code"] == county
    ]
    ids = {i["id"] for i in insts}
    return insts, [s for s in prov.steps if s["institution_id"] in ids]


def all_rows() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The whole province, without the server-only keys."""
    prov = province()
    insts = [
        {k: v for k, v in i.items() if k not in ("account_no", "name_latin")}
        for i in prov.institutions
    ]
    return insts, list(prov.steps)


def technician_settings(lang: str = "zh", role: str = "technician") -> config.Settings:
    """Settings of a logged-in technician (no server needed until sync is tested)."""
    return config.Settings(
        profile="default",
        server_url="http://127.0.0.1:9",
        office_name="常德市教育局",
        office_public_key="AAAA",
        technician=config.Technician("T0001", "王小明", role, COUNTY),
        language=lang,
    )


def fixed_clock() -> datetime:
    """Always 2026-11-28 09:30 +08:00, so snapshots are stable."""
    return FIXED_NOW


def county_store(tmp_path: Path) -> Iterator[Store]:
    """A real cache file holding the ~60 institutions of the demo county (use in a fixture)."""
    store = Store.open(tmp_path / "cache.sqlite")
    store.bulk_load(*county_rows())
    yield store
    store.close()


def app_for(
    store: Store | None,
    lang: str = "zh",
    sync: SyncFactory | None = None,
    settings: config.Settings | None = None,
) -> FieldkitApp:
    """The real app on a real cache, with a fixed clock."""
    return make_app(settings or technician_settings(lang), store, sync, clock=fixed_clock)


async def settle(pilot: Any) -> None:
    """Let the screens' workers finish and their messages be handled (background sync runs on)."""
    for _ in range(3):
        await pilot.pause()
        pending = [w for w in pilot.app.workers if w.group != "sync" and not w.is_finished]
        if pending:
            await asyncio.gather(*(w.wait() for w in pending), return_exceptions=True)
        for search in [getattr(s, "search", None) for s in pilot.app.screen_stack]:
            if isinstance(search, ListSearch) and search.busy:  # the list's search thread
                await asyncio.to_thread(search.wait_idle, 30)
    await pilot.pause()


async def wait_until(pilot: Any, condition: Any, rounds: int = 200) -> None:
    """Pump the app until condition() holds (bounded: ~rounds × 50 ms), else fail."""
    for _ in range(rounds):
        await settle(pilot)
        if condition():
            return
        await pilot.pause(0.05)
    raise AssertionError("the app never reached the expected state")


def visible_rows(table: Any) -> list[list[str]]:
    """The rows of a table (DataTable or the list's VirtualTable) as the plain text a user reads."""
    if hasattr(table, "row_text"):
        return [table.row_text(i) for i in range(table.row_count)]
    return [
        [str(getattr(cell, "plain", cell)) for cell in table.get_row_at(i)]
        for i in range(table.row_count)
    ]


def widget_text(widget: Any, width: int = 100) -> str:
    """What a Static/Label shows, as plain text (rendered by Rich at `width`)."""
    from rich.console import Console

    console = Console(width=width, record=True, file=io.StringIO())
    console.print(widget.content)
    return console.export_text()
