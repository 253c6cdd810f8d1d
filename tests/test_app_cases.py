"""A whole case through the app and the real office: a notice in a visit → due → overdue (the app's
clock moved) → interview scheduled → held → rectified by a check visit → closed, as the technician
and the supervisor each see it; a returned visit amended; an empty visit refused; a look-back
round started from the supervisor's dashboard."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from textual.screen import ModalScreen
from textual.widgets import Input, Label, SelectionList, TextArea

from cache.store import Store
from fieldkit import config, paths
from fieldkit.sync import SyncClient, login
from screens.app import FieldkitApp, make_app, services_for
from screens.dashboard import DashboardScreen
from screens.dialogs.case_form import CaseFormDialog
from screens.due_list import DueListScreen
from screens.institution import InstitutionScreen
from screens.ledger import LedgerScreen
from screens.visit import VisitScreen
from screens.widgets.virtual_table import VirtualTable
from tests.live_server import LiveServer, SmallOffice, small_office
from tests.test_app_fixtures import CST, settle, visible_rows, wait_until, widget_text
from tests.test_app_sync import logged_in, quick_sync, status_text
from tests.test_qr_fixtures import pdf_texts

INST = "JG4307020001"
NAME = "常德星辰教育培训学校"


class Clock:
    """The app's clock, moved by the test."""

    def __init__(self, day: date) -> None:
        self.now = datetime(day.year, day.month, day.day, 9, 30, tzinfo=CST)

    def set(self, day: date) -> None:
        self.now = datetime(day.year, day.month, day.day, 9, 30, tzinfo=CST)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def office(tmp_path: Path) -> Iterator[tuple[SmallOffice, LiveServer]]:
    built = small_office(tmp_path)
    with LiveServer(built.db) as server:
        server.app.state.today = lambda: date(2026, 12, 2)
        yield built, server


def app_on(settings: config.Settings, store: Store, clock: Clock) -> FieldkitApp:
    return make_app(settings, store, quick_sync(settings, store), clock=clock)


async def synced(pilot: Any) -> None:
    """Press F5 and wait until a whole round has run since and nothing is unsent."""
    app = pilot.app
    await wait_until(pilot, lambda: app.sync is not None)
    # F5 is the app's key: a dialog left open (modal) would take it and no round would start
    assert not isinstance(app.screen, ModalScreen), f"{app.screen} is still open"
    before = app.sync.rounds
    await pilot.press("f5")
    await wait_until(
        pilot,
        lambda: app.sync.rounds > before and not app.status_view.sending,
    )
    assert app.status_view.unsent == 0 and app.status_view.rejected == 0, app.store.rejected_ops()


async def submit_again(pilot: Any, field: str) -> None:
    """Submit a dialog again after it showed an error, as a user does: Enter in the field just
    corrected. (A click aims at where OK was drawn; the error line above it moves it, and a click
    sent before that repaint lands beside the button, leaving the dialog open.)"""
    pilot.app.screen.query_one(f"#{field}", Input).focus()
    await pilot.press("enter")


async def open_screen(pilot: Any, key: str, kind: type) -> Any:
    await pilot.press(key)
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, kind))
    await settle(pilot)
    return pilot.app.screen


def rows(screen: Any) -> list[list[str]]:
    return visible_rows(screen.query_one(VirtualTable))


async def fill_dialog(pilot: Any, button: str, **values: str) -> None:
    """Press a case button, fill its dialog and save."""
    await pilot.click(button)
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, CaseFormDialog))
    for field, value in values.items():
        pilot.app.screen.query_one(f"#{field}", Input).value = value
    await pilot.click("#ok")
    await settle(pilot)


async def cases_tab(pilot: Any) -> Any:
    await pilot.app.push_screen(InstitutionScreen(INST))
    await settle(pilot)
    await pilot.press("5")
    await settle(pilot)
    return pilot.app.screen


async def test_a_case_from_notice_to_closure_seen_by_technician_and_supervisor(
    office: tuple[SmallOffice, LiveServer], tmp_path: Path
) -> None:
    built, server = office
    tech_settings, tech_store = await logged_in(server.url, built.tokens["tech_a"])
    clock = Clock(date(2026, 11, 28))

    # 11-28, the technician: a notice in a visit opens a case, due in two days
    async with app_on(tech_settings, tech_store, clock).run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.app.push_screen(InstitutionScreen(INST))
        await settle(pilot)
        await pilot.press("v")
        await settle(pilot)
        form = pilot.app.screen
        assert isinstance(form, VisitScreen)
        form.query_one("#issues", TextArea).text = "前台张贴的是个人微信收款码"
        form.query_one("#rect-items", TextArea).text = "张贴监管收款码\n开通退费流程"
        form.query_one("#rect-deadline", Input).value = "2026-11-20"
        await pilot.press("ctrl+e")
        await settle(pilot)
        error = str(form.query_one("#error", Label).content)
        assert "整改期限不能早于走访日期" in error  # refused where it is typed; nothing lost
        form.query_one("#rect-deadline", Input).value = "2026-11-30"
        await pilot.press("ctrl+e")
        await settle(pilot)
        assert isinstance(pilot.app.screen, InstitutionScreen)
        await pilot.press("5")
        await settle(pilot)
        shown = widget_text(pilot.app.screen.query_one("#cases-text"), 120)
        assert "期限 2026-11-30 · 即将到期" in shown and "张贴监管收款码：未整改" in shown
        await pilot.press("escape")
        due = await open_screen(pilot, "f6", DueListScreen)
        assert ["11-30", "整改到期", "武陵区·人民路", NAME, "整改期限（2项未整改）"] in rows(due)
        await synced(pilot)

    # 12-02: the same laptop, past the deadline
    clock.set(date(2026, 12, 2))
    async with app_on(tech_settings, tech_store, clock).run_test(size=(120, 40)) as pilot:
        due = await open_screen(pilot, "f6", DueListScreen)
        table = rows(due)
        assert table[0][2].startswith("已逾期 (1)")
        assert table[1][:2] == ["11-30", "整改到期"]

    # 12-02, the supervisor: the ledger says overdue; an interview is scheduled, then held
    boss_settings, boss_store = await _login_elsewhere(
        server.url, built.tokens["city_supervisor"], tmp_path
    )
    async with app_on(boss_settings, boss_store, clock).run_test(size=(120, 40)) as pilot:
        ledger = await open_screen(pilot, "f7", LedgerScreen)
        (case_row,) = [r for r in rows(ledger) if r[0] == NAME]
        assert case_row[4] == "已逾期" and case_row[5] == "0/2"
        await cases_tab(pilot)
        await fill_dialog(pilot, "#revoke", note="拒不整改")  # out of order: refused in the dialog
        assert isinstance(pilot.app.screen, CaseFormDialog)
        assert "须先进行约谈" in str(pilot.app.screen.query_one("#error", Label).content)
        await pilot.press("escape")
        await settle(pilot)
        await fill_dialog(pilot, "#schedule", place="武陵区教育局301室", attendees="法定代表人")
        await pilot.click("#print")  # the interview notice, as an A4 PDF
        notices = paths.home() / "notices"
        await wait_until(pilot, lambda: bool(list(notices.glob("约谈通知书-*.pdf"))))
        (pdf,) = notices.glob("约谈通知书-*.pdf")
        printed = "".join(pdf_texts(pdf.read_bytes()))
        assert NAME in printed and "约谈地点：武陵区教育局301室" in printed
        await fill_dialog(
            pilot, "#held", on="2026-12-03", outcome="承诺一周内整改", new_deadline="2026-12-08"
        )
        shown = widget_text(pilot.app.screen.query_one("#cases-text"), 120)
        assert "→ 2026-12-02 约谈已安排：武陵区教育局301室；法定代表人" in shown
        assert "→ 2026-12-03 约谈已进行：承诺一周内整改；期限 2026-12-08" in shown
        await synced(pilot)

    # 12-03, the technician: the escalation on the institution; a check visit rectifies both items
    clock.set(date(2026, 12, 3))
    async with app_on(tech_settings, tech_store, clock).run_test(size=(120, 40)) as pilot:
        await synced(pilot)
        due = await open_screen(pilot, "f6", DueListScreen)
        table = rows(due)
        index = next(i for i, r in enumerate(table) if r[1] == "整改到期")
        assert table[index][0] == "12-08"  # the interview's new deadline
        due.query_one(VirtualTable).cursor = index
        await pilot.press("v")  # the visit this task asks for
        await settle(pilot)
        form = pilot.app.screen
        assert isinstance(form, VisitScreen) and form.kind == "rectification_check"
        form.query_one("#rectified", SelectionList).select_all()
        await pilot.press("ctrl+e")
        await settle(pilot)
        assert isinstance(pilot.app.screen, DueListScreen)
        assert not [r for r in rows(pilot.app.screen) if r[1] == "整改到期"]
        await pilot.press("escape")
        screen = await cases_tab(pilot)
        shown = widget_text(screen.query_one("#cases-text"), 120)
        assert "· 已整改" in shown and "约谈已进行" in shown
        await synced(pilot)

    # 12-04, the supervisor closes it; both see it closed
    clock.set(date(2026, 12, 4))
    async with app_on(boss_settings, boss_store, clock).run_test(size=(120, 40)) as pilot:
        await synced(pilot)
        await cases_tab(pilot)
        await fill_dialog(pilot, "#close")
        await synced(pilot)
        await pilot.press("escape")
        ledger = await open_screen(pilot, "f7", LedgerScreen)
        (case_row,) = [r for r in rows(ledger) if r[0] == NAME]
        assert case_row[4] == "已结案" and case_row[5] == "2/2"
    async with app_on(tech_settings, tech_store, clock).run_test(size=(120, 40)) as pilot:
        await synced(pilot)
        ledger = await open_screen(pilot, "f7", LedgerScreen)
        assert [r[4] for r in rows(ledger)] == ["已结案"]
        assert "在线" in status_text(pilot.app)
    tech_store.close()
    boss_store.close()


async def _login_elsewhere(url: str, token: str, tmp_path: Path) -> tuple[config.Settings, Store]:
    """The supervisor's own laptop (a profile of its own), synced once."""
    settings = await login(url, token, "supervisor")
    settings.language = "zh"
    store, _, _ = services_for(settings)
    client = SyncClient(settings, store, token)
    await client.run_round()
    await client.aclose()
    return settings, store


async def test_a_returned_visit_comes_back_and_is_amended(
    office: tuple[SmallOffice, LiveServer], tmp_path: Path
) -> None:
    built, server = office
    tech_settings, tech_store = await logged_in(server.url, built.tokens["tech_a"])
    clock = Clock(date(2026, 12, 2))
    async with app_on(tech_settings, tech_store, clock).run_test(size=(100, 30)) as pilot:
        await pilot.app.push_screen(InstitutionScreen(INST))
        await settle(pilot)
        await pilot.press("v")
        await settle(pilot)
        form = pilot.app.screen
        await pilot.press("ctrl+e")  # nothing recorded, outcome "completed"
        await settle(pilot)
        assert isinstance(pilot.app.screen, VisitScreen)
        assert "什么都没有记录" in str(form.query_one("#error", Label).content)
        form.query_one("#notes", TextArea).text = "负责人不在"
        await pilot.press("ctrl+e")
        await settle(pilot)
        await synced(pilot)
    visit_id = tech_store.visits(INST)[0]["visit_id"]

    boss_settings, boss_store = await _login_elsewhere(
        server.url, built.tokens["city_supervisor"], tmp_path
    )
    async with app_on(boss_settings, boss_store, clock).run_test(size=(100, 30)) as pilot:
        await cases_tab(pilot)
        await fill_dialog(pilot, "#return", comment="")
        assert "needs a comment" in str(pilot.app.screen.query_one("#error", Label).content) or (
            "须写明" in str(pilot.app.screen.query_one("#error", Label).content)
        )
        pilot.app.screen.query_one("#comment", Input).value = "请写明前台收款码的情况"
        await submit_again(pilot, "comment")
        await settle(pilot)
        await synced(pilot)

    async with app_on(tech_settings, tech_store, clock).run_test(size=(100, 30)) as pilot:
        await synced(pilot)
        due = await open_screen(pilot, "f6", DueListScreen)
        (task,) = [r for r in rows(due) if r[1] == "退回修改"]
        assert task[3] == NAME and "请写明前台收款码的情况" in task[4]
        due.query_one(VirtualTable).cursor = rows(due).index(task)
        await pilot.press("v")
        await settle(pilot)
        form = pilot.app.screen
        assert isinstance(form, VisitScreen) and form.amending is not None
        assert "请写明前台收款码的情况" in str(form.query_one("#review-comment", Label).content)
        assert form.query_one("#notes", TextArea).text == "负责人不在"
        form.query_one("#issues", TextArea).text = "前台仍张贴个人收款码"
        await pilot.press("ctrl+e")
        await settle(pilot)
        assert not [r for r in rows(pilot.app.screen) if r[1] == "退回修改"]
        await synced(pilot)
    visits = tech_store.visits(INST)
    assert len(visits) == 1 and visits[0]["visit_id"] == visit_id  # the original is amended, kept
    assert visits[0]["issues"] == ["前台仍张贴个人收款码"] and visits[0]["notes"] == "负责人不在"
    tech_store.close()
    boss_store.close()


async def test_a_look_back_round_from_the_supervisors_dashboard(
    office: tuple[SmallOffice, LiveServer], tmp_path: Path
) -> None:
    built, server = office
    server.app.state.today = lambda: date(2026, 11, 28)
    boss_settings, boss_store = await logged_in(server.url, built.tokens["city_supervisor"])
    clock = Clock(date(2026, 11, 28))
    async with app_on(boss_settings, boss_store, clock).run_test(size=(100, 30)) as pilot:
        await open_screen(pilot, "f3", DashboardScreen)
        await pilot.press("n")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, CaseFormDialog))
        dialog = pilot.app.screen
        dialog.query_one("#sample", Input).value = "150"
        await pilot.click("#ok")
        await settle(pilot)
        assert "1%到100%" in str(dialog.query_one("#error", Label).content)
        dialog.query_one("#division", Input).value = "430102"
        dialog.query_one("#sample", Input).value = "100"
        await submit_again(pilot, "sample")
        await settle(pilot)
        assert "不在您的管辖范围" in str(dialog.query_one("#error", Label).content)
        dialog.query_one("#division", Input).value = "430700"
        dialog.query_one("#due", Input).value = "2026-12-05"
        await submit_again(pilot, "due")
        await wait_until(
            pilot,
            lambda: (
                isinstance(pilot.app.screen, DashboardScreen)
                and "抽取 5，已回访 0，逾期 0"
                in widget_text(pilot.app.screen.query_one("#rounds"), 100)
            ),
        )
    boss_store.close()
