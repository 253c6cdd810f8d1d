"""Signed institutions for the QR and poster tests (helpers), and a check that they are what they claim."""

from __future__ import annotations

import io
import re
import zlib

import zxingcpp
from PIL import Image

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
    """The full-page image of each page of a PDF, read back from the file's own bytes."""
    objects = {
        int(m.group(1)): m
        for m in re.finditer(rb"(\d+) 0 obj\s*<<((?:(?!endobj).)*?)>>\s*stream\r?\n", data, re.S)
    }
    kids = re.search(rb"/Type\s*/Pages\s*/Kids\s*\[([^\]]*)\]", data).group(1)
    page_objects = {
        int(m.group(1)): m.group(2)
        for m in re.finditer(rb"(\d+) 0 obj\s*(<<\s*/Type\s*/Page\b.*?)endobj", data, re.S)
    }
    pages = [
        re.search(rb"/XObject\s*<<\s*/\w+\s+(\d+) 0 R", page_objects[int(ref)]).group(1)
        for ref in re.findall(rb"(\d+) 0 R", kids)
    ]
    images = []
    for ref in pages:
        match = objects[int(ref)]
        head = match.group(2)
        length = int(re.search(rb"/Length\s+(\d+)", head).group(1))
        stream = data[match.end() : match.end() + length]
        width = int(re.search(rb"/Width\s+(\d+)", head).group(1))
        height = int(re.search(rb"/Height\s+(\d+)", head).group(1))
        bits = int(re.search(rb"/BitsPerComponent\s+(\d+)", head).group(1))
        assert b"/FlateDecode" in head, "page images are expected to be Flate-compressed"
        raw = zlib.decompress(stream)
        images.append(Image.frombytes("1" if bits == 1 else "L", (width, height), raw))
    return images


def test_signed_institution_verifies() -> None:
    inst = signed_institution()
    payment = inst["payment"]
    assert signing.verify(PUBLIC_KEY, payment["payload"], payment["signature"])
    assert emv.parse_payload(payment["payload"]).crc_ok


def test_pdf_page_images_reads_a_pillow_free_pdf_back() -> None:
    from fieldkit.payment.posters import write_pdf

    pages = [Image.new("1", (40, 30), 1), Image.new("L", (20, 10), 7)]
    out = io.BytesIO()
    write_pdf(out, pages, dpi=300, bilevel=False)
    back = pdf_page_images(out.getvalue())
    assert [p.size for p in back] == [(40, 30), (20, 10)]
    assert back[1].getpixel((0, 0)) == 7
