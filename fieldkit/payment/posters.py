"""Printable payment posters (A4, A6 desk card, 58 mm strip) and rectification notices, as PNG and PDF."""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import BinaryIO, TypeVar

from PIL import Image, ImageDraw

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
    count = len(matrix)
    module = max(1, target_width // count)
    raw = bytes(0 if dark else 255 for row in matrix for dark in row)
    small = Image.frombytes("L", (count, count), raw).convert("1", dither=Image.Dither.NONE)
    return small.resize((count * module, count * module), Image.Resampling.NEAREST)


def render_poster(
    institution: dict,
    public_key_b64: str | None,
    size: str = "a4",
    printed_on: date | None = None,
    issuer: str | None = None,
) -> Poster:
    """An institution's payment poster; refuses (PaymentCodeRefused) a payload the office did not sign."""
    if size not in LAYOUTS:
        raise PosterError(
            f"未知的海报尺寸“{size}”，可选：a4、a6、strip。",
            f"Unknown poster size '{size}'; choose a4, a6 or strip.",
        )
    payload = qr.verified_payload(institution, public_key_b64)
    layout = LAYOUTS[size]
    font = find_cjk_font()
    code = qr_image(payload, layout.qr_width)
    when = (printed_on or date.today()).isoformat()
    plan = Canvas(layout.width, None, font, layout.margin)
    _poster_content(plan, layout, institution, code, when, issuer)
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


def render_rectification_notice(
    institution: dict,
    visit: dict,
    technician: str,
    printed_on: date | None = None,
    issuer: str | None = None,
) -> list[Page]:
    """The 整改通知书 of a visit on A4 pages: institution, items, deadline, technician, date, signatures."""
    rect = visit.get("rectification") or {}
    items = [item for item in rect.get("items") or [] if str(item).strip()]
    if not items:
        raise PosterError(
            "这次走访没有整改通知书（没有整改事项）。",
            "This visit has no rectification notice (no items to rectify).",
        )
    layout = LAYOUTS["a4"]
    font = find_cjk_font()
    when = (printed_on or date.today()).isoformat()
    visit_day = str(visit.get("started_at") or "")[:10] or when
    pages: list[Page] = []
    page_height = layout.height or 3508
    canvas = Canvas(layout.width, page_height, font, layout.margin)
    canvas.text("整改通知书", layout.title, bold=True)
    canvas.text(f"编号 {str(visit.get('visit_id', ''))[:8].upper()}", layout.small)
    canvas.space(layout.body)
    for line in (
        f"机构名称：{institution.get('name', '')}",
        f"平台编号：{institution.get('id', '')}",
        f"地址：{institution.get('address') or ''}",
        f"检查日期：{visit_day}",
        "经现场检查，发现以下问题，请在整改期限内完成整改，并通过监管平台报告整改情况：",
    ):
        canvas.text(line, layout.body, align="left")
    canvas.space(layout.body // 2)
    for number, item in enumerate(items, 1):
        if canvas.y > page_height - 12 * layout.body:
            pages.append(_finish(canvas, layout))
            canvas = Canvas(layout.width, page_height, font, layout.margin)
            canvas.text("整改通知书（续）", layout.body, bold=True)
        canvas.text(f"{number}. {item}", layout.body, align="left")
    canvas.space(layout.body // 2)
    canvas.text(f"整改期限：{rect.get('deadline', '')} 前", layout.body, bold=True, align="left")
    canvas.text(f"检查人员：{technician}    打印日期：{when}", layout.body, align="left")
    canvas.space(layout.body * 2)
    canvas.text(
        "检查人员签字：____________________    日期：____________",
        layout.body,
        align="left",
        gap=1.6,
    )
    canvas.text(
        "机构负责人签字：__________________    日期：____________",
        layout.body,
        align="left",
        gap=1.6,
    )
    canvas.space(layout.body)
    canvas.text(
        f"{issuer or DEFAULT_ISSUER} · 本通知书一式两份，机构与检查单位各执一份。", layout.small
    )
    pages.append(_finish(canvas, layout))
    return pages


def _finish(canvas: Canvas, layout: Layout) -> Page:
    """Close a canvas into a page."""
    assert canvas.image is not None
    canvas.image.info["dpi"] = (layout.dpi, layout.dpi)
    return Page(canvas.image, layout.dpi, tuple(canvas.texts))


# ---------------------------------------------------------------- files


def save_png(page: Page, path: str | Path) -> Path:
    """Write one page as a PNG with its resolution."""
    target = Path(path)
    _write_whole(target, lambda out: page.image.save(out, "PNG", dpi=(page.dpi, page.dpi)))
    return target


def save_pdf(pages: Iterable[Page], path: str | Path) -> int:
    """Write pages into one PDF, one after another (bounded memory); returns the page count."""
    return _write_whole(Path(path), lambda out: write_pdf(out, pages))


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


def write_pdf(
    out: BinaryIO, pages: Iterable[Page | Image.Image], dpi: int = 300, bilevel: bool = True
) -> int:
    """Stream pages (each one full-page image) into a PDF file object, black and white by default."""
    writer = _PdfWriter(out)
    for page in pages:
        image, page_dpi = (page.image, page.dpi) if isinstance(page, Page) else (page, dpi)
        writer.add_image_page(to_print(image) if bilevel else image, page_dpi)
    writer.finish()
    return len(writer.page_ids)


class _PdfWriter:
    """The smallest PDF writer that holds full-page images: objects written as they come."""

    def __init__(self, out: BinaryIO) -> None:
        self.out = out
        self.offsets: dict[int, int] = {}
        self.page_ids: list[int] = []
        self.next_id = 3  # 1 = catalog, 2 = page tree, both written at the end
        self.position = 0
        self._write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")

    def _write(self, data: bytes) -> None:
        self.out.write(data)
        self.position += len(data)

    def _object(self, body: bytes, stream: bytes | None = None, obj_id: int | None = None) -> int:
        if obj_id is None:
            obj_id, self.next_id = self.next_id, self.next_id + 1
        self.offsets[obj_id] = self.position
        self._write(b"%d 0 obj\n" % obj_id + body)
        if stream is not None:
            self._write(b"\nstream\n" + stream + b"\nendstream")
        self._write(b"\nendobj\n")
        return obj_id

    def add_image_page(self, image: Image.Image, dpi: int) -> None:
        """One page showing the image at its resolution."""
        if image.mode != "1":
            image = image.convert("L")
        bits = 1 if image.mode == "1" else 8
        data = zlib.compress(image.tobytes(), 1)
        width_pt = image.width * 72 / dpi
        height_pt = image.height * 72 / dpi
        image_id = self._object(
            b"<< /Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceGray "
            b"/BitsPerComponent %d /Filter /FlateDecode /Length %d >>"
            % (image.width, image.height, bits, len(data)),
            data,
        )
        content = b"q %.3f 0 0 %.3f 0 0 cm /Im Do Q" % (width_pt, height_pt)
        content_id = self._object(b"<< /Length %d >>" % len(content), content)
        page_id = self._object(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %.3f %.3f] "
            b"/Resources << /XObject << /Im %d 0 R >> >> /Contents %d 0 R >>"
            % (width_pt, height_pt, image_id, content_id)
        )
        self.page_ids.append(page_id)

    def finish(self) -> None:
        """Write the page tree, catalog, cross-reference table and trailer."""
        kids = b" ".join(b"%d 0 R" % i for i in self.page_ids)
        self._object(
            b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, len(self.page_ids)), obj_id=2
        )
        self._object(b"<< /Type /Catalog /Pages 2 0 R >>", obj_id=1)
        xref = self.position
        size = self.next_id
        rows = [b"0000000000 65535 f \n"]
        rows += [b"%010d 00000 n \n" % self.offsets[i] for i in range(1, size)]
        self._write(b"xref\n0 %d\n" % size + b"".join(rows))
        self._write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (size, xref))


def to_print(image: Image.Image) -> Image.Image:
    """Black and white at the image's resolution, as a printer puts it on paper."""
    if image.mode == "1":
        return image
    return image.convert("L").point(_THRESHOLD, mode="1")


_THRESHOLD = [255 if v >= 128 else 0 for v in range(256)]
