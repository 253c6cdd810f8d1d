"""The line of a visit form that offers the watched folder's new photos (Ctrl+A adds them)."""

from __future__ import annotations

from pathlib import Path

from rich.text import Text
from textual.widgets import Label

from ..i18n import listed, tr


def inbox_text(files: tuple[Path, ...], lang: str) -> Text:
    """'3 new photos in the phone folder: a.jpg, b.jpg, c.jpg — Ctrl+A adds them', or nothing."""
    if not files:
        return Text("")
    names = listed((f.name for f in files[:4]), lang) + ("…" if len(files) > 4 else "")
    return Text(tr("inbox.offer", lang, n=len(files), names=names), "bold cyan")


class PhotoInboxLine(Label):
    """Follows the app's `photo_inbox` (kept by screens.photo_watch) and shows what it offers."""

    DEFAULT_CSS = "PhotoInboxLine { height: auto; padding: 0 1; }"

    def __init__(self, lang: str, *, id: str | None = None) -> None:
        super().__init__("", id=id)
        self.lang = lang

    def on_mount(self) -> None:
        """Show the inbox now and whenever it changes."""
        self.watch(self.app, "photo_inbox", self._show, init=True)

    def _show(self, files: tuple[Path, ...]) -> None:
        self.update(inbox_text(files, self.lang))
        self.display = bool(files)
