"""The visit log: started when opened, filled in on site, saved to the cache when ended; offline."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.widgets import (
    Button,
    Checkbox,
    Input,
    Label,
    Select,
    SelectionList,
    TextArea,
)

from fieldkit import domain
from fieldkit.payment.qr import CodeCheck

from .base import FieldkitScreen
from .dialogs.confirm import ConfirmDialog
from .i18n import outcome_name, visit_kind_name
from .widgets.code_check import CodeCheckInput
from .widgets.footer import TranslatedFooter
from .widgets.status_bar import StatusBar


class VisitForm(VerticalScroll):
    """The fields of one visit."""


def lines(text: str) -> tuple[str, ...]:
    """Non-empty stripped lines."""
    return tuple(line.strip() for line in text.splitlines() if line.strip())


class VisitScreen(FieldkitScreen):
    """Log one visit to one institution."""

    CSS_PATH = "visit.tcss"
    AUTO_FOCUS = "#kind"  # the first field, not the scrolling form around it
    HOLDS_TYPING = True  # F2/F3/F4 never close it to reach a screen below
    BINDINGS = [
        Binding("ctrl+e", "end_visit", "End visit", id="end_visit", priority=True),
        Binding("escape", "cancel_visit", "Discard visit", id="cancel_visit"),
    ]

    class Saved(Message):
        """The visit is in the cache and its outbox."""

    class Refused(Message):
        """The visit did not pass validation."""

        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    def __init__(
        self, inst_id: str, inst_name: str, institution: dict[str, Any] | None = None
    ) -> None:
        super().__init__()
        self.inst_id, self.inst_name, self.institution = inst_id, inst_name, institution
        self.visit_id = str(uuid.uuid4())
        self.code_checks: list[CodeCheck] = []
        self.started_at: datetime | None = None

    def compose(self) -> ComposeResult:
        """The form; every label in the user's language."""
        lang = self.fk.language
        if self.started_at is None:
            self.started_at = self.fk.clock()
        yield StatusBar()
        yield Label(self.t("visit.title", name=self.inst_name), classes="title")
        yield Label(
            self.t("visit.started", when=self.started_at.strftime("%Y-%m-%d %H:%M")),
            classes="hint",
            id="started",
        )
        with VisitForm():
            with Horizontal(classes="row"):
                with Vertical(classes="field"):
                    yield Label(self.t("visit.kind"))
                    yield Select(
                        [(visit_kind_name(k, lang), k) for k in domain.VISIT_KINDS],
                        value=domain.VISIT_KINDS[0],
                        allow_blank=False,
                        id="kind",
                        compact=True,
                    )
                with Vertical(classes="field"):
                    yield Label(self.t("visit.outcome"))
                    yield Select(
                        [(outcome_name(o, lang), o) for o in domain.OUTCOMES],
                        value="completed",
                        allow_blank=False,
                        id="outcome",
                        compact=True,
                    )
            yield Label(self.t("visit.steps"))
            yield SelectionList[str](
                *[(s.name(lang), s.key) for s in domain.STEPS if s.set_by == domain.TECHNICIAN],
                id="steps",
            )
            yield Label(self.t("visit.issues"))
            yield TextArea(id="issues", soft_wrap=True)
            if self.institution is not None:
                yield Label(self.t("visit.code_check"))
                yield CodeCheckInput(
                    self.institution, self.fk.settings.office_public_key, lang, id="code-check"
                )
                yield Label("", id="code-result")
            yield Label(self.t("visit.rect_items"))
            yield TextArea(id="rect-items", soft_wrap=True)
            yield Label(self.t("visit.rect_deadline"))
            yield Input(id="rect-deadline", placeholder="2026-12-31", compact=True)
            yield Checkbox(self.t("visit.interview"), id="interview", compact=True)
            yield Label(self.t("visit.next"))
            yield Input(id="next-visit", placeholder="2026-12-31", compact=True)
            yield Label(self.t("visit.notes"))
            yield TextArea(id="notes", soft_wrap=True)
            yield Label("", id="error", classes="error")
            with Horizontal(classes="buttons"):
                yield Button(self.t("visit.end"), variant="primary", id="end")
                yield Button(self.t("visit.cancel"), variant="error", id="cancel")
        yield TranslatedFooter()

    async def relabel(self) -> None:
        """Keep what was typed: the form keeps its labels until it is opened again."""

    def _date(self, widget_id: str) -> date | None:
        """A date typed in an input, None when empty; ValueError names the bad value."""
        value = self.query_one(widget_id, Input).value.strip()
        if not value:
            return None
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise ValueError(self.t("visit.bad_date", value=value)) from None

    def build_visit(self) -> domain.Visit:
        """The Visit the form describes, ended now; ValueError/DomainError when it is not valid."""
        items = lines(self.query_one("#rect-items", TextArea).text)
        deadline = self._date("#rect-deadline")
        if items and deadline is None:
            raise ValueError(self.t("visit.deadline_needed"))
        tech = self.fk.settings.technician
        assert self.started_at is not None
        visit = domain.Visit(
            visit_id=self.visit_id,
            institution_id=self.inst_id,
            technician_id=tech.id if tech else "",
            kind=str(self.query_one("#kind", Select).value),
            started_at=self.started_at,
            ended_at=max(self.fk.clock(), self.started_at),
            outcome=str(self.query_one("#outcome", Select).value),
            steps_advanced=tuple(self.query_one("#steps", SelectionList).selected),
            issues=lines(self.query_one("#issues", TextArea).text),
            rectification=domain.Rectification(items, deadline) if items and deadline else None,
            interview_recommended=self.query_one("#interview", Checkbox).value,
            next_visit_on=self._date("#next-visit"),
            notes=self.query_one("#notes", TextArea).text.strip(),
        )
        return domain.validate_visit(visit)

    @on(Button.Pressed, "#end")
    def action_end_visit(self) -> None:
        """End the visit and save it."""
        try:
            visit = self.build_visit()
        except domain.DomainError as exc:
            self._show_error(exc.message(self.fk.language))
            return
        except ValueError as exc:
            self._show_error(str(exc))
            return
        self.save(visit)

    @work(thread=True, group="save", exit_on_error=False)
    def save(self, visit: domain.Visit) -> None:
        """Write the visit and its outbox op to the cache."""
        store = self.fk.store
        assert store is not None
        try:
            store.create_visit(visit)
        except domain.DomainError as exc:
            self.post_message(self.Refused(exc.message(self.fk.language)))
            return
        for check in self.code_checks:  # after the visit, so the office knows the visit first
            store.record_qr_check(
                self.inst_id, visit.visit_id, check.result, check.found, check.content_sha256
            )
        self.post_message(self.Saved())

    def on_visit_screen_saved(self) -> None:
        """Back to the institution, saying the visit waits to be sent."""
        self.notify(self.t("visit.saved"))
        self.fk.changed_locally()
        self.dismiss(True)

    @on(CodeCheckInput.Checked)
    def _code_checked(self, event: CodeCheckInput.Checked) -> None:
        """Keep the check for the record; a mismatch becomes an issue of this visit."""
        self.code_checks.append(event.check)
        words = event.check.message(self.fk.language)
        self.query_one("#code-result", Label).update(
            Text(
                ("✓ " if event.check.is_match else "✗ ") + words,
                "bold green" if event.check.is_match else "bold red",
            )
        )
        if not event.check.is_match:
            issues = self.query_one("#issues", TextArea)
            issues.text = (issues.text.rstrip() + "\n" + words).strip()

    @on(CodeCheckInput.Failed)
    def _code_failed(self, event: CodeCheckInput.Failed) -> None:
        self.query_one("#code-result", Label).update(
            Text("✗ " + event.text(self.fk.language), "bold red")
        )

    def on_visit_screen_refused(self, message: Refused) -> None:
        """Say why the visit was not saved."""
        self._show_error(message.text)

    def _show_error(self, text: str) -> None:
        self.query_one("#error", Label).update(Text("✗ " + text, "bold red"))
        self.notify(text, severity="error")

    @on(Button.Pressed, "#cancel")
    def action_cancel_visit(self) -> None:
        """Leave without saving, after asking."""

        def leave(yes: bool | None) -> None:
            if yes:
                self.dismiss(False)

        self.app.push_screen(
            ConfirmDialog(self.t("dialog.confirm_leave_visit"), self.fk.language), leave
        )
