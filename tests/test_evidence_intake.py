"""Taking a file in as evidence: real phone photos reduced, EXIF kept, bad files refused in words."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import pytest
from PIL import Image

from fieldkit.evidence import EvidenceError, limits, prepare
from tests.evidence_files import (
    WULING,
    heic_photo,
    pdf_document,
    photo,
    png_bomb,
    png_screenshot,
    write,
)


def test_a_phone_photo_is_reduced_turned_upright_and_keeps_time_and_place(tmp_path: Path) -> None:
    original = photo(1, size=(4000, 3000), orientation=6)  # taken holding the phone upright
    assert 3_000_000 < len(original) < 7_000_000
    kept = prepare(write(tmp_path / "IMG_0001.jpg", original))
    assert (kept.width, kept.height) == (1536, 2048)  # orientation applied: portrait
    assert kept.mime == "image/jpeg" and kept.size < len(original) / 4
    assert kept.sha256 == hashlib.sha256(kept.data).hexdigest()
    assert kept.original_sha256 == hashlib.sha256(original).hexdigest()
    assert kept.taken_at == "2026-11-28T09:15:00"
    assert kept.lat == pytest.approx(WULING[0], abs=1e-4)
    assert kept.lon == pytest.approx(WULING[1], abs=1e-4)
    stored = Image.open(io.BytesIO(kept.data))
    assert stored.size == (1536, 2048)
    assert stored.getexif().get(0x0112) in (None, 1)  # no viewer turns it a second time
    again = prepare(tmp_path / "IMG_0001.jpg")
    assert again.sha256 == kept.sha256  # the same photo gives the same stored bytes


def test_a_photo_without_gps_has_no_place(tmp_path: Path) -> None:
    kept = prepare(write(tmp_path / "a.jpg", photo(2, size=(1200, 900), where=None)))
    assert kept.lat is None and kept.lon is None and kept.taken_at is not None
    assert (kept.width, kept.height) == (900, 1200)  # small: only turned upright


def test_heic_from_an_iphone_becomes_a_jpeg_with_its_exif(tmp_path: Path) -> None:
    kept = prepare(write(tmp_path / "IMG_0002.HEIC", heic_photo((1200, 800))))
    assert kept.mime == "image/jpeg" and (kept.width, kept.height) == (800, 1200)
    assert Image.open(io.BytesIO(kept.data)).getpixel((600, 150))[0] > 150  # turned: red on top
    assert kept.taken_at == "2026-11-28T09:15:00" and kept.lat is not None


def test_a_screenshot_stays_a_png_and_a_pdf_is_kept_byte_for_byte(tmp_path: Path) -> None:
    shot = prepare(write(tmp_path / "code.png", png_screenshot()))
    assert shot.mime == "image/png" and max(shot.width or 0, shot.height or 0) == 2048
    document = pdf_document()
    pdf = prepare(write(tmp_path / "licence.pdf", document))
    assert pdf.mime == "application/pdf" and pdf.data == document
    assert pdf.sha256 == hashlib.sha256(document).hexdigest()


@pytest.mark.parametrize(
    ("name", "data", "code", "words"),
    [
        ("notes.txt", "现场记录".encode() * 100, "not_supported", "只接受照片"),
        ("cut.jpg", None, "truncated", "不完整"),
        ("bomb.png", png_bomb(), "bomb", "50000 × 50000"),
        ("empty.jpg", b"", "truncated", "不完整"),
        ("cut.pdf", pdf_document()[:-40], "truncated", "不完整"),
    ],
)
def test_bad_files_are_refused_in_words(
    tmp_path: Path, name: str, data: bytes | None, code: str, words: str
) -> None:
    if data is None:
        whole = photo(3, size=(1600, 1200))
        data = whole[: len(whole) // 2]  # a copy cut short
    with pytest.raises(EvidenceError) as refused:
        prepare(write(tmp_path / name, data))
    assert refused.value.code == code
    assert words in refused.value.zh and refused.value.en


def test_missing_and_oversized_files_say_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(EvidenceError, match="No such file") as missing:
        prepare(tmp_path / "nowhere.jpg")
    assert "拖入终端" in missing.value.zh
    big = tmp_path / "huge.jpg"
    with big.open("wb") as fh:
        fh.truncate(limits.MAX_INPUT_BYTES + 1)
    with pytest.raises(EvidenceError) as too_big:
        prepare(big)
    assert too_big.value.code == "too_large" and "MiB" in too_big.value.zh


def test_a_file_still_being_copied_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = write(tmp_path / "copying.jpg", photo(4, size=(1600, 1200)))
    real_read = Path.read_bytes

    def read_while_the_copy_goes_on(self: Path) -> bytes:
        data = real_read(self)
        if self == target:
            with target.open("ab") as fh:  # the phone sync writes more while we read
                fh.write(b"\0" * 4096)
        return data

    monkeypatch.setattr(Path, "read_bytes", read_while_the_copy_goes_on)
    with pytest.raises(EvidenceError) as refused:
        prepare(target)
    assert refused.value.code == "changed" and "复制" in refused.value.zh
