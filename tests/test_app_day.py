"""The small things of a technician's day: a date that does not exist said so, a landline
accepted as a contact, the screenshot with no Downloads folder, a mismatch written in both
languages, and what was sent no longer shown as waiting once a background sync sent it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Input, Static, TextArea

from cache.store import Store
from fieldkit import domain
from fieldkit.domain.dates import parse_date
from screens.institution import InstitutionScreen
from screens.visit import VisitScreen
from tests.test_app_fixtures import app_for, county_rows, county_store, settle, widget_text


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    yield from county_store(tmp_path)


def first(store: Store) -> dict[str, Any]:
    inst = store.institution(county_rows()[0][0]["id"])
    assert inst is not None
    return inst


def notices(app: Any) -> list[str]:
    return [str(n.message) for n in app._notifications]


# --- dates ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "zh", "en"),
    [
        ("2026-02-30", "2026年2月只有28天", "February 2026 has 28 days"),
        ("2028-02-30", "2028年2月只有29天", "February 2028 has 29 days"),
        ("2026-04-31", "2026年4月只有30天", "April 2026 has 30 days"),
        ("2026-13-01", "月份应为 1 到 12", "the month must be 1 to 12"),
    ],
)
def test_a_day_that_does_not_exist_is_not_called_a_format_error(
    typed: str, zh: str, en: str
) -> None:
    with pytest.raises(domain.ValidationError) as refused:
        parse_date(typed)
    assert refused.value.code == "no_such_date"
    assert (
        "不存在" in refused.value.zh and zh in refused.value.zh and "格式" not in refused.value.zh
    )
    assert "does not exist" in refused.value.en and en in refused.value.en


def test_a_wrong_form_is_a_format_error_and_input_method_digits_are_read() -> None:
    for typed in ("12/31", "2026年12月31日", "next week", "2026-12"):
        with pytest.raises(domain.ValidationError) as refused:
            parse_date(typed)
        assert refused.value.code == "bad_date" and "YYYY-MM-DD" in refused.value.en
    assert parse_date("２０２６－１２－３１") == date(2026, 12, 31)
    assert parse_date("2026/3/5") == date(2026, 3, 5)


async def test_the_visit_form_says_the_day_does_not_exist(store: Store) -> None:
    inst = first(store)
    app = app_for(store, "zh")
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(pilot)
        await app.push_screen(VisitScreen(inst["id"], inst["name"], inst))
        await settle(pilot)
        app.screen.query_one("#next-visit", Input).value = "2026-02-30"
        await pilot.press("ctrl+e")
        await settle(pilot)
        error = widget_text(app.screen.query_one("#error"))
    assert "2026年2月只有28天" in error and "格式" not in error
    assert store.visits(inst["id"]) == []  # nothing saved with a day that does not exist


# --- landlines -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "kept"),
    [
        ("0736-1234567", "0736-1234567"),
        ("07361234567", "0736-1234567"),
        ("(0736) 1234567", "0736-1234567"),
        ("０７３６－１２３４５６７", "0736-1234567"),
        ("010-12345678", "010-12345678"),
        ("0736-1234567-802", "0736-1234567-802"),
        ("0736-1234567转802", "0736-1234567-802"),
        ("139 0731 0000", "13907310000"),
    ],
)
def test_a_landline_or_a_mobile_is_a_contact_number(typed: str, kept: str) -> None:
    assert domain.validate_phone(typed) == kept


@pytest.mark.parametrize("typed", ["0736-123", "736-1234567", "0736-0234567", "12345", "电话"])
def test_a_number_that_is_neither_says_how_to_write_a_landline(typed: str) -> None:
    with pytest.raises(domain.ValidationError) as refused:
        domain.validate_phone(typed)
    assert "0736-1234567" in refused.value.zh and "area code" in refused.value.en


async def test_the_contact_dialog_takes_a_landline_and_queues_it(store: Store) -> None:
    inst = first(store)
    app = app_for(store, "en")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await app.push_screen(InstitutionScreen(inst["id"]))
        await settle(pilot)
        await pilot.press("c")
        await pilot.pause()
        app.screen.query_one("#name", Input).value = "前台"
        phone = app.screen.query_one("#phone", Input)
        phone.value = "0736-1234567"
        phone.focus()
        await pilot.press("enter")
        await settle(pilot)
        assert "0736-1234567" in widget_text(app.screen.query_one("#details", Static))
    ops = [op for op in store.pending_ops(10) if op["kind"] == "contact.set"]
    assert ops[-1]["data"]["contact_phone"] == "0736-1234567"


# --- the screenshot --------------------------------------------------------------------------


async def test_the_palette_screenshot_without_a_downloads_folder(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from fieldkit import paths

    home = tmp_path / "user"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))  # no user-dirs.dirs there
    monkeypatch.delenv("XDG_DOWNLOAD_DIR", raising=False)
    app = app_for(store, "zh")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        command = next(c for c in app.get_system_commands(app.screen) if c.title == "截图")
        command.callback()
        await pilot.pause(0.3)
        await app.workers.wait_for_complete()
        await settle(pilot)
    saved = list((paths.home() / "screenshots").glob("*.svg"))
    assert len(saved) == 1 and "<svg" in saved[0].read_text("utf-8")
    assert any(n.startswith("截图已保存：") and str(saved[0]) in n for n in notices(app))
    assert not (home / "Downloads").exists()


# --- a mismatch in both languages -------------------------------------------------------------


async def test_a_mismatch_found_in_a_visit_is_written_in_both_languages(store: Store) -> None:
    inst = first(store)
    app = app_for(store, "en")
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(pilot)
        await app.push_screen(VisitScreen(inst["id"], inst["name"], inst))
        await settle(pilot)
        field = app.screen.query_one("#code-check", Input)
        field.focus()
        field.value = "wxp://f2f0Yq4sExampleCode"
        await pilot.press("enter")
        await app.workers.wait_for_complete()
        await settle(pilot)
        issues = app.screen.query_one("#issues", TextArea).text
    assert "微信个人收款码" in issues and "WeChat Pay personal collection code" in issues
    assert issues.count("\n") == 0  # one issue, one line: '中文 / English'


# --- what a background sync sent is no longer shown as waiting -------------------------------


async def test_after_a_background_sync_nothing_sent_is_shown_as_waiting(tmp_path: Path) -> None:
    from screens.widgets.virtual_table import VirtualTable
    from screens.widgets.wrapped import WrappedText
    from tests.live_server import LiveServer, small_office
    from tests.test_app_fixtures import visible_rows, wait_until
    from tests.test_app_sync import logged_in, quick_sync, status_text

    office = small_office(tmp_path)
    with LiveServer(office.db) as server:
        settings, store = await logged_in(server.url, office.tokens["tech_a"])
        app = app_for(store, "zh", sync=quick_sync(settings, store), settings=settings)
        async with app.run_test(size=(100, 30)) as pilot:
            await wait_until(pilot, lambda: "在线" in status_text(app))
            await app.push_screen(InstitutionScreen(office.wuling[0]))
            await settle(pilot)
            await pilot.press("4")
            await settle(pilot)
            field = app.screen.query_one("#code-check", Input)
            field.focus()
            field.value = "wxp://f2f0Yq4sExampleCode"
            await pilot.press("enter")
            result = app.screen.query_one("#code-result", WrappedText)
            await wait_until(pilot, lambda: "核码结果已发送到办公室" in result.plain)
            assert "待同步" not in result.plain and "未发送 0" in status_text(app)
            await pilot.press("escape", "escape")  # out of the code field, then back
            await settle(pilot)
            rows = visible_rows(app.screen.query_one(VirtualTable))
            assert rows and not any("●" in cell for row in rows for cell in row)
        assert store.pending_ops(10) == []
        store.close()


async def test_counts_read_before_a_round_ended_do_not_overwrite_the_rounds(store: Store) -> None:
    from fieldkit.sync import SyncStatus

    app = app_for(store, "zh")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        seen = app._sync_statuses  # a count is read (1 unsent) while a round sends it …
        app._on_sync_status(SyncStatus(online=True, unsent=0, rejected=0))
        await settle(pilot)
        app._show_counts(seen, 1, 0)  # … and arrives after the round's own answer
        assert app.status_view.unsent == 0
        app._show_counts(app._sync_statuses, 2, 0)  # read after it: shown
        assert app.status_view.unsent == 2
