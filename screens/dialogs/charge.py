"""Record what an institution actually charges: course, amount, hours, months, when it is taken."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Select

from fieldkit import domain
from fieldkit.domain.courses import fen_of
from fieldkit.domain.dates import parse_date
from fieldkit.domain.errors import ValidationError

from ..i18n import tr

SOURCES = ("price_board", "receipt", "contract", "word_of_mouth", "other")
UNLISTED = "__unlisted__"


@dataclass(frozen=True)
class ChargeEntry:
    """A charge as the technician typed it, checked for form (the rules are checked by the cache)."""

    course_id: str | None
    course_name: str | None
    amount_fen: int
    hours: int | None
    months: int | None
    collected_on: date | None
    start_on: date | None
    source: str


class ChargeDialog(ModalScreen[ChargeEntry | None]):
    """Returns the charge typed, or None when cancelled."""

    CSS_PATH = "dialogs.tcss"
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="cancel")]

    def __init__(self, courses: list[dict[str, Any]], lang: str) -> None:
        super().__init__()
        self.courses, self.lang = courses, lang

    def compose(self) -> ComposeResult:
        """The fields of one charge, OK and Cancel."""
        t = self.lang
        options = [(f"{c['name']}（{c['course_id']}）", c["course_id"]) for c in self.courses]
        options.append((tr("charge.unlisted", t), UNLISTED))
        with Vertical(classes="dialog"):
            yield Label(tr("charge.title", t), classes="title")
            with VerticalScroll():
                yield Label(tr("charge.course", t))
                yield Select(
                    options, value=options[0][1], allow_blank=False, id="course", compact=True
                )
                yield Label(tr("charge.course_name", t))
                yield Input(id="course-name", compact=True)
                yield Label(tr("charge.amount", t))
                yield Input(id="amount", placeholder="2880.00", compact=True)
                yield Label(tr("charge.hours", t))
                yield Input(id="hours", placeholder="36", compact=True)
                yield Label(tr("charge.months", t))
                yield Input(id="months", placeholder="3", compact=True)
                yield Label(tr("charge.collected", t))
                yield Input(id="collected", placeholder=date.today().isoformat(), compact=True)
                yield Label(tr("charge.start", t))
                yield Input(id="start", placeholder="2026-09-01", compact=True)
                yield Label(tr("charge.source", t))
                yield Select(
                    [(tr(f"charge.source_{s}", t), s) for s in SOURCES],
                    value="price_board",
                    allow_blank=False,
                    id="source",
                    compact=True,
                )
            yield Label("", id="error", classes="error")
            with Horizontal(classes="buttons"):
                yield Button(tr("dialog.ok", t), variant="primary", id="ok")
                yield Button(tr("dialog.cancel", t), id="cancel")

    def _value(self, widget_id: str) -> str:
        return self.query_one(widget_id, Input).value.strip()

    def _count(self, widget_id: str) -> int | None:
        text = self._value(widget_id)
        if not text:
            return None
        if not text.isdigit() or int(text) <= 0:
            raise ValueError(tr("charge.bad_number", self.lang, value=text))
        return int(text)

    def _day(self, widget_id: str) -> date | None:
        text = self._value(widget_id)
        if not text:
            return None
        try:
            return parse_date(text)
        except ValidationError as exc:  # the form, or a day that does not exist (2026-02-30)
            raise ValueError(exc.message(self.lang)) from None

    def entry(self) -> ChargeEntry:
        """The charge the fields describe (ValueError or DomainError in words)."""
        course = str(self.query_one("#course", Select).value)
        if not self._value("#amount"):
            raise ValueError(tr("charge.amount_needed", self.lang))
        return ChargeEntry(
            course_id=None if course == UNLISTED else course,
            course_name=self._value("#course-name") or None,
            amount_fen=fen_of(self._value("#amount")),
            hours=self._count("#hours"),
            months=self._count("#months"),
            collected_on=self._day("#collected"),
            start_on=self._day("#start"),
            source=str(self.query_one("#source", Select).value),
        )

    @on(Input.Submitted)
    @on(Button.Pressed, "#ok")
    def _ok(self) -> None:
        try:
            entry = self.entry()
        except domain.DomainError as exc:
            self.query_one("#error", Label).update("✗ " + exc.message(self.lang))
            return
        except ValueError as exc:
            self.query_one("#error", Label).update("✗ " + str(exc))
            return
        self.dismiss(entry)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        """Close without recording."""
        self.dismiss(None)


def record_entry(
    store: Any, inst_id: str, visit_id: str | None, entry: ChargeEntry
) -> tuple[dict[str, Any], list[Any]]:
    """Record a typed charge in the cache (and its outbox); (op, breaches)."""
    return store.record_charge(  # type: ignore[no-any-return]
        inst_id,
        visit_id,
        entry.course_id,
        entry.course_name,
        entry.amount_fen,
        entry.hours,
        entry.months,
        entry.collected_on,
        entry.start_on,
        source=entry.source,
    )


def charge_words(breaches: list[Any], lang: str) -> str:
    """What the feedback line says of a recorded charge."""
    if not breaches:
        return tr("charge.saved_ok", lang)
    what = ("；" if lang == "zh" else "; ").join(b.text(lang) for b in breaches)
    return tr("charge.saved_breach", lang, what=what)
