"""Printed papers as PDF with real text: searchable, copyable, small, sharp on any printer.

The one helper behind every paper fieldkit prints — the payment posters
(`fieldkit.payment.posters`), the rectification notice (整改通知书) — and the one to reuse for the
interview notice (约谈通知书) and a notice's annex pages (evidence photos):

    doc = Document(title="约谈通知书", issuer=office_name)
    doc.page()                                   # A4 portrait; doc.page((58, 120)) in mm
    doc.heading("约谈通知书")
    doc.paragraph("机构名称：…")                  # wraps anywhere in Chinese, at spaces in Latin
    doc.numbered(["…", "…"])
    doc.image(pil_image, width=80)               # a photo or a QR code stays an image
    doc.signatures(["检查人员签字", "机构负责人签字"])
    pages = doc.save(path)                       # written whole or not at all

Text is set in the Chinese font of `fieldkit.payment.fonts.find_cjk_font()` (FIELDKIT_FONT, the
Noto Sans SC installed with fieldkit, or a system font), embedded as a subset of the characters
used. Sizes are in points, positions in millimetres. Pages stay in memory until `save` (a few KB
each: text and the images placed), then the file is written in one go.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from fpdf import FPDF
from fpdf.enums import Align, TextMode, WrapMode, XPos, YPos
from PIL import Image

from fieldkit.payment.fonts import find_cjk_font

A4 = (210.0, 297.0)
A6 = (105.0, 148.0)
PT = 25.4 / 72  # millimetres in a point
FONT = "cjk"


class DocumentError(Exception):
    """A document cannot be written; .zh/.en say what to do."""

    def __init__(self, zh: str, en: str) -> None:
        super().__init__(f"{zh} / {en}")
        self.zh = zh
        self.en = en


class Document:
    """A PDF being laid out top to bottom, page by page, with the embedded Chinese font."""

    def __init__(
        self,
        title: str,
        issuer: str | None = None,
        margin: float = 20.0,
        page_breaks: bool = True,
    ) -> None:
        font = find_cjk_font()
        self.pdf = FPDF(unit="mm", format="A4")
        self.pdf.set_title(title)
        self.pdf.set_creator("fieldkit")
        if issuer:
            self.pdf.set_author(issuer)
        self.pdf.set_lang("zh-CN")
        self.pdf.add_font(FONT, fname=str(font.path), collection_font_number=font.index)
        self.pdf.set_margins(margin, margin, margin)
        self.pdf.set_auto_page_break(page_breaks, margin=margin)
        self.pdf.set_font(FONT, size=12)
        self.margin = margin
        self.texts: list[str] = []  # every piece of text set, in order (what a reader can find)

    # pages ---------------------------------------------------------------------------------
    def page(self, size: tuple[float, float] = A4, margin: float | None = None) -> None:
        """Start a new page of `size` (width, height in mm)."""
        if margin is not None:
            self.margin = margin
            self.pdf.set_margins(margin, margin, margin)
            self.pdf.set_auto_page_break(self.pdf.auto_page_break, margin=margin)
        self.pdf.add_page(format=size)

    @property
    def pages(self) -> int:
        """How many pages so far."""
        return self.pdf.pages_count

    @property
    def y(self) -> float:
        """Where the next line goes, from the top of the page (mm)."""
        return float(self.pdf.get_y())

    @property
    def width(self) -> float:
        """The width between the margins (mm)."""
        return float(self.pdf.epw)

    @property
    def room(self) -> float:
        """The height left above the bottom margin (mm)."""
        return float(self.pdf.h - self.margin - self.pdf.get_y())

    # text ----------------------------------------------------------------------------------
    def text(
        self,
        text: str,
        size: float = 12,
        *,
        bold: bool = False,
        align: str = "L",
        leading: float = 1.45,
        after: float = 0.0,
    ) -> None:
        """A paragraph at `size` pt, wrapped to the width; `bold` strokes the glyphs."""
        pdf = self.pdf
        pdf.set_font(FONT, size=size)
        # Bold is the regular face filled and stroked, inside its own graphics state: the text
        # render mode is state that outlives the text block, so it must not leak to what follows.
        style = {"text_mode": TextMode.FILL_STROKE, "line_width": size * PT * 0.03} if bold else {}
        with pdf.local_context(**style):
            pdf.multi_cell(
                0,
                size * PT * leading,
                text,
                align=Align.coerce(align),
                new_x=XPos.LMARGIN,
                new_y=YPos.NEXT,
                wrapmode=WrapMode.CHAR,
            )
        self.texts.append(text)
        if after:
            self.space(after)

    def lines_of(self, text: str, size: float, width: float | None = None) -> int:
        """How many lines `text` takes at `size` pt over `width` mm (the page width by default),
        wrapped as `text` wraps it: anywhere between characters. Needs no page yet."""
        pdf = self.pdf
        pdf.set_font(FONT, size=size)
        room = width if width is not None else pdf.w - pdf.l_margin - pdf.r_margin
        count, line = 1, ""
        for char in text:
            if line and pdf.get_string_width(line + char) > room:
                count, line = count + 1, char.lstrip()
            else:
                line += char
        return count

    def heading(self, text: str, size: float = 22) -> None:
        """A centred bold title."""
        self.text(text, size, bold=True, align="C", after=size * PT * 0.4)

    def paragraph(self, text: str, size: float = 12, after: float = 1.5) -> None:
        """Left-aligned body text."""
        self.text(text, size, after=after)

    def numbered(self, items: Iterable[str], size: float = 12) -> None:
        """1. 2. 3. … each item wrapped under its own number."""
        for number, item in enumerate(items, 1):
            self.text(f"{number}. {item}", size, after=1.0)

    def signatures(self, labels: Iterable[str], size: float = 12) -> None:
        """A line to sign on and a date for each label, with room for a hand."""
        for label in labels:
            self.space(8)
            self.text(f"{label}：____________________    日期：____________", size)

    def space(self, mm: float) -> None:
        """Vertical room."""
        self.pdf.ln(mm)

    def rule(self, width: float = 0.3) -> None:
        """A line across the width."""
        pdf = self.pdf
        pdf.set_line_width(width)
        y = pdf.get_y()
        pdf.line(pdf.l_margin, y, pdf.w - pdf.r_margin, y)
        pdf.ln(width + 1)

    def frame(self, inset: float, width: float = 0.6) -> None:
        """A rectangle `inset` mm inside the page's edges."""
        pdf = self.pdf
        pdf.set_line_width(width)
        pdf.rect(inset, inset, pdf.w - 2 * inset, pdf.h - 2 * inset)

    # images --------------------------------------------------------------------------------
    def image(self, image: Image.Image, width: float, after: float = 2.0) -> None:
        """An image `width` mm wide, centred, keeping its proportions."""
        pdf = self.pdf
        height = width * image.height / image.width
        pdf.image(image, x=(pdf.w - width) / 2, y=pdf.get_y(), w=width, h=height)
        pdf.set_y(pdf.get_y() + height + after)

    # file ----------------------------------------------------------------------------------
    def save(self, path: str | Path) -> int:
        """Write the PDF beside `path` and move it into place; returns the page count."""
        target = Path(path)
        tmp = target.with_name(target.name + ".part")
        try:
            self.pdf.output(str(tmp))
            tmp.replace(target)
        except OSError as exc:
            try:
                tmp.unlink(missing_ok=True)
            except OSError:
                pass
            raise DocumentError(
                f"无法写入 {target}（{exc.strerror or exc}）。请换一个文件夹或文件名。",
                f"Cannot write {target} ({exc.strerror or exc}). Choose another folder or "
                "file name.",
            ) from exc
        return self.pages
