"""Signed institutions for the QR and poster tests (helpers), and a check that they are what they claim."""

from __future__ import annotations

import io
import tempfile
from pathlib import Path

import zxingcpp
from PIL import Image
from pypdf import PdfReader

from fieldkit.payment import emv, signing

PRIVATE_KEY = signing.generate_private_key()
PUBLIC_KEY = signing.public_key_of(PRIVATE_KEY)


def signed_institution(
    serial: int = 1,
    name: str = "长沙星辰教育培训学校有限公司",
    division: str = "430702",
    **overrides: object,
) -> dict:
    """An institution (wire shape) whose payment payload the test office signed."""
    inst_id = f"JG{division}{serial:04d}"
    payload = emv.build_payload(
        inst_id, f"62220200000{serial:05d}", "Changsha Xingchen Jiaoyu", "Changde", name, "常德"
    )
    inst = {
        "id": inst_id,
        "name": name,
        "uscc": "91430702MA4L0000X1",
        "licence_no": "教民1234",
        "division_code": division,
        "address": "常德市武陵区人民路1号",
        "contact_name": "王老师",
        "contact_phone": "13800000000",
        "kind": "non_academic",
        "pinyin": "changshaxingchen",
        "initials": "csxc",
        "bank_status": "passed",
        "bank_reason": None,
        "payment": {"payload": payload, "signature": signing.sign(PRIVATE_KEY, payload)},
        "orders": 0,
        "order_amount_fen": 0,
    }
    inst.update(overrides)
    return inst


def decode_qr(image: Image.Image) -> list[str]:
    """Every QR code zxing-cpp reads in an image (QR format only)."""
    found = zxingcpp.read_barcodes(image.convert("L"), formats=zxingcpp.BarcodeFormat.QRCode)
    return [r.text for r in found if r.valid]


def pdf_page_images(data: bytes) -> list[Image.Image]:
    """The largest image placed on each page of a PDF (a poster's code), read back with pypdf."""
    images = []
    for page in PdfReader(io.BytesIO(data)).pages:
        placed = [picture.image for picture in page.images if picture.image is not None]
        assert placed, "a page without an image"
        images.append(max(placed, key=lambda image: image.width * image.height))
    return images


def pdf_texts(data: bytes) -> list[str]:
    """The text of each page of a PDF as pypdf extracts it, every space, line break and NUL
    removed: pypdf reads fpdf2's two-byte codes as NUL + character (pdftotext and viewers do
    not), and sets line breaks where the text wrapped."""
    return [
        "".join(page.extract_text().replace("\x00", "").split())
        for page in PdfReader(io.BytesIO(data)).pages
    ]


def test_signed_institution_verifies() -> None:
    inst = signed_institution()
    payment = inst["payment"]
    assert signing.verify(PUBLIC_KEY, payment["payload"], payment["signature"])
    assert emv.parse_payload(payment["payload"]).crc_ok


def test_pdf_page_images_reads_raster_pages_back() -> None:
    from fieldkit.payment.posters import Page, save_pdf

    pages = [Page(Image.new("1", (40, 30), 1), 300, ()), Page(Image.new("L", (20, 10), 7), 300, ())]
    out = io.BytesIO()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder, "raster.pdf")
        assert save_pdf(pages, path) == 2
        out.write(path.read_bytes())
    back = pdf_page_images(out.getvalue())
    assert [p.size for p in back] == [(40, 30), (20, 10)]
    assert back[1].convert("L").getpixel((0, 0)) == 7
