"""Pick one of a few things (which visit's notice to print): Enter takes it, Esc goes back."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, OptionList
from textual.widgets.option_list import Option


class PickDialog(ModalScreen[str | None]):
    """Returns the value of the option chosen, or None when cancelled."""

    CSS_PATH = "dialogs.tcss"
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="cancel")]

    def __init__(self, question: str, options: list[tuple[str, str]]) -> None:
        super().__init__()
        self.question = question
        self.options = options  # (what the user reads, the value returned)

    def compose(self) -> ComposeResult:
        """The question and the options."""
        with Vertical(classes="dialog"):
            yield Label(self.question, classes="title")
            yield OptionList(*(Option(label, id=value) for label, value in self.options))

    @on(OptionList.OptionSelected)
    def _picked(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        """Go back without choosing."""
        self.dismiss(None)
