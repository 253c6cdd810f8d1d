"""The help screen (`?`, F1): every key of the screen it was opened on and what it does, in the
user's language. It reads the screen's own bindings, so a key added to any screen is listed here
without touching this file."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Label, Static

from .i18n import MESSAGES, tr
from .widgets.wrapped import WrappedText


@dataclass(frozen=True)
class KeyHelp:
    """One action of a screen: the keys that run it and what it does."""

    keys: tuple[str, ...]
    what: str


def screen_keys(app: Any, screen: Screen[Any], lang: str) -> list[KeyHelp]:
    """The actions reachable by key on `screen` now (its focused widget's, its own, the app's),
    named in `lang`; keys of one action are listed together, disabled actions left out."""
    by_action: dict[str, tuple[list[str], str]] = {}
    palette_key = app.COMMAND_PALETTE_BINDING
    for key, (_node, binding, enabled, _tip) in screen.active_bindings.items():
        if not enabled:
            continue
        if key == palette_key:
            label = tr("key.palette", lang)
        elif binding.id and f"key.{binding.id}" in MESSAGES:
            label = tr(f"key.{binding.id}", lang)
        else:
            continue  # Textual's own keys (copy, tab...) are not named in the user's language
        shown = app.get_key_display(binding)
        keys, _ = by_action.setdefault(binding.action, ([], label))
        if shown not in keys:
            keys.append(shown)
    return [KeyHelp(tuple(keys), label) for keys, label in by_action.values()]


def keys_table(entries: list[KeyHelp], lang: str) -> Table:
    """Keys on the left, what they do on the right."""
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold", no_wrap=True)
    table.add_column()
    for entry in entries:
        table.add_row(" / ".join(entry.keys), entry.what)
    return table


class HelpScreen(ModalScreen[None]):
    """What each key of the screen below does; Esc, F1 or ? closes it."""

    CSS_PATH = "help.tcss"
    BINDINGS = [
        Binding("escape", "close", "Close", id="close_help"),
        Binding("f1", "close", "Close", id="close_help_f1", show=False),
        Binding("question_mark", "close", "Close", id="close_help_q", show=False),
        Binding("q", "close", "Close", id="close_help_letter", show=False),
    ]

    def __init__(self, title: str, entries: list[KeyHelp], lang: str) -> None:
        super().__init__()
        self.title_text, self.entries, self.lang = title, entries, lang

    def compose(self) -> ComposeResult:
        """Title, the keys, and how to reach everything else, in one box that scrolls (arrows,
        PgUp/PgDn, Home/End, the wheel) when it is taller than the terminal."""
        with VerticalScroll(classes="help", id="help-keys"):
            yield Label(tr("help.title", self.lang, screen=self.title_text), classes="title")
            yield Static(keys_table(self.entries, self.lang), id="keys")
            # wrapped between any two Chinese characters: "Ctrl+P" is not left alone on a line
            yield WrappedText(Text(tr("help.footer", self.lang), "dim"), id="help-footer")

    def action_close(self) -> None:
        """Back to the screen."""
        self.dismiss(None)
