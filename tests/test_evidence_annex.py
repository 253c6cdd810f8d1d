"""The notice's annex: the visit's photos printed after the notice, each saying what it proves."""

from __future__ import annotations

import io
from datetime import date, datetime
from pathlib import Path

import pytest
from pypdf import PdfReader

from cache.store import Store
from fieldkit import config, domain
from fieldkit.cli import main
from fieldkit.cli.attach import attach_file
from fieldkit.cli.payment import evidence_of
from tests.evidence_files import pdf_document, photo, write
from tests.test_qr_fixtures import pdf_texts

INSTITUTION = {
    "id": "JG4307020001",
    "name": "常德星辰教育培训学校",
    "uscc": "52430702MJ0000001X",
    "division_code": "430702",
    "kind": "non_academic",
}
ITEMS = ("撤除前台的微信个人收款码", "张贴平台监管收款码")


@pytest.fixture
def store() -> Store:
    settings = config.Settings(
        profile="default",
        server_url="http://127.0.0.1:9",
        office_name="常德市武陵区教育局",
        office_public_key="k",  # logged in: the commands refuse a profile without a login
        technician=config.Technician("T0001", "李娜", "technician", "430702"),
    )
    config.save(settings)
    opened = Store.open(settings.cache_path)
    opened.bulk_load([INSTITUTION], [])
    opened.create_visit(
        domain.Visit(
            visit_id="a1b2c3d4-notice",
            institution_id=INSTITUTION["id"],
            technician_id="T0001",
            kind="guidance",
            started_at=datetime(2026, 11, 28, 9, 30),
            rectification=domain.Rectification(ITEMS, date(2026, 12, 12)),
        )
    )
    return opened


def test_the_notice_pdf_carries_its_photos_as_annex_pages(
    store: Store, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with store:
        desk = attach_file(
            store,
            "visit",
            "a1b2",
            None,
            write(tmp_path / "desk.jpg", photo(1, size=(1600, 1200))),
            "T0001",
        )
        attach_file(
            store,
            "case",
            "a1b2",
            0,
            write(tmp_path / "wechat.jpg", photo(2, size=(1200, 900))),
            "T0001",
        )
        attach_file(
            store, "visit", "a1b2", None, write(tmp_path / "licence.pdf", pdf_document()), "T0001"
        )
    out = tmp_path / "notice.pdf"
    assert main(["notice", "a1b2", "--pdf", str(out)]) == 0
    assert "（4 页）" in capsys.readouterr().out  # the notice, the list, a page per photo
    data = out.read_bytes()
    notice, listing, first, second = pdf_texts(data)
    assert "整改通知书" in notice and "撤除前台的微信个人收款码" in notice
    assert "附件1：desk.jpg，照片，走访记录" in listing
    assert "附件2：wechat.jpg，照片，整改事项1：撤除前台的微信个人收款码" in listing
    assert "附件3：licence.pdf，PDF文件（另行打印）" in listing
    assert "拍摄时间：2026-11-2809:15:00" in first and desk["sha256"] in first
    assert "北纬29.04167，东经111.69722" in first and "整改事项1" in second
    pages = PdfReader(io.BytesIO(data)).pages
    pictures = [page.images[0].image for page in pages[2:]]
    assert [p.size for p in pictures] == [(1200, 1600), (900, 1200)]  # upright, as stored
    assert len(pictures[0].convert("RGB").getcolors(1_000_000) or []) > 1000  # a photo, in colour


def test_a_notice_without_photos_has_no_annex(store: Store) -> None:
    with store:
        files, _, _ = evidence_of(store, store.visits()[0])
    assert files == []


def test_the_visit_export_lists_each_visit_s_files(
    store: Store, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import csv

    with store:
        row = attach_file(
            store,
            "visit",
            "a1b2",
            None,
            write(tmp_path / "价目表.jpg", photo(3, size=(800, 600))),
            "T0001",
        )
    out = tmp_path / "visits.csv"
    assert main(["export", "visits", "--csv", str(out)]) == 0
    [line] = list(csv.DictReader(out.open(encoding="utf-8-sig")))
    assert line["evidence"] == f"价目表.jpg（unsent，{row['sha256'][:12]}）"
