"""Look-back rounds (回头看) on the dashboard: each round's progress, and (supervisors) a new one."""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Button, Static

from fieldkit import domain
from fieldkit.domain import cases as dc
from fieldkit.domain.dates import parse_date
from fieldkit.domain.errors import ValidationError

from ..dialogs.case_form import CaseFormDialog
from ..i18n import tr
from .progress import bar

if TYPE_CHECKING:
    from ..app import FieldkitApp


def rounds_text(rounds: list[dict[str, Any]], lang: str) -> Text:
    """One line per round: due date, division, picked, visited, overdue, with a bar."""
    if not rounds:
        return Text(tr("round.none", lang), "dim")
    text = Text()
    for r in rounds:
        text.append(
            tr(
                "round.row",
                lang,
                due=r["due_on"],
                division=domain.full_name(r["division_code"]) if r["division_code"] else "",
                picked=r["picked"],
                done=r["done"],
                overdue=r["overdue"],
            ),
            "bold red" if r["overdue"] else "",
        )
        text.append("  ")
        text.append_text(bar(r["done"], r["picked"], 16, "green"))
        text.append("\n")
    return text


class RoundsPanel(Vertical):
    """The rounds held on this laptop, with their progress; a supervisor can start one."""

    DEFAULT_CSS = """
    RoundsPanel { height: auto; }
    RoundsPanel Button { margin: 1 0 0 0; }
    """

    class Loaded(Message):
        """The rounds' progress arrived from the cache."""

        def __init__(self, rounds: list[dict[str, Any]]) -> None:
            super().__init__()
            self.rounds = rounds

    class Started(Message):
        """The office started a round (its answer)."""

        def __init__(self, answer: dict[str, Any]) -> None:
            super().__init__()
            self.answer = answer

    def __init__(self, lang: str, supervisor: bool, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.lang, self.supervisor = lang, supervisor

    @property
    def fk(self) -> FieldkitApp:
        """The app, typed."""
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        """The title, the rounds, the button."""
        yield Static(tr("round.title", self.lang), classes="title")
        yield Static("", id="rounds")
        if self.supervisor:
            yield Button(tr("key.campaign", self.lang), id="campaign", compact=True)

    def on_mount(self) -> None:
        """Read the rounds."""
        self.reload()

    @work(thread=True, exclusive=True, group="rounds", exit_on_error=False)
    def reload(self) -> None:
        """Read the rounds' progress off the event loop."""
        store = self.fk.store
        if store is not None:
            self.post_message(self.Loaded(store.round_progress(self.fk.today())))

    def on_rounds_panel_loaded(self, message: Loaded) -> None:
        """Draw the rounds."""
        self.query_one("#rounds", Static).update(rounds_text(message.rounds, self.lang))

    @on(Button.Pressed, "#campaign")
    def ask(self) -> None:
        """Ask for the round's division, due date, sample and filter."""
        t, today = self.lang, self.fk.today()
        tech = self.fk.settings.technician
        zone = tech.zone if tech else ""
        fields = [
            ("division", tr("round.division", t), zone),
            ("due", tr("round.due", t), (today + timedelta(days=14)).isoformat()),
            ("sample", tr("round.sample", t), "20"),
            ("filter", tr("round.filter", t) + "：" + "/".join(dc.ROUND_FILTERS), "all"),
        ]

        def check(values: dict[str, str]) -> tuple[str, date, int, str]:
            from fieldkit.sync.campaigns import check_request

            try:
                due = parse_date(values["due"])
            except ValidationError as exc:  # the form, or a day that does not exist
                raise ValueError(exc.message(t)) from None
            try:
                sample: Any = float(values["sample"].rstrip("%"))
            except ValueError:
                sample = values["sample"]
            percent = check_request(values["division"], due, sample, values["filter"], today)
            if not domain.contains(zone, values["division"]):
                raise domain.ValidationError(
                    "round_zone",
                    f"“{domain.full_name(values['division'])}”不在您的管辖范围",
                    f"Division {values['division']} is outside your zone {zone}",
                    "division",
                )
            return values["division"], due, percent, values["filter"]

        def done(answer: tuple[str, date, int, str] | None) -> None:
            if answer:
                self.start(*answer)

        self.app.push_screen(CaseFormDialog(tr("key.campaign", t), fields, check, t), done)

    @work(exclusive=True, group="campaign", exit_on_error=False)
    async def start(self, division: str, due: date, sample: int, filter_name: str) -> None:
        """Ask the office to start the round (a network call: an async worker)."""
        from fieldkit.sync import SyncError
        from fieldkit.sync.campaigns import start_campaign

        try:
            answer = await start_campaign(self.fk.settings, division, due, sample, filter_name)
        except SyncError as exc:
            words = exc.zh if self.lang == "zh" else exc.en
            if exc.kind == "offline":
                words = tr("round.offline", self.lang)
            self.notify(words, severity="error", timeout=8)
            return
        self.post_message(self.Started(answer))

    def on_rounds_panel_started(self, message: Started) -> None:
        """Say what was started and pull its picks."""
        answer = message.answer
        self.notify(
            tr("round.started", self.lang, n=len(answer["institutions"]), due=answer["due_on"])
        )
        if self.fk.sync is not None:
            self.fk.sync.sync_now()
