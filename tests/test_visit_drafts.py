"""Visit drafts: every field kept on disk as it is typed, offered back after the app was killed,
never sent until the visit is ended."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from textual.widgets import Button, Input, TextArea

from cache.store import Store
from fieldkit import domain
from screens.dialogs.confirm import ConfirmDialog
from screens.institution import InstitutionScreen
from screens.visit import VisitScreen
from tests.test_app_fixtures import app_for, county_rows, county_store, settle, wait_until

ROOT = Path(__file__).resolve().parents[1]
NOTES = "前台仍张贴个人微信收款码负责人周一回来"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    """A real cache file with the demo county."""
    yield from county_store(tmp_path)


def _inst() -> dict:
    return county_rows()[0][2]


async def _start_visit(pilot, inst_id: str) -> VisitScreen:  # type: ignore[no-untyped-def]
    await settle(pilot)
    pilot.app.push_screen(InstitutionScreen(inst_id))
    await settle(pilot)
    await pilot.press("v")
    await settle(pilot)
    assert isinstance(pilot.app.screen, VisitScreen)
    return pilot.app.screen


async def test_what_is_typed_is_on_disk_and_nothing_is_queued(store: Store) -> None:
    inst = _inst()
    app = app_for(store, "zh")
    async with app.run_test(size=(100, 40)) as pilot:
        visit = await _start_visit(pilot, inst["id"])
        visit.query_one("#notes", TextArea).focus()
        await pilot.press(*"负责人不在")
        visit.query_one("#next-visit", Input).value = "2026-12-06"
        await wait_until(
            pilot,
            lambda: [d.fields.get("notes") for d in store.drafts(inst["id"])] == ["负责人不在"],
        )
        draft = store.drafts(inst["id"])[0]
        assert draft.visit_id == visit.visit_id
        assert draft.fields["next_visit"] == "2026-12-06"
        assert store.counts()["unsent"] == 0  # a draft is never sent
        await pilot.press("ctrl+e")
        await wait_until(pilot, lambda: not isinstance(app.screen, VisitScreen))
    assert store.drafts() == []
    assert [v["visit_id"] for v in store.visits(inst["id"])] == [draft.visit_id]
    assert store.counts()["unsent"] == 1


async def test_opening_a_visit_and_leaving_it_untouched_keeps_no_draft(store: Store) -> None:
    app = app_for(store, "en")
    async with app.run_test(size=(100, 40)) as pilot:
        await _start_visit(pilot, _inst()["id"])
        await pilot.pause(0.5)
        await settle(pilot)
    assert store.drafts() == []


async def test_a_discarded_visit_drops_its_draft(store: Store) -> None:
    inst = _inst()
    app = app_for(store, "en")
    async with app.run_test(size=(100, 40)) as pilot:
        visit = await _start_visit(pilot, inst["id"])
        visit.query_one("#notes", TextArea).text = "not worth keeping"
        await wait_until(pilot, lambda: bool(store.drafts(inst["id"])))
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("y")
        await wait_until(pilot, lambda: not store.drafts())
        assert isinstance(app.screen, InstitutionScreen)


CHILD = textwrap.dedent(
    """
    import sys
    sys.path.insert(0, {root!r})
    from pathlib import Path
    from cache.store import Store
    from screens.institution import InstitutionScreen
    from tests.test_app_fixtures import app_for

    async def pilot(p):
        for _ in range(200):  # the list first, as a technician sees it (it is pushed after mount)
            await p.pause(0.02)
            if type(p.app.screen).__name__ == "AssignmentsScreen":
                break
        p.app.push_screen(InstitutionScreen({inst_id!r}))
        for _ in range(200):
            await p.pause(0.02)
            if p.app.screen.query("#visit"):
                break
        await p.pause(0.3)
        await p.press("v")
        await p.pause(0.5)
        p.app.screen.query_one("#issues").focus()
        await p.press(*"前台收款码不符")
        p.app.screen.query_one("#notes").focus()
        for char in {notes!r}:
            await p.press(char)
            await p.pause(0.02)
        while True:  # typing on; the test kills this process from outside
            await p.pause(0.1)

    app_for(Store.open(Path({cache!r})), "zh").run(headless=True, size=(100, 40), auto_pilot=pilot)
    """
)


def _draft_notes(cache: Path) -> str:
    try:
        with sqlite3.connect(cache, timeout=5) as conn:
            row = conn.execute("SELECT fields FROM visit_drafts").fetchone()
    except sqlite3.Error:
        return ""
    return row[0] if row else ""


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX; Windows ends it alike")
async def test_a_draft_survives_sigkill_and_is_offered_back(tmp_path: Path) -> None:
    cache = tmp_path / "cache.sqlite"
    for _store in county_store(tmp_path):
        pass  # the county, written and closed
    inst = _inst()
    child = subprocess.Popen(
        [
            sys.executable,
            "-c",
            CHILD.format(root=str(ROOT), inst_id=inst["id"], notes=NOTES, cache=str(cache)),
        ],
        env=dict(os.environ),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        while NOTES not in _draft_notes(cache):
            assert child.poll() is None, child.stderr.read().decode() if child.stderr else ""
            assert time.monotonic() < deadline, "the draft never reached the disk"
            time.sleep(0.05)
        os.kill(child.pid, signal.SIGKILL)  # a flat battery, mid-visit
        child.wait(timeout=10)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert child.returncode == -signal.SIGKILL

    store = Store.open(cache)
    try:
        assert store.counts()["unsent"] == 0  # nothing was sent or queued
        app = app_for(store, "zh")
        async with app.run_test(size=(100, 40)) as pilot:
            await settle(pilot)
            app.push_screen(InstitutionScreen(inst["id"]))
            await wait_until(pilot, lambda: isinstance(app.screen, ConfirmDialog))
            assert "未结束的走访" in app.screen.question
            await pilot.press("y")
            await wait_until(pilot, lambda: isinstance(app.screen, VisitScreen))
            visit = app.screen
            assert visit.query_one("#notes", TextArea).text == NOTES
            assert visit.query_one("#issues", TextArea).text == "前台收款码不符"
            await pilot.press("ctrl+e")
            await wait_until(pilot, lambda: not isinstance(app.screen, VisitScreen))
        visits = store.visits(inst["id"])
        assert [v["notes"] for v in visits] == [NOTES]
        assert store.drafts() == []
    finally:
        store.close()


async def test_the_app_says_at_start_which_visits_were_left_unfinished(store: Store) -> None:
    inst = _inst()
    store.save_draft(
        "00000000-0000-4000-8000-00000000d001",
        inst["id"],
        "2026-11-28T09:00:00+08:00",
        {"notes": "x"},
    )
    app = app_for(store, "en")
    async with app.run_test(size=(100, 40)) as pilot:
        await wait_until(
            pilot, lambda: any("kept as a draft" in n.message for n in app._notifications)
        )
        text = next(n.message for n in app._notifications if "kept as a draft" in n.message)
        assert text.startswith("1 visit was not ended")  # one draft: the singular
        assert inst["name"] in text


def _sync_round_done(app) -> None:  # type: ignore[no-untyped-def]
    """What a finished background sync round does to the app: every screen following it reloads."""
    app.status_view = replace(
        app.status_view, sending=False, last_success=f"2026-12-02T0{len(app.screen_stack)}:00Z"
    )


async def test_a_sync_round_never_offers_the_draft_of_the_visit_being_typed(store: Store) -> None:
    inst = _inst()
    app = app_for(store, "zh")
    async with app.run_test(size=(80, 24)) as pilot:
        visit = await _start_visit(pilot, inst["id"])
        under = app.screen_stack[-2]
        assert isinstance(under, InstitutionScreen)
        visit.query_one("#notes", TextArea).focus()
        await pilot.press(*"负责人不在")
        await wait_until(pilot, lambda: bool(store.drafts(inst["id"])))  # its own draft, on disk
        _sync_round_done(app)
        await settle(pilot)
        await pilot.pause(0.2)
        await settle(pilot)
        assert app.screen is visit  # no dialog over the form
        assert not any(isinstance(s, ConfirmDialog) for s in app.screen_stack)
        under.action_start_visit()  # `v` reached the institution some other way: no second form
        await settle(pilot)
        assert app.screen is visit
        assert sum(isinstance(s, VisitScreen) for s in app.screen_stack) == 1
        await pilot.press(*"周一回来")
        await pilot.press("ctrl+e")
        await wait_until(pilot, lambda: isinstance(app.screen, InstitutionScreen))
        assert not any(isinstance(s, ConfirmDialog) for s in app.screen_stack)
    assert [v["notes"] for v in store.visits(inst["id"])] == ["负责人不在周一回来"]
    assert store.drafts() == []


async def test_a_kept_draft_is_offered_once_on_opening_not_at_each_sync(store: Store) -> None:
    inst = _inst()
    store.save_draft(
        "00000000-0000-4000-8000-00000000d002",
        inst["id"],
        "2026-11-28T09:00:00+08:00",
        {"notes": "昨天记到一半"},
    )
    app = app_for(store, "en")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.push_screen(InstitutionScreen(inst["id"]))
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmDialog))
        assert "was not ended" in app.screen.question
        assert app.screen.query_one("#yes", Button).variant == "primary"  # going on: not red
        await pilot.press("escape")  # not now
        await wait_until(pilot, lambda: isinstance(app.screen, InstitutionScreen))
        _sync_round_done(app)
        await settle(pilot)
        await pilot.pause(0.2)
        await settle(pilot)
        assert isinstance(app.screen, InstitutionScreen)  # asked once, not again at each round
        await pilot.press("v")  # the draft is still there to go on with
        await wait_until(pilot, lambda: isinstance(app.screen, VisitScreen))
        assert app.screen.query_one("#notes", TextArea).text == "昨天记到一半"


async def test_a_draft_missed_under_a_dialog_is_offered_when_the_institution_shows(
    store: Store,
) -> None:
    """The institution read while something was already over it (help opened at once, a
    palette): the offer waits until the institution is the screen shown, then comes once."""
    from screens.help import HelpScreen

    inst = _inst()
    store.save_draft(
        "00000000-0000-4000-8000-00000000d003",
        inst["id"],
        "2026-11-28T09:00:00+08:00",
        {"notes": "重启后第一次打开"},
    )
    app = app_for(store, "zh")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.push_screen(InstitutionScreen(inst["id"]))
        app.push_screen(HelpScreen("帮助", [], "zh"))  # over it before its first read lands
        await settle(pilot)
        await pilot.pause(0.3)
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)  # nothing over the help
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmDialog))
        await pilot.press("escape")  # not now
        await wait_until(pilot, lambda: isinstance(app.screen, InstitutionScreen))
        _sync_round_done(app)
        await settle(pilot)
        await pilot.pause(0.2)
        await settle(pilot)
        assert isinstance(app.screen, InstitutionScreen)  # asked once


async def test_a_new_draft_is_the_one_offered_not_one_already_answered(store: Store) -> None:
    inst = _inst()
    store.save_draft(
        "00000000-0000-4000-8000-00000000d004", inst["id"], "2026-11-28T09:00:00+08:00", {}
    )
    app = app_for(store, "en")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = InstitutionScreen(inst["id"])
        app.push_screen(screen)
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmDialog))
        assert "2026-11-28 09:00" in app.screen.question
        await pilot.press("escape")  # not now
        await wait_until(pilot, lambda: app.screen is screen)
        store.save_draft(  # another one arrives (another fieldkit on this profile)
            "00000000-0000-4000-8000-00000000d005",
            inst["id"],
            "2026-11-27T10:00:00+08:00",  # (started before the answered one)
            {"notes": "第二份"},
        )
        store.save_draft(  # and the answered one is written again after it (the newest)
            "00000000-0000-4000-8000-00000000d004", inst["id"], "2026-11-28T09:00:00+08:00", {}
        )
        screen.reload()
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmDialog))
        assert "2026-11-27 10:00" in app.screen.question  # the new one, not the answered one
        await pilot.press("y")
        await wait_until(pilot, lambda: isinstance(app.screen, VisitScreen))
        assert app.screen.query_one("#notes", TextArea).text == "第二份"


async def test_saving_a_visit_twice_is_said_in_words_not_with_its_uuid(store: Store) -> None:
    inst = _inst()
    app = app_for(store, "zh")
    async with app.run_test(size=(80, 24)) as pilot:
        visit = await _start_visit(pilot, inst["id"])
        visit.query_one("#notes", TextArea).text = "第一次"
        await pilot.press("ctrl+e")
        await wait_until(pilot, lambda: isinstance(app.screen, InstitutionScreen))
    saved = store.visits(inst["id"])[0]
    with pytest.raises(domain.DomainError) as refused:
        store.create_visit(domain.visit_from_wire(saved))
    for lang in ("zh", "en"):
        text = refused.value.message(lang)
        assert saved["visit_id"] not in text
        assert f"#{saved['visit_id'][:8].upper()}" in text
    assert "已经保存过了" in refused.value.message("zh")
    assert "already saved" in refused.value.message("en")
