"""Posters of every size, as PNG and as PDF pages, decode back to the signed payload and use real glyphs."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from PIL import Image
from pypdf import PdfReader

from fieldkit.notices import render_rectification_notice
from fieldkit.payment import fonts
from fieldkit.payment.posters import (
    SIZES,
    Poster,
    PosterError,
    render_poster,
    save_pdf,
    save_png,
)
from fieldkit.payment.qr import PaymentCodeRefused
from tests.test_qr_fixtures import (
    PUBLIC_KEY,
    decode_qr,
    pdf_page_images,
    pdf_texts,
    signed_institution,
)

LONG_NAME = "常德市武陵区阳光少儿英语口语与综合素质拓展培训中心有限责任公司"


@pytest.mark.parametrize("size", SIZES)
def test_png_poster_decodes_to_the_signed_payload(size: str, tmp_path: Path) -> None:
    inst = signed_institution(name=LONG_NAME)
    poster = render_poster(inst, PUBLIC_KEY, size, printed_on=date(2026, 11, 28))
    path = save_png(poster, tmp_path / f"{size}.png")
    with Image.open(path) as image:
        assert decode_qr(image) == [inst["payment"]["payload"]]
    drawn = "".join(poster.texts)
    assert "平台编号 JG4307020001" in poster.texts
    assert LONG_NAME in drawn  # wrapped over lines on narrow paper, but all of it
    for words in ("用家长端扫码缴费", "费用进入监管账户", "退费经平台办理", "2026-11-28"):
        assert words in drawn


def test_every_pdf_page_decodes_to_its_payload(tmp_path: Path) -> None:
    institutions = [signed_institution(serial=n, name=f"星辰{n}号培训学校") for n in (1, 2, 3)]
    posters = [
        render_poster(inst, PUBLIC_KEY, size)
        for inst, size in zip(institutions, SIZES, strict=True)
    ]
    path = tmp_path / "three.pdf"
    assert save_pdf(posters, path) == 3
    pages = pdf_page_images(path.read_bytes())
    assert [decode_qr(page) for page in pages] == [[i["payment"]["payload"]] for i in institutions]


def test_pdf_pages_have_paper_sizes(tmp_path: Path) -> None:
    inst = signed_institution()
    path = tmp_path / "sizes.pdf"
    save_pdf([render_poster(inst, PUBLIC_KEY, size) for size in SIZES], path)
    boxes = [(float(p.mediabox.width), float(p.mediabox.height)) for p in PdfReader(path).pages]
    millimetres = [(round(w / 72 * 25.4), round(h / 72 * 25.4)) for w, h in boxes]
    assert millimetres[0] == (210, 297)
    assert millimetres[1] == (105, 148)
    assert millimetres[2][0] == 58


@pytest.mark.parametrize("size", SIZES)
def test_font_has_a_real_glyph_for_every_character_drawn(size: str) -> None:
    poster = render_poster(signed_institution(name=LONG_NAME), PUBLIC_KEY, size)
    assert fonts.missing_glyphs(fonts.find_cjk_font(), "".join(poster.texts)) == set()


def test_missing_glyphs_sees_boxes() -> None:
    font = fonts.find_cjk_font()
    assert fonts.missing_glyphs(font, "培\U000f0001\ue000") == {"\U000f0001", "\ue000"}


def test_a_font_without_chinese_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    latin = Path(Image.__file__).parent / "fonts" / "DejaVuSans.ttf"
    latin = latin if latin.exists() else Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
    if not latin.exists():
        pytest.skip("no Latin-only font file here to try")
    monkeypatch.setenv(fonts.FONT_ENV, str(latin))
    fonts.find_cjk_font.cache_clear()
    try:
        with pytest.raises(fonts.FontMissing) as missing:
            fonts.find_cjk_font()
    finally:
        monkeypatch.delenv(fonts.FONT_ENV)
        fonts.find_cjk_font.cache_clear()
    assert "中文" in missing.value.zh and "Chinese" in missing.value.en


def test_no_font_anywhere_says_how_to_get_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fonts, "_shipped_font", lambda: None)
    monkeypatch.setattr(fonts, "_system_paths", lambda: [])
    fonts.find_cjk_font.cache_clear()
    try:
        with pytest.raises(fonts.FontMissing) as missing:
            fonts.find_cjk_font()
    finally:
        fonts.find_cjk_font.cache_clear()
    assert "fonts-noto-cjk" in missing.value.zh and "FIELDKIT_FONT" in missing.value.en


def test_tampered_payload_makes_no_poster() -> None:
    inst = signed_institution()
    inst["payment"] = {**inst["payment"], "payload": inst["payment"]["payload"][:-4] + "0000"}
    with pytest.raises(PaymentCodeRefused) as refused:
        render_poster(inst, PUBLIC_KEY, "a6")
    assert refused.value.code == "tampered"


def test_unknown_size_is_refused() -> None:
    with pytest.raises(PosterError):
        render_poster(signed_institution(), PUBLIC_KEY, "a3")


def test_unwritable_target_says_what_to_do(tmp_path: Path) -> None:
    poster = render_poster(signed_institution(), PUBLIC_KEY, "strip")
    with pytest.raises(PosterError) as error:
        save_pdf([poster], tmp_path / "missing-folder" / "x.pdf")
    assert "无法写入" in error.value.zh and "another folder" in error.value.en


VISIT = {
    "visit_id": "6f1c2d3e-aaaa-bbbb-cccc-000000000001",
    "started_at": "2026-11-28T09:30:00",
    "rectification": {
        "items": ["收款码未张贴于前台显著位置", "存在微信个人收款码，须立即撤除"],
        "deadline": "2026-12-12",
    },
}


NOTICE_WORDS = (
    "整改通知书",
    LONG_NAME,
    "JG4307020001",
    "收款码未张贴于前台显著位置",
    "存在微信个人收款码，须立即撤除",
    "2026-12-12",
    "李建国",
    "2026-11-28",
    "检查人员签字",
    "机构负责人签字",
)


def test_rectification_notice_pdf_is_real_text_in_the_embedded_font(tmp_path: Path) -> None:
    inst = signed_institution(name=LONG_NAME)
    notice = render_rectification_notice(inst, VISIT, "李建国", printed_on=date(2026, 11, 28))
    path = tmp_path / "notice.pdf"
    assert notice.save(path) == 1
    [text] = pdf_texts(path.read_bytes())
    for words in NOTICE_WORDS:
        assert words in text, words
    reader = PdfReader(path)
    [font] = reader.pages[0]["/Resources"]["/Font"].values()
    descriptor = font.get_object()["/DescendantFonts"][0].get_object()["/FontDescriptor"]
    assert "/FontFile3" in descriptor or "/FontFile2" in descriptor  # embedded, not referenced
    assert not reader.pages[0].images  # no page-sized picture of text
    assert path.stat().st_size < 60_000  # a subset of the font, not the whole 8 MB face
    assert fonts.missing_glyphs(fonts.find_cjk_font(), "".join(notice.texts)) == set()


def test_a_long_notice_continues_on_a_second_page(tmp_path: Path) -> None:
    visit = {
        **VISIT,
        "rectification": {
            "items": [f"第{n}项：课程收费超过三个月" for n in range(40)],
            "deadline": "2026-12-12",
        },
    }
    path = tmp_path / "long.pdf"
    assert render_rectification_notice(signed_institution(), visit, "李建国").save(path) >= 2
    pages = pdf_texts(path.read_bytes())
    assert all(f"第{n}项" in "".join(pages) for n in range(40))
    assert "机构负责人签字" in pages[-1] and "第39项" in "".join(pages)


def test_a_visit_without_items_has_no_notice() -> None:
    with pytest.raises(PosterError):
        render_rectification_notice(signed_institution(), {"visit_id": "x"}, "李建国")


@pytest.mark.parametrize("size", SIZES)
def test_poster_pdf_text_is_real_text_and_the_code_an_image(size: str, tmp_path: Path) -> None:
    inst = signed_institution(name=LONG_NAME)
    path = tmp_path / f"{size}.pdf"
    save_pdf([render_poster(inst, PUBLIC_KEY, size, printed_on=date(2026, 11, 28))], path)
    [text] = pdf_texts(path.read_bytes())
    for words in (LONG_NAME, "平台编号JG4307020001", "用家长端扫码缴费", "退费经平台办理"):
        assert words in text, words
    assert "打印日期2026-11-28" in text
    [code] = pdf_page_images(path.read_bytes())
    assert decode_qr(code) == [inst["payment"]["payload"]]


def test_a_pdf_interrupted_halfway_leaves_the_old_file_whole(tmp_path: Path) -> None:
    path = tmp_path / "zone.pdf"
    path.write_bytes(b"%PDF- the file printed yesterday")

    def pages() -> Iterator[Poster]:
        yield render_poster(signed_institution(), PUBLIC_KEY, "strip")
        raise PaymentCodeRefused("tampered", "本地数据被改动", "the local data was altered")

    with pytest.raises(PaymentCodeRefused):
        save_pdf(pages(), path)
    assert path.read_bytes() == b"%PDF- the file printed yesterday"
    assert [p.name for p in tmp_path.iterdir()] == ["zone.pdf"]  # no half-written .part left


def test_a_png_that_cannot_be_written_leaves_the_old_file_whole(tmp_path: Path) -> None:
    path = tmp_path / "desk.png"
    path.write_bytes(b"yesterday's poster")
    poster = render_poster(signed_institution(), PUBLIC_KEY, "strip")
    (tmp_path / "desk.png.part").mkdir()  # the scratch file cannot be made
    with pytest.raises(PosterError):
        save_png(poster, path)
    assert path.read_bytes() == b"yesterday's poster"
