"""The payment-code screen: the institution's signed code in half blocks, its name and id, poster export."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Static

from fieldkit.cli.payment import default_export_path, export_poster
from fieldkit.payment.fonts import FontMissing
from fieldkit.payment.posters import (
    INSTRUCTIONS,
    SIZE_NAMES,
    SIZES,
    PosterError,
    save_pdf,
    save_png,
)
from fieldkit.payment.qr import PaymentCodeRefused, terminal_lines, verified_payload

from .widgets.footer import TranslatedFooter
from .widgets.messages import BilingualFailure

if TYPE_CHECKING:
    from cache import Store

SIDE_PANEL = 34  # columns the name/id panel needs beside the code

WORDS: dict[str, tuple[str, str]] = {
    "id": ("平台编号", "Platform id"),
    "size": ("海报尺寸：{size}（s 切换）", "Poster size: {size} (s to change)"),
    "too_small": (
        "终端窗口太小，放不下收款码：需要至少 {need_w}×{need_h}，当前 {w}×{h}。"
        "请放大窗口或缩小字体；也可以按 g 或 f 导出海报（PNG/PDF）再用手机核对。",
        "The terminal is too small for the code: it needs at least {need_w}×{need_h}, "
        "it is {w}×{h}. Enlarge the window or use a smaller font, or press g or f to export "
        "the poster (PNG/PDF) and check that with a phone.",
    ),
    "refused": ("不能显示收款码", "The payment code cannot be shown"),
    "exporting": ("正在生成 {what}…", "Making {what}…"),
    "exported": ("已保存 {path}", "Saved {path}"),
    "scan_hint": (
        "请用手机扫码核对：显示应为本机构名称。",
        "Check with a phone: it should show this institution's name.",
    ),
}


class QRScreen(Screen[None]):
    """One institution's supervised payment code, shown and exported only after its signature checks."""

    DEFAULT_CSS = """
    QRScreen { align: center middle; }
    QRScreen #qr-title { width: auto; height: 1; text-style: bold; padding: 0 1; }
    QRScreen #qr-body { width: auto; height: auto; }
    QRScreen #qr-code { width: auto; height: auto; color: black; background: white; }
    QRScreen #qr-side { width: 32; height: auto; padding: 0 0 0 2; }
    QRScreen #qr-side.-narrow { display: none; }
    QRScreen #qr-problem { width: auto; max-width: 100%; height: auto; padding: 1 2; color: $error; }
    QRScreen #qr-status { width: auto; height: auto; padding: 0 1; }
    QRScreen Static.-hidden { display: none; }
    """

    BINDINGS = [
        Binding("escape", "back", "Back", id="back"),
        Binding("g", "export('png')", "PNG poster", id="qr_png"),
        Binding("f", "export('pdf')", "PDF poster", id="qr_pdf"),
        Binding("s", "next_size", "Poster size", id="qr_size"),
    ]

    class PosterExported(Message):
        """A poster was written (and recorded when the screen has a store)."""

        def __init__(
            self, institution_id: str, size: str, path: Path, payload_sha256: str, recorded: bool
        ) -> None:
            super().__init__()
            self.institution_id = institution_id
            self.size = size
            self.path = path
            self.payload_sha256 = payload_sha256
            self.recorded = recorded

    class ExportFailed(BilingualFailure):
        """A poster could not be made; zh/en say why."""

    def __init__(
        self,
        institution: dict[str, Any],
        public_key: str | None,
        language: str = "zh",
        *,
        store: Store | None = None,
        office_name: str | None = None,
        export_dir: Path | None = None,
    ) -> None:
        super().__init__()
        self.institution = institution
        self.public_key = public_key
        self.language = language
        self.store = store
        self.office_name = office_name
        self.export_dir = export_dir
        self.poster_size = "a4"
        self.payload: str | None = None
        self.refusal: PaymentCodeRefused | None = None
        try:
            self.payload = verified_payload(institution, public_key)
        except PaymentCodeRefused as refused:
            self.refusal = refused
        self.lines = terminal_lines(self.payload) if self.payload else []

    def w(self, key: str, **values: object) -> str:
        """One of this screen's phrases in its language."""
        zh, en = WORDS[key]
        return (zh if self.language == "zh" else en).format(**values)

    def compose(self) -> ComposeResult:
        inst = self.institution
        yield Static(f"{inst.get('name', '')}  {self.w('id')} {inst.get('id', '')}", id="qr-title")
        with Horizontal(id="qr-body"):
            yield Static(Text("\n".join(self.lines), style="black on white"), id="qr-code")
            with Vertical(id="qr-side"):
                yield Static(Text(inst.get("name", ""), style="bold"), id="qr-name")
                yield Static(f"{self.w('id')} {inst.get('id', '')}", id="qr-id")
                yield Static("")
                yield Static("\n".join(f"{n}. {line}" for n, line in enumerate(INSTRUCTIONS, 1)))
                yield Static("")
                yield Static(self.w("scan_hint"), id="qr-hint")
                yield Static(self._size_text(), id="qr-size")
        yield Static("", id="qr-problem", classes="-hidden")
        yield Static("", id="qr-status")
        yield TranslatedFooter()

    def on_mount(self) -> None:
        self._fit(self.app.size.width, self.app.size.height)

    async def relabel(self) -> None:
        """Redraw in the app's new language (the app calls this when the language changes)."""
        self.language = str(getattr(self.app, "language", self.language))
        await self.recompose()
        self._fit(self.app.size.width, self.app.size.height)

    def on_resize(self, event: events.Resize) -> None:
        self._fit(event.size.width, event.size.height)

    def needed_size(self) -> tuple[int, int]:
        """Columns and rows the code needs, with its title and footer lines."""
        if not self.lines:
            return 0, 0
        return len(self.lines[0]) + 2, len(self.lines) + 3

    def _fit(self, width: int, height: int) -> None:
        """Show the code when it fits whole, else say how much room it needs."""
        problem = self.query_one("#qr-problem", Static)
        body = self.query_one("#qr-body")
        if self.refusal is not None:
            body.display = False
            problem.update(
                f"{self.w('refused')}：{self.refusal.message(self.language)}"
                if self.language == "zh"
                else f"{self.w('refused')}: {self.refusal.message(self.language)}"
            )
            problem.remove_class("-hidden")
            return
        need_w, need_h = self.needed_size()
        fits = width >= need_w and height >= need_h
        body.display = fits
        problem.set_class(fits, "-hidden")
        if not fits:
            problem.update(self.w("too_small", need_w=need_w, need_h=need_h, w=width, h=height))
        self.query_one("#qr-side").set_class(width < need_w + SIDE_PANEL, "-narrow")

    def _size_text(self) -> str:
        zh, en = SIZE_NAMES[self.poster_size]
        return self.w("size", size=zh if self.language == "zh" else en)

    def action_back(self) -> None:
        """Close the code."""
        self.app.pop_screen()

    def action_next_size(self) -> None:
        """Cycle the poster size: A4, A6, 58 mm strip."""
        self.poster_size = SIZES[(SIZES.index(self.poster_size) + 1) % len(SIZES)]
        self.query_one("#qr-size", Static).update(self._size_text())

    def action_export(self, fmt: str) -> None:
        """Write the poster of the chosen size as PNG or PDF (in a thread)."""
        if self.refusal is not None:
            self.notify(self.refusal.message(self.language), severity="error")
            return
        inst_id = str(self.institution.get("id", ""))
        path = default_export_path(inst_id, self.poster_size, fmt)
        if self.export_dir is not None:
            path = self.export_dir / path.name
        self.query_one("#qr-status", Static).update(self.w("exporting", what=path.name))
        self._export(path, self.poster_size)

    @work(thread=True, exclusive=True, group="poster-export", exit_on_error=False)
    def _export(self, path: Path, size: str) -> None:
        """Render, write and record the poster off the event loop."""
        try:
            if self.store is not None:
                poster = export_poster(
                    self.store, self.institution, self.public_key, size, path, self.office_name
                )
            else:
                from fieldkit.payment.posters import render_poster

                poster = render_poster(
                    self.institution, self.public_key, size, issuer=self.office_name
                )
                path.parent.mkdir(parents=True, exist_ok=True)
                save_pdf([poster], path) if path.suffix == ".pdf" else save_png(poster, path)
        except (PaymentCodeRefused, PosterError, FontMissing, OSError) as error:
            zh = getattr(error, "zh", str(error))
            en = getattr(error, "en", str(error))
            self.post_message(self.ExportFailed(zh, en))
            return
        self.post_message(
            self.PosterExported(
                poster.institution_id, size, path, poster.payload_sha256, self.store is not None
            )
        )

    @on(PosterExported)
    def _exported(self, message: PosterExported) -> None:
        self.query_one("#qr-status", Static).update(self.w("exported", path=message.path))

    @on(ExportFailed)
    def _export_failed(self, message: ExportFailed) -> None:
        text = message.text(self.language)
        self.query_one("#qr-status", Static).update(text)
        self.notify(text, severity="error")
