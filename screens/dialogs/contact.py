"""Edit an institution's contact person and mobile number."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label

from fieldkit import domain

from ..i18n import tr


class ContactDialog(ModalScreen[tuple[str, str] | None]):
    """Returns (name, normalised mobile), or None when cancelled."""

    CSS_PATH = "dialogs.tcss"
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="cancel")]

    def __init__(self, name: str, phone: str, lang: str) -> None:
        super().__init__()
        self.name_value, self.phone_value, self.lang = name, phone, lang

    def compose(self) -> ComposeResult:
        """Name, phone, OK and Cancel."""
        with Vertical(classes="dialog"):
            yield Label(tr("dialog.contact_title", self.lang), classes="title")
            yield Label(tr("inst.contact", self.lang))
            yield Input(self.name_value, id="name")
            yield Label(tr("inst.phone", self.lang))
            yield Input(self.phone_value, id="phone")
            yield Label("", id="error", classes="error")
            with Horizontal(classes="buttons"):
                yield Button(tr("dialog.ok", self.lang), variant="primary", id="ok")
                yield Button(tr("dialog.cancel", self.lang), id="cancel")

    @on(Input.Submitted, "#name")
    def _to_phone(self) -> None:
        """Enter after the name goes on to the phone, as on a paper form."""
        self.query_one("#phone", Input).focus()

    @on(Input.Submitted, "#phone")
    @on(Button.Pressed, "#ok")
    def _ok(self) -> None:
        name = self.query_one("#name", Input).value.strip()
        try:
            phone = domain.validate_phone(self.query_one("#phone", Input).value)
        except domain.DomainError as exc:
            self.query_one("#error", Label).update(exc.message(self.lang))
            return
        self.dismiss((name, phone))

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        """Close without saving."""
        self.dismiss(None)
