"""Ask yes or no before something that cannot be undone."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Label

from ..i18n import tr


class ConfirmDialog(ModalScreen[bool]):
    """Returns True for yes; Yes is red (the destructive style) unless `destructive` is False."""

    CSS_PATH = "dialogs.tcss"
    BINDINGS = [
        Binding("escape", "no", "Cancel", id="cancel"),
        Binding("y", "yes", "Yes", id="yes"),
    ]

    def __init__(self, question: str, lang: str, destructive: bool = True) -> None:
        super().__init__()
        self.question, self.lang, self.destructive = question, lang, destructive

    def compose(self) -> ComposeResult:
        """The question, Yes and No."""
        with Vertical(classes="dialog"):
            yield Label(self.question, classes="question")
            with Horizontal(classes="buttons"):
                if self.destructive:
                    yield Button(tr("dialog.yes", self.lang), variant="error", id="yes")
                    yield Button(tr("dialog.no", self.lang), variant="primary", id="no")
                else:  # going on with something: Yes is the way forward, nothing is lost
                    yield Button(tr("dialog.yes", self.lang), variant="primary", id="yes")
                    yield Button(tr("dialog.no", self.lang), id="no")

    def on_mount(self) -> None:
        """Default to No."""
        self.query_one("#no", Button).focus()

    @on(Button.Pressed, "#yes")
    def action_yes(self) -> None:
        """Answer yes."""
        self.dismiss(True)

    @on(Button.Pressed, "#no")
    def action_no(self) -> None:
        """Answer no."""
        self.dismiss(False)
