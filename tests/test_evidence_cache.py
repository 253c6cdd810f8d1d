"""Attachments in the cache: saved with the record's op, beside the cache, refused in words."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path

import pytest

from cache.store import Store
from fieldkit import domain
from fieldkit.cli.attach import attach_file
from fieldkit.domain import evidence
from tests.evidence_files import pdf_document, photo, write

INSTITUTION = {
    "id": "JG4307020001",
    "name": "常德星辰教育培训学校",
    "uscc": "52430702MJ0000001X",
    "division_code": "430702",
    "kind": "non_academic",
}


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store.open(tmp_path / "cache.sqlite") as opened:
        opened.bulk_load([INSTITUTION], [])
        opened.create_visit(
            domain.Visit(
                visit_id="v-0001-aaaa",
                institution_id=INSTITUTION["id"],
                technician_id="T0001",
                kind="guidance",
                started_at=datetime(2026, 11, 28, 9, 0),
                rectification=domain.Rectification(
                    ("在前台张贴监管收款码", "撤下个人微信收款码"), date(2026, 12, 15)
                ),
            )
        )
        yield opened


def test_an_attached_photo_is_on_disk_and_queued_with_its_record(
    store: Store, tmp_path: Path
) -> None:
    row = attach_file(
        store, "visit", "v-0001", None, write(tmp_path / "desk.jpg", photo(1)), "T0001"
    )
    path = store.file_path(row["sha256"])
    assert path.parent.parent == tmp_path / "cache.files" and path.stat().st_size == row["size"]
    assert row["record_id"] == "v-0001-aaaa" and row["state"] == "unsent"
    assert row["taken_at"] == "2026-11-28T09:15:00" and row["lat"] is not None
    ops = store.pending_ops(10)
    assert [op["kind"] for op in ops] == ["visit.create", "attachment.add"]
    sent = ops[1]["data"]
    assert sent["sha256"] == row["sha256"] and sent["record"] == "visit"
    assert sent["record_id"] == "v-0001-aaaa" and ops[1]["op_id"] == row["attachment_id"]
    assert [a["name"] for a in store.attachments("visit", "v-0001-aaaa")] == ["desk.jpg"]
    assert store.uploads_waiting() == []  # not before the office has applied the op


def test_the_same_photo_on_two_records_is_kept_once(store: Store, tmp_path: Path) -> None:
    check = store.record_qr_check(INSTITUTION["id"], "v-0001-aaaa", "mismatch", "wechat", "a" * 64)
    source = write(tmp_path / "wechat-code.jpg", photo(2))
    first = attach_file(store, "visit", "v-0001-aaaa", None, source, "T0001")
    second = attach_file(store, "check", check["op_id"], None, source, "T0001")
    again = attach_file(store, "visit", "v-0001-aaaa", None, source, "T0001")
    assert first["sha256"] == second["sha256"] and again["already"]
    assert len(list(store.files_dir.rglob("*"))) == 2  # one folder, one file
    assert store.evidence_usage()["files"] == 1
    assert len(store.attachments(institution_id=INSTITUTION["id"])) == 2


def test_a_case_item_takes_its_evidence(store: Store, tmp_path: Path) -> None:
    licence = write(tmp_path / "licence.pdf", pdf_document())
    row = attach_file(store, "case", "v-0001-aaaa", 1, licence, "T0001")
    assert row["item"] == 1 and row["mime"] == "application/pdf"
    with pytest.raises(domain.ValidationError, match="1 to 2"):
        attach_file(store, "case", "v-0001-aaaa", 5, licence, "T0001")
    with pytest.raises(domain.ValidationError) as unknown:
        attach_file(store, "visit", "nope-0000", None, licence, "T0001")
    assert unknown.value.code == "unknown_record" and "本地没有走访" in unknown.value.zh


def test_files_per_record_are_limited(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("cache.attachment_rows.MAX_FILES_PER_RECORD", 2)
    for n in range(2):
        attach_file(
            store, "visit", "v-0001", None, write(tmp_path / f"{n}.pdf", pdf_document(str(n))), ""
        )
    with pytest.raises(domain.ValidationError) as refused:
        attach_file(
            store, "visit", "v-0001", None, write(tmp_path / "3.pdf", pdf_document("3")), ""
        )
    assert refused.value.code == "too_many_files" and "上限 2" in refused.value.zh
    assert len(store.attachments("visit", "v-0001-aaaa")) == 2


def test_a_full_disk_refuses_the_photo_and_keeps_everything_else(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import shutil

    free = shutil.disk_usage(tmp_path).free
    monkeypatch.setattr("cache.attachments.DISK_RESERVE", free)  # as if the disk were full
    before = store.pending_ops(10)
    with pytest.raises(domain.ValidationError) as refused:
        attach_file(
            store, "visit", "v-0001", None, write(tmp_path / "a.jpg", photo(5, size=(800, 600))), ""
        )
    assert refused.value.code == "disk_full" and "已保存的内容都在" in refused.value.zh
    assert store.pending_ops(10) == before and store.attachments() == []
    assert not store.files_dir.exists() or not any(store.files_dir.rglob("*.jpg"))
    monkeypatch.setattr("cache.attachments.DISK_RESERVE", 0)
    monkeypatch.setattr("cache.attachments.DISK_WARN", free * 2)
    row = attach_file(store, "visit", "v-0001", None, tmp_path / "a.jpg", "")
    assert "磁盘仅剩" in row["warning"]


def test_a_pulled_attachment_is_listed_and_fetched_only_when_opened(store: Store) -> None:
    data = {
        "attachment_id": "att-1",
        "record": "visit",
        "record_id": "v-9",
        "item": None,
        "sha256": "b" * 64,
        "size": 1234,
        "mime": "image/jpeg",
        "name": "price-board.jpg",
        "institution_id": INSTITUTION["id"],
        "added_by": "T0002",
        "stored": True,
    }
    store.apply_changes([{"seq": 1, "kind": "attachment", "id": "att-1", "data": data}], 1)
    [row] = store.attachments("visit", "v-9")
    assert row["name"] == "price-board.jpg" and row["at_office"] and not row["here"]
    assert store.local_file("b" * 64) is None and store.uploads_waiting() == []
    assert evidence.RECORD_KINDS == ("visit", "check", "case")
    assert json.loads(json.dumps(row))  # plain values, ready for a screen or --json


def test_a_damaged_cache_keeps_its_photos_and_sends_them_after_the_rescue(
    store: Store, tmp_path: Path
) -> None:
    from cache.salvage import salvage

    row = attach_file(
        store, "visit", "v-0001", None, write(tmp_path / "desk.jpg", photo(6, size=(800, 600))), ""
    )
    for n in range(150):  # a day's later work, in the pages after it
        store.create_visit(
            domain.Visit(
                visit_id=f"v-later-{n:04d}",
                institution_id=INSTITUTION["id"],
                technician_id="T0001",
                kind="guidance",
                started_at=datetime(2026, 11, 28, 10, n % 60),
                notes="现场记录 " * 20,
            )
        )
    path = store.path
    store.close()
    with path.open("r+b") as fh:  # a dead disk: the file's last pages are gone
        fh.truncate(int(path.stat().st_size * 0.9))
    report = salvage(path)
    assert report.unsent >= 1
    with Store.open(path) as rescued:
        rows = rescued.attachments()
        assert [r["sha256"] for r in rows] == [row["sha256"]] and rows[0]["here"]
        assert rows[0]["state"] == "unsent" and rescued.local_file(row["sha256"]) is not None
