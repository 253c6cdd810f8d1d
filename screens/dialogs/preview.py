"""One evidence file: drawn in the terminal where it can be, opened with the system viewer otherwise.

The file is read from the cache, or fetched from the office when it is opened (a supervisor's
laptop holds only the list of a technician's photos until one is looked at).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Label, Static

from ..i18n import tr

if TYPE_CHECKING:
    from ..app import FieldkitApp


def open_with_system_viewer(path: Path) -> str | None:
    """Open a file with the system's viewer; None when started, else why it could not be."""
    try:
        if sys.platform.startswith("win"):
            os.startfile(str(path))  # type: ignore[attr-defined]  # noqa: S606
            return None
        command = ["open", str(path)] if sys.platform == "darwin" else ["xdg-open", str(path)]
        subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
        )
    except (OSError, AttributeError) as exc:
        return str(exc)
    return None


def images_off() -> bool:
    """Whether the user turned pictures in the terminal off (FIELDKIT_IMAGES=off)."""
    return os.environ.get("FIELDKIT_IMAGES", "").lower() in ("off", "0", "no")


def load_images(app: App[Any]) -> str | None:
    """Make the image library ready to draw; None when it is, else why it cannot be.

    The library asks the terminal what it can draw when it is first imported, which only works
    while Textual does not own the terminal: so the app is suspended for the question (a
    moment of the plain screen, once per run, at the first picture shown) instead of asking
    at every start, where a terminal that does not answer (tmux, many others) cost ~1 s.
    """
    if images_off():
        return "FIELDKIT_IMAGES=off"
    if "textual_image.widget" in sys.modules:
        return None
    from textual.app import SuspendNotSupported

    try:
        try:
            with app.suspend():
                import textual_image.widget  # noqa: F401  (the import asks, once)
        except SuspendNotSupported:  # no terminal of its own (tests, the web): nothing to ask
            import textual_image.widget  # noqa: F401
    except Exception as exc:  # noqa: BLE001 - a terminal or library that cannot draw here
        return str(exc) or type(exc).__name__
    return None


def image_widget(path: Path) -> Any:
    """textual-image's widget for the best protocol the terminal offers (sixel, kitty, cells)."""
    from textual_image.widget import Image

    return Image(str(path), id="picture")


class PreviewDialog(ModalScreen[None]):
    """Show one attachment: its picture, when and where it was taken, its hash and state."""

    CSS_PATH = "preview.tcss"
    BINDINGS = [
        Binding("escape", "close", "Close", id="close"),
        Binding("o", "open_viewer", "Open with the system viewer", id="open_viewer"),
    ]

    class Ready(Message):
        """The file is on this laptop (it was here, or was just fetched)."""

        def __init__(self, path: Path) -> None:
            super().__init__()
            self.path = path

    class Failed(Message):
        """The file could not be had; `text` says why."""

        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    def __init__(self, row: dict[str, Any], lang: str) -> None:
        super().__init__()
        self.row, self.lang = row, lang
        self.path: Path | None = None

    @property
    def fk(self) -> FieldkitApp:
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        """Title, facts, and where the picture goes."""
        row = self.row
        with Vertical(classes="dialog preview"):
            yield Label(row["name"] or row["sha256"][:12], classes="title")
            facts = [
                tr(
                    "evidence.taken", self.lang, when=(row.get("taken_at") or "—").replace("T", " ")
                ),
                tr(
                    "evidence.place",
                    self.lang,
                    where=f"{row['lat']:.5f}, {row['lon']:.5f}"
                    if row.get("lat") is not None
                    else "—",
                ),
                f"SHA-256 {row['sha256']}",
                tr(f"evidence.state_{row.get('state', 'unsent')}", self.lang),
            ]
            yield Label("\n".join(facts), id="facts")
            yield Static(Text(tr("evidence.loading", self.lang), "dim"), id="picture-slot")
            yield Label(tr("evidence.preview_keys", self.lang), classes="hint")

    def on_mount(self) -> None:
        """Get the file (from the cache or the office) in a worker."""
        self.load()

    @work(exclusive=True, group="preview", exit_on_error=False)
    async def load(self) -> None:
        """The file's path on this laptop, fetching it from the office if need be."""
        store = self.fk.store
        assert store is not None
        import asyncio

        local = await asyncio.to_thread(store.local_file, self.row["sha256"])
        if local is None:
            sync = self.fk.sync
            if sync is None:
                self.post_message(self.Failed(tr("evidence.not_here", self.lang)))
                return
            from fieldkit.sync import SyncError

            try:
                await sync.client.fetch_file(self.row["sha256"])
            except SyncError as exc:
                self.post_message(self.Failed(exc.message(self.lang)))
                return
            local = await asyncio.to_thread(store.local_file, self.row["sha256"])
        if local is None:
            self.post_message(self.Failed(tr("evidence.not_here", self.lang)))
            return
        self.post_message(self.Ready(local))

    async def on_preview_dialog_ready(self, message: Ready) -> None:
        """Draw the picture; a PDF goes to the system viewer."""
        self.path = message.path
        slot = self.query_one("#picture-slot", Static)
        if self.row.get("mime") == "application/pdf":
            slot.update(Text(tr("evidence.pdf_viewer", self.lang), "italic"))
            self.action_open_viewer()
            return
        why = load_images(self.app)
        if why is not None:
            slot.update(Text(tr("evidence.cannot_draw", self.lang, why=why), "yellow"))
            return
        try:
            picture = image_widget(message.path)
        except Exception as exc:  # noqa: BLE001 - a terminal or image the library cannot draw
            slot.update(Text(tr("evidence.cannot_draw", self.lang, why=exc), "yellow"))
            return
        await slot.remove()
        await self.query_one(".preview", Vertical).mount(picture, before="#facts")

    def on_preview_dialog_failed(self, message: Failed) -> None:
        """Say why there is no picture."""
        self.query_one("#picture-slot", Static).update(Text("✗ " + message.text, "bold red"))

    def action_open_viewer(self) -> None:
        """Hand the file to the system's viewer (what a terminal without images needs)."""
        if self.path is None:
            self.notify(tr("evidence.loading", self.lang))
            return
        why = open_with_system_viewer(self.path)
        if why:
            self.notify(tr("evidence.no_viewer", self.lang, why=why, path=self.path), timeout=20)
        else:
            self.notify(tr("evidence.opened", self.lang, path=self.path))

    def action_close(self) -> None:
        """Back."""
        self.dismiss(None)
