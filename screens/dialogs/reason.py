"""Ask why a step is blocked."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label

from ..i18n import tr


class ReasonDialog(ModalScreen[str | None]):
    """Returns the reason typed, or None when cancelled."""

    CSS_PATH = "dialogs.tcss"
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="cancel")]

    def __init__(self, title: str, lang: str) -> None:
        super().__init__()
        self.title_text, self.lang = title, lang

    def compose(self) -> ComposeResult:
        """A title, one input, OK and Cancel."""
        with Vertical(classes="dialog"):
            yield Label(self.title_text, classes="title")
            yield Input(placeholder=tr("dialog.reason_hint", self.lang), id="reason")
            yield Label("", id="error", classes="error")
            with Horizontal(classes="buttons"):
                yield Button(tr("dialog.ok", self.lang), variant="primary", id="ok")
                yield Button(tr("dialog.cancel", self.lang), id="cancel")

    @on(Input.Submitted)
    @on(Button.Pressed, "#ok")
    def _ok(self) -> None:
        reason = self.query_one("#reason", Input).value.strip()
        if not reason:
            self.query_one("#error", Label).update(tr("dialog.reason_required", self.lang))
            return
        self.dismiss(reason)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        """Close without a reason."""
        self.dismiss(None)
