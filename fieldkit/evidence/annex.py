"""The annex of a rectification notice: a list of every file, then one A4 page per photo.

Each photo page says what the photo proves (the visit, the code check, the case item), when and
where it was taken, and its SHA-256, so a printed annex can be matched with the file the office
holds. Photos are embedded as stored (a JPEG is not recompressed); PDFs are listed, printed as
they are.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image

from fieldkit.documents import Document

ON = {"visit": "走访记录", "check": "现场核码", "case": "整改事项"}


@dataclass(frozen=True)
class AnnexFile:
    """One attachment of the notice's visit, with its bytes when they are on this laptop."""

    row: dict[str, Any]
    data: bytes | None


def add_annex(doc: Document, files: list[AnnexFile], notice_no: str, items: list[str]) -> None:
    """Append the annex to a notice: the list of files, then a page per photo held here."""
    if not files:
        return
    doc.page()
    doc.heading(f"整改通知书 {notice_no} 附件清单", 18)
    for number, entry in enumerate(files, 1):
        row = entry.row
        kind = "PDF 文件（另行打印）" if row.get("mime") == "application/pdf" else "照片"
        here = "" if entry.data is not None else "（文件不在本机，办公室存档）"
        doc.paragraph(
            f"附件 {number}：{row.get('name') or ''}，{kind}，{describe(row, items)}{here}",
            12,
            after=0.5,
        )
        doc.paragraph("    " + "；".join(facts(row)), 9, after=2.0)
    for number, entry in enumerate(files, 1):
        if entry.data is not None and str(entry.row.get("mime", "")).startswith("image/"):
            _photo_page(doc, number, entry, notice_no, items)


def describe(row: dict[str, Any], items: list[str]) -> str:
    """What a file is evidence of, in the notice's words."""
    on = ON.get(str(row.get("record_kind")), "记录")
    item = row.get("item")
    if item is not None and 0 <= int(item) < len(items):
        return f"{on} {int(item) + 1}：{items[int(item)]}"
    return on


def facts(row: dict[str, Any]) -> list[str]:
    """When and where the photo was taken, and its hash."""
    taken = (row.get("taken_at") or "").replace("T", " ") or "未记录"
    place = (
        f"北纬 {row['lat']:.5f}，东经 {row['lon']:.5f}" if row.get("lat") is not None else "未记录"
    )
    return [f"拍摄时间：{taken}", f"拍摄位置：{place}", f"SHA-256：{row['sha256']}"]


def _photo_page(
    doc: Document, number: int, entry: AnnexFile, notice_no: str, items: list[str]
) -> None:
    row = entry.row
    assert entry.data is not None
    doc.page()
    doc.text(f"整改通知书 {notice_no} 附件 {number}：{describe(row, items)}", 14, bold=True)
    doc.paragraph(str(row.get("name") or ""), 10, after=0.5)
    for fact in facts(row):
        doc.paragraph(fact, 10, after=0.5)
    doc.space(3)
    with Image.open(io.BytesIO(entry.data)) as photo:
        width, height = photo.size
    shown = min(doc.width, (doc.room - 2) * width / height)
    pdf = doc.pdf
    pdf.image(io.BytesIO(entry.data), x=(pdf.w - shown) / 2, y=pdf.get_y(), w=shown)


def read_local(path: Path | None) -> bytes | None:
    """A file's bytes if it is on this laptop."""
    if path is None:
        return None
    try:
        return path.read_bytes()
    except OSError:
        return None
