"""Printable payment posters (A4, A6 desk card, 58 mm strip) and rectification notices, as PNG and PDF."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import BinaryIO, TypeVar

from PIL import Image, ImageDraw

from fieldkit.documents import PT, Document, DocumentError

from . import qr
from .fonts import CJKFont, find_cjk_font

T = TypeVar("T")

SIZES = ("a4", "a6", "strip")
SIZE_NAMES = {
    "a4": ("A4 海报", "A4 poster"),
    "a6": ("A6 台卡", "A6 desk card"),
    "strip": ("58 毫米热敏小票", "58 mm thermal strip"),
}
INSTRUCTIONS = ("用家长端扫码缴费", "费用进入监管账户", "退费经平台办理")
TITLE = "校外培训资金监管 · 缴费码"
DEFAULT_ISSUER = "湖南省校外培训机构预收费资金监管"


@dataclass(frozen=True)
class Layout:
    """The geometry of one poster size, in pixels at its resolution."""

    width: int
    height: int | None  # None: as tall as the content (a roll of paper)
    dpi: int
    margin: int
    qr_width: int
    title: int
    name: int
    body: int
    small: int
    frame: int


LAYOUTS = {
    "a4": Layout(2480, 3508, 300, 170, 1700, 118, 104, 70, 46, 10),
    "a6": Layout(1240, 1748, 300, 70, 930, 60, 58, 40, 28, 5),
    "strip": Layout(464, None, 203, 40, 384, 28, 30, 24, 18, 0),
}


@dataclass(frozen=True)
class Page:
    """One rendered page and every piece of text drawn on it."""

    image: Image.Image
    dpi: int
    texts: tuple[str, ...]


@dataclass(frozen=True)
class Poster(Page):
    """A rendered payment poster: its page and the exact payload its code carries."""

    institution_id: str = ""
    size: str = "a4"
    payload: str = ""
    name: str = ""
    issuer: str = ""
    printed_on: str = ""

    @property
    def payload_sha256(self) -> str:
        return qr.payload_sha256(self.payload)


class PosterError(Exception):
    """A poster cannot be made or written; .zh/.en say what to do."""

    def __init__(self, zh: str, en: str) -> None:
        super().__init__(f"{zh} / {en}")
        self.zh = zh
        self.en = en


# ---------------------------------------------------------------- drawing


class Canvas:
    """A white 1-bit page that stacks centred lines of text and images from the top.

    A canvas without a page (`page=None`) only measures: the same calls, nothing drawn.
    """

    def __init__(
        self, width: int, height: int | None, font: CJKFont, margin: int, top: int | None = None
    ) -> None:
        self.width = width
        self.image = Image.new("1", (width, height), 1) if height else None
        self.draw = ImageDraw.Draw(self.image) if self.image else None
        self.font = font
        self.margin = margin
        self.y = margin if top is None else top
        self.texts: list[str] = []

    @property
    def inner_width(self) -> int:
        return self.width - 2 * self.margin

    def text(
        self, text: str, size: int, *, bold: bool = False, align: str = "center", gap: float = 0.35
    ) -> None:
        """Draw text wrapped to the page width, advancing down the page."""
        stroke = max(1, size // 40) if bold else 0
        face = self.font.at(size)
        for line, width in wrapped(self.font, size, stroke, text, self.inner_width):
            if self.draw is not None:
                x = (
                    self.margin + (self.inner_width - width) / 2
                    if align == "center"
                    else self.margin
                )
                self.draw.text(
                    (x + stroke, self.y),
                    line,
                    font=face,
                    fill=0,
                    stroke_width=stroke,
                    stroke_fill=0,
                )
            self.texts.append(line)
            self.y += int(size * (1 + gap))

    def paste(self, image: Image.Image, gap: int) -> None:
        """Place an image centred, advancing down the page."""
        if self.image is not None:
            self.image.paste(image, ((self.width - image.width) // 2, self.y))
        self.y += image.height + gap

    def space(self, pixels: int) -> None:
        """Leave vertical room."""
        self.y += pixels

    def rule(self, width: int = 2) -> None:
        """A horizontal line across the inner width."""
        if self.draw is not None:
            self.draw.line(
                [(self.margin, self.y), (self.width - self.margin, self.y)], fill=0, width=width
            )
        self.y += width


@lru_cache(maxsize=4096)
def wrapped(
    font: CJKFont, size: int, stroke: int, text: str, width: int
) -> tuple[tuple[str, float], ...]:
    """The lines text breaks into at this size and width, each with its drawn width."""
    face = font.at(size)

    def measure(part: str) -> float:
        return face.getlength(part) + 2 * stroke

    whole = measure(text)
    lines = [text] if whole <= width else wrap(text, measure, width)
    return tuple((line, whole if line == text else measure(line)) for line in lines)


def wrap(text: str, measure: Callable[[str], float], width: float) -> list[str]:
    """Break text into lines no wider than width: at spaces for Latin words, anywhere in Chinese."""
    lines: list[str] = []
    current = ""
    for token in _tokens(text):
        candidate = current + token
        if current and measure(candidate.rstrip()) > width:
            lines.append(current.rstrip())
            current = token.lstrip()
        else:
            current = candidate
    if current.strip() or not lines:
        lines.append(current.rstrip())
    return lines


def _tokens(text: str) -> Iterator[str]:
    """Latin words (with their trailing space) and single CJK characters."""
    word = ""
    for char in text:
        if char.isascii() and not char.isspace():
            word += char
            continue
        if word:
            yield word
            word = ""
        yield char
    if word:
        yield word


def qr_image(payload: str, target_width: int) -> Image.Image:
    """The code as sharp square modules (quiet zone included), as wide as fits target_width."""
    matrix = qr.qr_matrix(payload)
    return matrix_image(matrix, max(1, target_width // len(matrix)))


def matrix_image(matrix: list[list[bool]], module: int) -> Image.Image:
    """A QR matrix as a 1-bit image, `module` pixels a module."""
    count = len(matrix)
    raw = bytes(0 if dark else 255 for row in matrix for dark in row)
    small = Image.frombytes("L", (count, count), raw).convert("1", dither=Image.Dither.NONE)
    return small.resize((count * module, count * module), Image.Resampling.NEAREST)


def render_poster(
    institution: dict,
    public_key_b64: str | None,
    size: str = "a4",
    printed_on: date | None = None,
    issuer: str | None = None,
    *,
    raster: bool = True,
) -> Poster:
    """An institution's payment poster; refuses (PaymentCodeRefused) a payload the office did not sign.

    `raster=False` skips drawing the page image (a 1-pixel stand-in): for a PDF, which sets the
    text itself, so a city's posters never hold hundreds of full-page bitmaps.
    """
    if size not in LAYOUTS:
        raise PosterError(
            f"未知的海报尺寸“{size}”，可选：a4、a6、strip。",
            f"Unknown poster size '{size}'; choose a4, a6 or strip.",
        )
    payload = qr.verified_payload(institution, public_key_b64)
    layout = LAYOUTS[size]
    font = find_cjk_font()
    # Only the page's bitmap needs the code drawn; a PDF draws its own (poster_page).
    code = qr_image(payload, layout.qr_width) if raster else Image.new("1", (1, 1), 1)
    when = (printed_on or date.today()).isoformat()
    plan = Canvas(layout.width, None, font, layout.margin)
    _poster_content(plan, layout, institution, code, when, issuer)
    if not raster:
        return Poster(
            Image.new("1", (1, 1), 1),
            layout.dpi,
            tuple(plan.texts),
            institution_id=institution["id"],
            size=size,
            payload=payload,
            name=institution["name"],
            issuer=issuer or DEFAULT_ISSUER,
            printed_on=when,
        )
    content = plan.y + layout.margin
    height = layout.height or content
    canvas = Canvas(
        layout.width,
        height,
        font,
        layout.margin,
        top=layout.margin + max(0, (height - content) // 2),
    )
    _poster_content(canvas, layout, institution, code, when, issuer)
    assert canvas.image is not None and canvas.draw is not None
    if layout.frame:
        inset = layout.margin // 2
        canvas.draw.rectangle(
            [inset, inset, layout.width - inset, height - inset], outline=0, width=layout.frame
        )
    canvas.image.info["dpi"] = (layout.dpi, layout.dpi)
    return Poster(
        canvas.image,
        layout.dpi,
        tuple(canvas.texts),
        institution_id=institution["id"],
        size=size,
        payload=payload,
        name=institution["name"],
        issuer=issuer or DEFAULT_ISSUER,
        printed_on=when,
    )


def _poster_content(
    canvas: Canvas,
    layout: Layout,
    institution: dict,
    code: Image.Image,
    when: str,
    issuer: str | None,
) -> None:
    """Title, name, platform id, the code, the parents' instructions, issuer and date."""
    canvas.text(TITLE, layout.title, bold=True)
    canvas.space(layout.body // 3)
    canvas.text(institution["name"], layout.name, bold=True, gap=0.25)
    canvas.text(f"平台编号 {institution['id']}", layout.body)
    canvas.space(layout.body // 4)
    canvas.paste(code, layout.body // 3)
    for number, line in enumerate(INSTRUCTIONS, 1):
        canvas.text(f"{number}. {line}", layout.body, gap=0.4)
    canvas.space(layout.small // 2)
    canvas.rule(max(1, layout.frame // 3))
    canvas.space(layout.small // 2)
    canvas.text(issuer or DEFAULT_ISSUER, layout.small, gap=0.2)
    canvas.text(f"打印日期 {when}", layout.small)


# ---------------------------------------------------------------- files


@dataclass(frozen=True)
class PdfLayout:
    """A poster's geometry on paper: page width (mm; height None = as tall as the content),
    margin and code width (mm), text sizes (pt), frame inset (mm, 0 for none)."""

    width: float
    height: float | None
    margin: float
    qr_width: float
    title: float
    name: float
    body: float
    small: float
    frame: float


PDF_LAYOUTS = {
    "a4": PdfLayout(210, 297, 15, 140, 30, 26, 18, 12, 7.5),
    "a6": PdfLayout(105, 148, 6, 72, 15, 13.5, 9.5, 7, 3),
    "strip": PdfLayout(58, None, 3, 48, 9.5, 10, 7.5, 6, 0),
}
QR_PIXELS_PER_MODULE = 8  # sharp when a viewer or printer scales the image without smoothing


def save_png(page: Page, path: str | Path) -> Path:
    """Write one page as a PNG with its resolution."""
    target = Path(path)
    _write_whole(target, lambda out: page.image.save(out, "PNG", dpi=(page.dpi, page.dpi)))
    return target


def save_pdf(pages: Iterable[Page], path: str | Path) -> int:
    """Write pages into one PDF with real text; returns the page count.

    A poster is laid out as text around its code (the code stays an image); any other page is
    placed as its full-page image. Nothing is written if a page fails on the way.
    """
    doc: Document | None = None
    for page in pages:
        if doc is None:
            doc = Document(title=_pdf_title(page), issuer=getattr(page, "issuer", None) or None)
        if isinstance(page, Poster):
            poster_page(doc, page)
        else:
            raster_page(doc, page)
    if doc is None:
        raise PosterError("没有可写入的页面。", "There are no pages to write.")
    try:
        return doc.save(path)
    except DocumentError as exc:
        raise PosterError(exc.zh, exc.en) from exc


def _pdf_title(page: Page) -> str:
    if isinstance(page, Poster):
        return f"{TITLE} {page.name}"
    return TITLE


def poster_page(doc: Document, poster: Poster) -> None:
    """One poster as a page of real text around its code, centred on its paper."""
    layout = PDF_LAYOUTS[poster.size]
    code = matrix_image(qr.qr_matrix(poster.payload), QR_PIXELS_PER_MODULE)
    needed = _poster_height(doc, layout, poster)
    height = layout.height or needed + 2  # a roll: as long as the content, and a little
    doc.page((layout.width, height), margin=layout.margin)
    doc.pdf.set_auto_page_break(False)  # one poster, one page, whatever a font measures
    doc.pdf.set_y(max(layout.margin, (height - needed) / 2 + layout.margin))
    _poster_blocks(doc, layout, poster, code)
    if layout.frame:
        doc.frame(layout.frame, width=layout.frame / 10)


def _poster_height(doc: Document, layout: PdfLayout, poster: Poster) -> float:
    """The height the poster's content takes on its paper, margins included (mm)."""
    inner = layout.width - 2 * layout.margin

    def lines(text: str, size: float, leading: float = 1.45) -> float:
        return doc.lines_of(text, size, inner) * size * PT * leading

    total = 2 * layout.margin
    total += lines(TITLE, layout.title) + layout.title * PT * 0.4
    total += lines(poster.name, layout.name, 1.3)
    total += lines(f"平台编号 {poster.institution_id}", layout.body) + layout.body * PT * 0.5
    total += layout.qr_width + layout.body * PT * 0.5
    total += sum(lines(f"{n}. {line}", layout.body) for n, line in enumerate(INSTRUCTIONS, 1))
    total += layout.small * PT * 1.2 + 1.3
    total += lines(poster.issuer or DEFAULT_ISSUER, layout.small, 1.3)
    total += lines(f"打印日期 {poster.printed_on}", layout.small, 1.3)
    return total


def _poster_blocks(doc: Document, layout: PdfLayout, poster: Poster, code: Image.Image) -> None:
    """Title, name, platform id, the code, the parents' instructions, issuer and date."""
    doc.text(TITLE, layout.title, bold=True, align="C", after=layout.title * PT * 0.4)
    doc.text(poster.name, layout.name, bold=True, align="C", leading=1.3)
    doc.text(
        f"平台编号 {poster.institution_id}", layout.body, align="C", after=layout.body * PT * 0.5
    )
    doc.image(code, layout.qr_width, after=layout.body * PT * 0.5)
    for number, line in enumerate(INSTRUCTIONS, 1):
        doc.text(f"{number}. {line}", layout.body, align="C")
    doc.space(layout.small * PT * 0.6)
    doc.rule(0.3)
    doc.space(layout.small * PT * 0.6)
    doc.text(poster.issuer or DEFAULT_ISSUER, layout.small, align="C", leading=1.3)
    doc.text(f"打印日期 {poster.printed_on}", layout.small, align="C", leading=1.3)


def raster_page(doc: Document, page: Page) -> None:
    """A page that is only an image, at its own resolution and size."""
    width, height = page.image.width * 25.4 / page.dpi, page.image.height * 25.4 / page.dpi
    doc.page((width, height), margin=0)
    doc.pdf.image(page.image, x=0, y=0, w=width, h=height)


def _write_whole(target: Path, write: Callable[[BinaryIO], T]) -> T:
    """Write a file beside `target` and move it into place, so a failure never leaves half a file."""
    tmp = target.with_name(target.name + ".part")
    try:
        with open(tmp, "wb") as out:
            result = write(out)
        tmp.replace(target)
    except OSError as exc:
        _discard(tmp)
        raise _write_error(target, exc) from exc
    except BaseException:  # a font or a poster refused halfway: no stray .part file
        _discard(tmp)
        raise
    return result


def _discard(tmp: Path) -> None:
    """Remove a scratch file if it is there and removable."""
    try:
        tmp.unlink(missing_ok=True)
    except OSError:
        pass


def _write_error(target: Path, exc: OSError) -> PosterError:
    return PosterError(
        f"无法写入 {target}（{exc.strerror or exc}）。请换一个文件夹或文件名。",
        f"Cannot write {target} ({exc.strerror or exc}). Choose another folder or file name.",
    )
