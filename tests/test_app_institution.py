"""The institution screen: set steps (saved at once, shown unsent), a refusal in words, contact edits."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from textual.widgets import Input, Label, Static

from cache.store import Store
from fieldkit import domain
from screens.i18n import tr
from screens.institution import InstitutionScreen
from screens.widgets.checklist import Checklist
from screens.widgets.status_bar import StatusBar
from screens.widgets.wrapped import WrappedText
from tests.painted import PaintedScreen
from tests.test_app_fixtures import (
    app_for,
    county_rows,
    county_store,
    settle,
    visible_rows,
    widget_text,
)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    """A real cache file with the demo county."""
    yield from county_store(tmp_path)


def _pick(store: Store, want: str) -> tuple[str, str]:
    """An institution and a step: 'refused' = payment before the bank; 'allowed' = a to-do step whose needs are done."""
    insts, _ = county_rows()
    for inst in insts:
        states = {k: s.status for k, s in store.step_states(inst["id"]).items()}
        if (
            want == "refused"
            and states["bank_verified"] != domain.DONE
            and states["payment_enabled"] != domain.DONE
        ):
            return inst["id"], "payment_enabled"
        if want == "allowed":
            for step in domain.STEPS:
                if (
                    step.set_by == domain.TECHNICIAN
                    and states[step.key] == domain.TODO
                    and all(states[n] == domain.DONE for n in step.needs)
                ):
                    return inst["id"], step.key
    raise AssertionError(f"no institution for {want}")


async def _open_on_step(app, pilot, inst_id: str, step: str) -> Checklist:  # type: ignore[no-untyped-def]
    await settle(pilot)
    await app.push_screen(InstitutionScreen(inst_id))
    await settle(pilot)
    checklist = app.screen.query_one(Checklist)
    checklist.move_cursor(row=domain.STEP_KEYS.index(step))
    await pilot.pause()
    return checklist


async def test_payment_before_bank_is_refused_with_the_reason(store: Store) -> None:
    inst_id, step = _pick(store, "refused")
    app = app_for(store, "zh")
    async with app.run_test(size=(100, 30)) as pilot:
        await _open_on_step(app, pilot, inst_id, step)
        await pilot.press("d")
        await settle(pilot)
        feedback = str(app.screen.query_one("#feedback", WrappedText).plain)
        assert "支付开通" in feedback and "银行核验" in feedback
    assert store.step_states(inst_id)[step].status != domain.DONE
    assert store.counts()["unsent"] == 0


async def test_refusal_is_in_english_when_the_app_is(store: Store) -> None:
    inst_id, step = _pick(store, "refused")
    app = app_for(store, "en")
    async with app.run_test(size=(100, 30)) as pilot:
        await _open_on_step(app, pilot, inst_id, step)
        await pilot.press("d")
        await settle(pilot)
        assert "'Payment enabled' needs first: Bank verification" in str(
            app.screen.query_one("#feedback", WrappedText).plain
        )


async def test_set_in_progress_then_done_is_saved_and_shown_unsent(store: Store) -> None:
    inst_id, step = _pick(store, "allowed")
    app = app_for(store, "zh")
    async with app.run_test(size=(100, 30)) as pilot:
        checklist = await _open_on_step(app, pilot, inst_id, step)
        await pilot.press("p")
        await settle(pilot)
        assert store.step_states(inst_id)[step].status == domain.IN_PROGRESS
        row = visible_rows(checklist)[domain.STEP_KEYS.index(step)]
        assert "进行中" in row[2] and row[3] == "未发送"
        await pilot.press("d")
        await settle(pilot)
        assert store.step_states(inst_id)[step].status == domain.DONE
        assert "已保存" in str(app.screen.query_one("#feedback", WrappedText).plain)
        assert "未发送 2" in str(app.screen.query_one(StatusBar).content)
    assert store.counts()["unsent"] == 2


async def test_blocked_asks_for_a_reason_and_keeps_it(store: Store) -> None:
    inst_id, step = _pick(store, "allowed")
    app = app_for(store, "zh")
    async with app.run_test(size=(100, 30)) as pilot:
        checklist = await _open_on_step(app, pilot, inst_id, step)
        await pilot.press("b")
        await pilot.pause()
        await pilot.press(*"负责人不在")
        await pilot.press("enter")
        await settle(pilot)
        row = visible_rows(checklist)[domain.STEP_KEYS.index(step)]
        assert "受阻" in row[2] and "负责人不在" in row[4]
    state = store.step_states(inst_id)[step]
    assert (state.status, state.reason) == (domain.BLOCKED, "负责人不在")


async def test_contact_phone_is_checked_then_saved(store: Store) -> None:
    inst_id, _ = _pick(store, "allowed")
    app = app_for(store, "en")
    async with app.run_test(size=(100, 30)) as pilot:
        await _open_on_step(app, pilot, inst_id, "registered")
        await pilot.press("c")
        await pilot.pause()
        app.screen.query_one("#name", Input).value = "李老师"
        app.screen.query_one("#phone", Input).value = "12345"
        await pilot.click("#ok")
        await pilot.pause()
        assert "invalid" in str(app.screen.query_one("#error", Label).content)
        phone = app.screen.query_one("#phone", Input)
        phone.value = "139 0731 0000"
        phone.focus()
        await pilot.press("enter")
        await settle(pilot)
        details = app.screen.query_one("#details", Static)
        assert "13907310000" in widget_text(details)
    inst = store.institution(inst_id)
    assert inst is not None
    assert (inst["contact_name"], inst["contact_phone"]) == ("李老师", "13907310000")
    assert inst["sync_state"] == "unsent"


async def test_code_found_at_the_desk_is_checked_and_recorded(store: Store) -> None:
    inst_id, _ = _pick(store, "refused")
    app = app_for(store, "zh")
    async with app.run_test(size=(100, 30)) as pilot:
        await _open_on_step(app, pilot, inst_id, "registered")
        await pilot.press("4")
        await settle(pilot)
        field = app.screen.query_one("#code-check", Input)
        field.focus()
        field.value = "wxp://f2f0Yq4sExampleCode"
        await pilot.press("enter")
        await settle(pilot)
        result = app.screen.query_one("#code-result", WrappedText).plain
        assert result.startswith("✗") and "微信" in result
        assert "未发送 1" in str(app.screen.query_one(StatusBar).content)
    ops = store.pending_ops(10)
    assert [(op["kind"], op["data"]["result"]) for op in ops] == [("qr.checked", "mismatch")]


async def test_contact_enter_after_the_name_goes_to_the_phone(store: Store) -> None:
    inst_id, _ = _pick(store, "allowed")
    app = app_for(store, "zh")
    async with app.run_test(size=(100, 30)) as pilot:
        await _open_on_step(app, pilot, inst_id, "registered")
        await pilot.press("c")
        await pilot.pause()
        name = app.screen.query_one("#name", Input)
        name.value = ""
        name.focus()
        await pilot.press(*"王老师", "enter")
        await pilot.pause()
        phone = app.screen.query_one("#phone", Input)
        assert phone.has_focus  # the dialog is still open, waiting for the phone
        phone.value = ""
        await pilot.press(*"13907310001", "enter")
        await settle(pilot)
    inst = store.institution(inst_id)
    assert inst is not None
    assert (inst["contact_name"], inst["contact_phone"]) == ("王老师", "13907310001")


async def test_a_visit_starts_in_its_first_field(store: Store) -> None:
    inst_id, _ = _pick(store, "allowed")
    app = app_for(store, "zh")
    async with app.run_test(size=(80, 24)) as pilot:
        await _open_on_step(app, pilot, inst_id, "registered")
        await pilot.press("v")
        await settle(pilot)
        assert app.focused is not None and app.focused.id == "kind"
        await pilot.press("tab")
        assert app.focused is not None and app.focused.id == "outcome"


@pytest.mark.parametrize(
    ("lang", "shown"),
    [("en", "✓ Platform registration, Personnel review"), ("zh", "✓ 平台注册、人员审核")],
)
async def test_the_visits_tab_lists_the_steps_advanced_in_its_language(
    store: Store, lang: str, shown: str
) -> None:
    inst_id = county_rows()[0][0]["id"]
    store.create_visit(
        domain.Visit(
            visit_id="a1b2c3d4-0000-4000-8000-000000000009",
            institution_id=inst_id,
            technician_id="T0001",
            kind="guidance",
            started_at=datetime(2026, 11, 27, 9, 30),
            steps_advanced=("registered", "personnel"),
            notes="走访正常",
        )
    )
    app = app_for(store, lang)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await app.push_screen(InstitutionScreen(inst_id))
        await settle(pilot)
        await pilot.press("3")
        await settle(pilot)
        assert shown in str(app.screen.query_one("#visits", Static).content)


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_an_op_left_sending_by_a_failed_round_reads_unsent(store: Store, lang: str) -> None:
    """A round that failed mid-send leaves its ops 'sending' in the cache until they go again:
    with no round running, the visit's line and the checklist's Sync column say unsent."""
    inst_id = next(  # (one not started: its first step can be set in progress)
        i["id"]
        for i in county_rows()[0]
        if all(s.status == domain.TODO for s in store.step_states(i["id"]).values())
    )
    store.create_visit(
        domain.Visit(
            visit_id="a1b2c3d4-0000-4000-8000-00000000000a",
            institution_id=inst_id,
            technician_id="T0001",
            kind="guidance",
            started_at=datetime(2026, 11, 27, 9, 30),
        )
    )
    store.set_step(inst_id, domain.STEP_KEYS[0], domain.IN_PROGRESS, by="T0001")
    store.mark_sending([op["op_id"] for op in store.pending_ops(100)])  # then the round failed
    app = app_for(store, lang)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await app.push_screen(InstitutionScreen(inst_id))
        await settle(pilot)
        checklist = "".join(PaintedScreen.repainted(app))
        await pilot.press("3")
        await settle(pilot)
        visits = str(app.screen.query_one("#visits", Static).content)
    assert f"[{tr('sync.unsent', lang)}]" in visits
    assert tr("sync.sending", lang) not in visits
    assert tr("sync.unsent", lang) in checklist and tr("sync.sending", lang) not in checklist
