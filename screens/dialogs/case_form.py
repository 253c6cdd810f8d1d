"""A small form in a dialog (an escalation step, a waived item, a returned visit), checked by the
domain before it closes, so a refusal is read where the data was typed and nothing is lost."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label

from fieldkit import domain

from ..i18n import tr

Field = tuple[str, str, str]  # input id, label, starting value
Check = Callable[[dict[str, str]], Any]


class CaseFormDialog(ModalScreen[Any]):
    """Returns what `check` made of the values typed (None when cancelled)."""

    CSS_PATH = "dialogs.tcss"
    DEFAULT_CSS = """
    CaseFormDialog { align: center middle; background: $background 60%; }
    CaseFormDialog .dialog { padding: 0 2; }
    CaseFormDialog Input { margin-bottom: 1; background: $boost; }
    """
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="cancel")]

    def __init__(self, title: str, fields: list[Field], check: Check, lang: str) -> None:
        super().__init__()
        self.title_text = title[:1].upper() + title[1:]
        self.fields, self.check, self.lang = fields, check, lang

    def compose(self) -> ComposeResult:
        """A title, one labelled input per field, OK and Cancel."""
        with Vertical(classes="dialog"):
            yield Label(self.title_text, classes="title")
            for field_id, label, value in self.fields:
                yield Label(label)
                yield Input(value=value, id=field_id, compact=True)
            yield Label("", id="error", classes="error")
            with Horizontal(classes="buttons"):
                yield Button(tr("case.ok", self.lang), variant="primary", id="ok", compact=True)
                yield Button(tr("dialog.cancel", self.lang), id="cancel", compact=True)

    def values(self) -> dict[str, str]:
        """What is typed in each field, stripped."""
        return {f: self.query_one(f"#{f}", Input).value.strip() for f, _, _ in self.fields}

    @on(Input.Submitted)
    @on(Button.Pressed, "#ok")
    def _ok(self) -> None:
        try:
            answer = self.check(self.values())
        except domain.DomainError as exc:
            self.query_one("#error", Label).update(Text("✗ " + exc.message(self.lang), "bold red"))
            return
        except ValueError as exc:
            self.query_one("#error", Label).update(Text("✗ " + str(exc), "bold red"))
            return
        self.dismiss(answer)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        """Close without saving."""
        self.dismiss(None)
