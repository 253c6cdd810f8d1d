"""The watched folder while the app runs: what arrives is offered to the visit being recorded,
or waits (said once) until one is open; the phone's older photos are not offered."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from cache.store import Store
from fieldkit import domain
from fieldkit.evidence import inbox, prepare
from tests.evidence_files import photo, write
from tests.test_app_fixtures import app_for, county_rows, county_store, settle, wait_until


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    """A real cache with the demo county."""
    yield from county_store(tmp_path)


def test_the_inbox_offers_what_arrived_since_the_folder_was_named(
    store: Store, tmp_path: Path
) -> None:
    phone = tmp_path / "phone"
    old = write(phone / "IMG_0001.jpg", photo(1, size=(640, 480)))
    assert inbox.waiting(store) == (None, [])
    assert inbox.watch(store, phone) == phone.resolve()
    time.sleep(0.01)
    new = write(phone / "IMG_0002.jpg", photo(2, size=(640, 480)))
    write(phone / ".IMG_0003.jpg.part", b"half")  # a sync tool's file in progress
    write(phone / "notes.txt", b"x")
    assert inbox.waiting(store) == (phone.resolve(), [new])
    assert inbox.unattached(phone, inbox.known(store)) == [old, new]  # what the dialog lists
    # once attached, it is no longer offered
    inst = county_rows()[0][0]["id"]
    store.create_visit(
        domain.Visit("visit-1", inst, "T0001", "guidance", datetime(2026, 11, 28, 9), notes="x")
    )
    kept = prepare(new)
    store.attach("visit", "visit-1", kept.data, kept.wire())
    assert inbox.waiting(store) == (phone.resolve(), [])
    # naming the same folder again keeps its history; taking photos moves the line forward
    inbox.watch(store, phone)
    later = write(phone / "IMG_0004.jpg", photo(4, size=(640, 480)))
    assert inbox.waiting(store)[1] == [later]
    inbox.taken(store, [later])
    assert inbox.waiting(store)[1] == []


async def test_photos_arriving_with_no_visit_open_are_said_once_and_kept(
    store: Store, tmp_path: Path
) -> None:
    phone = tmp_path / "phone"
    write(phone / "IMG_0001.jpg", photo(1, size=(640, 480)))  # on the phone before
    time.sleep(0.01)
    inbox.watch(store, phone)
    app = app_for(store, "zh")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert app.photo_watch is not None and app.photo_watch.timer is not None
        assert app.photo_inbox == ()  # the phone's older photo is not offered
        arrived = write(phone / "IMG_0002.jpg", photo(2, size=(640, 480)))
        app.photo_watch.look()  # what its timer does every few seconds
        await wait_until(pilot, lambda: app.photo_inbox == (arrived,))
        said = [n.message for n in app._notifications if "新照片" in n.message]
        assert said == [
            "手机文件夹“phone”有 1 张新照片：IMG_0002.jpg。走访时按 Ctrl+A 加入，或在机构页按 e 附上。"
        ]
        app.photo_watch.look()
        await settle(pilot)
        assert len([n for n in app._notifications if "新照片" in n.message]) == 1  # said once
        assert app.photo_inbox == (arrived,)


async def test_a_visit_form_offers_the_new_photos_and_saves_a_photo_only_visit(
    store: Store, tmp_path: Path
) -> None:
    from textual.widgets import Label, Select

    from screens.visit import VisitScreen
    from screens.widgets.photo_inbox import PhotoInboxLine
    from tests.test_app_fixtures import widget_text

    phone = tmp_path / "phone"
    inbox.watch(store, phone)
    inst = county_rows()[0][0]
    app = app_for(store, "zh")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await app.push_screen(VisitScreen(inst["id"], inst["name"], store.institution(inst["id"])))
        await settle(pilot)
        line = app.screen.query_one(PhotoInboxLine)
        assert not line.display  # nothing new: the line takes no room
        desk = write(phone / "IMG_0100.jpg", photo(100, size=(1600, 1200)))
        assert app.photo_watch is not None
        app.photo_watch.look()
        await wait_until(pilot, lambda: line.display)
        assert widget_text(line, 120).strip() == (
            "手机文件夹新照片 1 张：IMG_0100.jpg — Ctrl+A 加入本次走访"
        )
        assert not [n for n in app._notifications if "新照片" in n.message]  # the form says it
        app.screen.query_one("#outcome", Select).value = "completed"
        await pilot.press("ctrl+a")
        await wait_until(
            pilot,
            lambda: "IMG_0100.jpg" in str(app.screen.query_one("#evidence-list", Label).render()),
        )
        assert not line.display and app.photo_inbox == ()
        await pilot.press("ctrl+e")  # nothing else recorded: the photo is enough
        await wait_until(pilot, lambda: not isinstance(app.screen, VisitScreen))
        app.photo_watch.look()
        await settle(pilot)
        assert app.photo_inbox == ()  # attached now: no longer offered
    [visit] = store.visits(inst["id"])
    assert visit["outcome"] == "completed" and not visit["notes"]
    [kept] = store.attachments("visit", visit["visit_id"])
    assert kept["name"] == desk.name and kept["state"] == "unsent"
    kinds = [op["kind"] for op in store.pending_ops(20)]
    assert kinds[-2:] == ["visit.create", "attachment.add"]
