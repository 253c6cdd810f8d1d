"""Evidence in the app: paths typed or dropped, a watched folder, the list with its states, a preview."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from textual.widgets import Input, Label, Static, TextArea

from cache.store import Store
from fieldkit import domain
from screens.dialogs.evidence import EvidenceDialog
from screens.dialogs.preview import PreviewDialog
from screens.institution import InstitutionScreen
from screens.visit import VisitScreen
from screens.widgets.evidence import dropped_paths
from tests.evidence_files import photo, write
from tests.test_app_fixtures import (
    app_for,
    county_rows,
    county_store,
    settle,
    wait_until,
    widget_text,
)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    """A real cache with the demo county and one visit to the first institution."""
    for opened in county_store(tmp_path):
        inst_id = county_rows()[0][0]["id"]
        opened.create_visit(
            domain.Visit(
                visit_id="visit-evidence-1",
                institution_id=inst_id,
                technician_id="T0001",
                kind="guidance",
                started_at=datetime(2026, 11, 28, 9, 0),
            )
        )
        yield opened


def first_institution() -> str:
    return str(county_rows()[0][0]["id"])


def test_dropped_paths_understand_quotes_escapes_urls_and_folders(tmp_path: Path) -> None:
    spaced = write(tmp_path / "手机 照片" / "IMG 0001.jpg", b"x")
    other = write(tmp_path / "b.png", b"y")
    assert dropped_paths(f"'{spaced}' {other}") == [spaced, other]
    assert dropped_paths(str(spaced)) == [spaced]  # pasted whole, unquoted
    assert dropped_paths(f"file://{str(spaced).replace(' ', '%20')}") == [spaced]
    assert dropped_paths(str(spaced.parent)) == [spaced]  # a folder: the photos in it
    assert dropped_paths("   ") == []


async def test_a_dropped_photo_is_attached_listed_unsent_and_opened(
    store: Store, tmp_path: Path
) -> None:
    source = write(tmp_path / "前台收款码.jpg", photo(1, size=(1600, 1200)))
    app = app_for(store, "zh")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await app.push_screen(InstitutionScreen(first_institution()))
        await settle(pilot)
        await pilot.press("e")
        await settle(pilot)
        assert isinstance(app.screen, EvidenceDialog)
        field = app.screen.query_one("#evidence-path", Input)
        field.value = f"'{source}'"  # as a terminal pastes a dropped file
        await pilot.press("enter")
        await wait_until(
            pilot,
            lambda: (
                "前台收款码.jpg" in widget_text(app.screen.query_one("#evidence-rows", Static), 120)
            ),
        )
        listed = widget_text(app.screen.query_one("#evidence-rows", Static), 120)
        assert "未发送" in listed and "2026-11-28 09:15" in listed and "走访" in listed
        assert "已保存 1 个文件" in str(app.screen.query_one("#evidence-result", Label).render())
        [row] = store.attachments("visit", "visit-evidence-1")
        assert store.local_file(row["sha256"]) is not None
        assert [op["kind"] for op in store.pending_ops(10)][-1] == "attachment.add"
        await pilot.press("enter")  # empty field: open the selected file
        await settle(pilot)
        assert isinstance(app.screen, PreviewDialog)
        await wait_until(pilot, lambda: app.screen.query("#picture"))
        facts = str(app.screen.query_one("#facts", Label).render())
        assert "2026-11-28 09:15" in facts and row["sha256"] in facts and "29.04" in facts
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, EvidenceDialog)


async def test_a_file_that_is_not_a_photo_is_refused_in_words(store: Store, tmp_path: Path) -> None:
    notes = write(tmp_path / "notes.txt", "不是照片".encode())
    app = app_for(store, "en")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await app.push_screen(EvidenceDialog(first_institution(), "机构", "en"))
        await settle(pilot)
        app.screen.query_one("#evidence-path", Input).value = str(notes)
        await pilot.press("enter")
        await wait_until(
            pilot, lambda: "✗" in str(app.screen.query_one("#evidence-result", Label).render())
        )
        said = str(app.screen.query_one("#evidence-result", Label).render())
        assert "notes.txt" in said and "photos (JPEG, PNG, HEIC) or PDFs" in said
        assert store.attachments() == []


async def test_a_watched_folder_offers_its_new_photos(store: Store, tmp_path: Path) -> None:
    phone = tmp_path / "phone-sync"
    for n in range(2):
        write(phone / f"IMG_{n}.jpg", photo(n, size=(800, 600)))
    app = app_for(store, "zh")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await app.push_screen(EvidenceDialog(first_institution(), "机构", "zh"))
        await settle(pilot)
        app.screen.query_one("#evidence-path", Input).value = str(phone)
        await pilot.press("enter")
        await wait_until(
            pilot, lambda: "2 张新照片" in str(app.screen.query_one("#inbox", Label).render())
        )
        await pilot.press("ctrl+a")
        await wait_until(pilot, lambda: len(store.attachments()) == 2)
        await wait_until(
            pilot, lambda: "0 张新照片" in str(app.screen.query_one("#inbox", Label).render())
        )
        write(phone / "IMG_2.jpg", photo(2, size=(800, 600)))  # the phone syncs another
        await wait_until(
            pilot, lambda: "1 张新照片" in str(app.screen.query_one("#inbox", Label).render())
        )
    assert store.get_meta("evidence_watch") == str(phone.resolve())


async def test_photos_added_during_a_visit_are_saved_with_it(store: Store, tmp_path: Path) -> None:
    source = write(tmp_path / "价目表.jpg", photo(3, size=(1600, 1200)))
    inst = county_rows()[0][0]
    app = app_for(store, "zh")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await app.push_screen(VisitScreen(inst["id"], inst["name"], store.institution(inst["id"])))
        await settle(pilot)
        field = app.screen.query_one("#evidence-path", Input)
        field.value = str(source)
        field.focus()
        await pilot.press("enter")
        await wait_until(
            pilot,
            lambda: "价目表.jpg" in str(app.screen.query_one("#evidence-list", Label).render()),
        )
        assert store.attachments() == []  # not before the visit is saved
        app.screen.query_one("#notes", TextArea).text = "价目表与平台登记不符"
        await pilot.press("ctrl+e")
        await wait_until(pilot, lambda: not isinstance(app.screen, VisitScreen))
    kinds = [op["kind"] for op in store.pending_ops(20)]
    assert kinds[-2:] == ["visit.create", "attachment.add"]
    [row] = [a for a in store.attachments() if a["name"] == "价目表.jpg"]
    assert row["record_kind"] == "visit" and row["state"] == "unsent"


async def test_the_code_check_offers_to_keep_the_photo_it_read(
    store: Store, tmp_path: Path
) -> None:
    import qrcode
    from textual import events

    from screens.dialogs.confirm import ConfirmDialog
    from screens.widgets.code_check import CodeCheckInput

    desk = tmp_path / "前台 二维码.png"
    qrcode.make("wxp://f2f0personal-code-of-the-owner").save(desk)
    inst = county_rows()[0][0]
    app = app_for(store, "zh")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await app.push_screen(VisitScreen(inst["id"], inst["name"], store.institution(inst["id"])))
        await settle(pilot)
        field = app.screen.query_one(CodeCheckInput)
        field.focus()
        field.post_message(events.Paste(f"'{desk}'"))
        await pilot.pause()
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmDialog))
        await pilot.press("y")
        await wait_until(
            pilot,
            lambda: "二维码.png" in str(app.screen.query_one("#evidence-list", Label).render()),
        )
        await pilot.press("ctrl+e")
        await wait_until(pilot, lambda: not isinstance(app.screen, VisitScreen))
    [check] = [e for e in store.events(inst["id"]) if e["kind"] == "qr.checked"]
    [kept] = store.attachments("check", check["event_id"])
    assert kept["name"] == "前台 二维码.png" and kept["mime"] == "image/png"
    kinds = [op["kind"] for op in store.pending_ops(20)]
    assert kinds[-3:] == ["visit.create", "qr.checked", "attachment.add"]
