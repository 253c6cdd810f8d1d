"""The rectification ledger (整改台账) for supervisors: every case of the zone with its items, dates,
state and escalation; filtered by state; Enter opens the institution."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.message import Message
from textual.widgets import Label

from fieldkit import domain
from fieldkit.domain import cases as dc

from .base import FieldkitScreen
from .due_list import county_name
from .i18n import pick
from .widgets.case_panel import STATE_STYLES
from .widgets.choice_bar import ChoiceBar
from .widgets.footer import TranslatedFooter
from .widgets.status_bar import StatusBar
from .widgets.virtual_table import Cell, ColumnSpec, VirtualTable

if TYPE_CHECKING:
    from .app import FieldkitApp

STATES = ("all", *dc.CASE_STATES)
PAGE = 80  # rows made per page: a city's 2,000 cases are not all drawn to open the ledger
SHORT_STEPS = {
    dc.INTERVIEW_SCHEDULED: ("约谈已安排", "interview set"),
    dc.INTERVIEW_HELD: ("约谈已进行", "interview held"),
    dc.REVOCATION_RECOMMENDED: ("建议吊销", "revocation"),
    dc.CLOSED: ("结案", "closed"),
}


def read_ledger(store: Any, today: Any) -> list[dict[str, Any]]:
    """The ledger on `today`, each case with how many evidence files it holds (`evidence`)."""
    cases = store.ledger(today)
    counts = store.case_evidence()
    for case in cases:
        case["evidence"] = counts.get(case["case_id"], 0)
    return cases


def ledger_cells(case: dict[str, Any], lang: str, width: int) -> list[Cell]:
    """One case as a row: institution, county, (issued,) deadline, state, items done, (evidence
    files,) escalation (and the open items when `width` leaves room)."""
    settled = case["items"] - case["open_items"]
    step = case["last_step"]
    escalation = (
        f"{case['last_on'][5:]} {pick(SHORT_STEPS.get(step, (step, step)), lang)}" if step else ""
    )
    cells: list[Cell] = [
        [(case["institution_name"], "")],
        [(county_name(case["division_code"]), "dim")],
    ]
    if width >= 100:
        cells.append([(case["issued_on"][5:], "")])
    cells += [
        [(case["deadline"][5:], "red" if case["state"] == dc.OVERDUE else "")],
        [(pick(dc.CASE_STATE_NAMES[case["state"]], lang), STATE_STYLES[case["state"]])],
        [(f"{settled}/{case['items']}", "green" if settled == case["items"] else "")],
    ]
    if width >= 100:
        cells.append([(str(case.get("evidence") or ""), "cyan")])
    cells.append([(escalation, "bold")])
    if width >= 110:
        cells.append([(case["open_text"], "dim")])
    return cells


class LedgerScreen(FieldkitScreen):
    """Every case held on this laptop (a supervisor holds the zone's), with its state today."""

    CSS_PATH = "ledger.tcss"
    BINDINGS = [
        Binding("escape", "back", "Back", id="back"),
        Binding("o", "open", "Open institution", id="open_institution"),
        Binding("s", "next_state", "State", id="state"),
        Binding("e", "case_evidence", "Evidence", id="case_evidence"),
    ]

    class Loaded(Message):
        """The ledger arrived from the cache."""

        def __init__(self, cases: list[dict[str, Any]]) -> None:
            super().__init__()
            self.cases = cases

    def __init__(self, cases: list[dict[str, Any]] | None = None) -> None:
        """`cases`: the ledger read before the screen was pushed (see `open`), shown at once."""
        super().__init__()
        self.state = "all"
        self.preloaded = cases
        self.cases: list[dict[str, Any]] = cases or []
        self.shown: list[dict[str, Any]] = []
        self.loads = 0
        self._resumed = False
        self._layout: tuple[int, ...] = ()

    def compose(self) -> ComposeResult:
        """Title and state filter on top, the cases below."""
        yield StatusBar()
        tech = self.fk.settings.technician
        zone = domain.full_name(tech.zone) if tech else ""
        with Horizontal(id="top"):
            yield Label(
                self.t("ledger.title", zone=zone, today=self.fk.today().isoformat()), id="title"
            )
            yield Label("", id="count")
        yield ChoiceBar(
            self.t("ledger.state"),
            [
                (
                    self.t("due.all")
                    if s == "all"
                    else pick(dc.CASE_STATE_NAMES[s], self.fk.language),
                    s,
                )
                for s in STATES
            ],
            self.state,
            id="state",
        )
        yield VirtualTable(id="ledger")
        yield TranslatedFooter()

    def on_mount(self) -> None:
        """Columns, then the cases; again after every sync round."""
        self.after_compose()
        self.follow_sync()

    @classmethod
    def open(cls, app: FieldkitApp) -> None:
        """Read the ledger in a thread, then push the screen with it: one frame, with its rows."""

        def read() -> None:
            store = app.store
            if store is not None:
                cases = read_ledger(store, app.today())
                app.call_from_thread(app.show_tool_screen, cls, lambda: cls(cases))

        app.run_worker(read, thread=True, exclusive=True, group="open-ledger", exit_on_error=False)

    def after_compose(self) -> None:
        """Set the columns; show the ledger read before, or read it."""
        self._columns()
        self.query_one(VirtualTable).focus()
        if self.preloaded is not None and not self.loads:
            self.on_ledger_screen_loaded(self.Loaded(self.preloaded))
        else:
            self.reload()

    @property
    def width(self) -> int:
        """The screen's width in cells (columns come and go with it)."""
        return self.size.width or self.app.size.width

    def _columns(self) -> None:
        self._layout = (self.width >= 100, self.width >= 110)
        en = self.fk.language == "en"
        detail = self.width >= 110
        columns = [  # the details, when shown, take what is left: the row ends at the screen's edge
            ColumnSpec(self.t("col.institution"), 18, fill=not detail),
            ColumnSpec(self.t("col.county"), 8),
        ]
        if self.width >= 100:
            columns.append(ColumnSpec(self.t("col.issued_on"), 6))
        columns += [
            ColumnSpec(self.t("col.deadline"), 8 if en else 5),
            ColumnSpec(self.t("col.case_state"), 9 if en else 8),
            ColumnSpec(self.t("col.items"), 6),
        ]
        if self.width >= 100:  # at 80 columns the escalation keeps its room (e lists the files)
            columns.append(ColumnSpec(self.t("col.evidence"), 5 if en else 4))
        columns += [
            ColumnSpec(self.t("col.escalation"), 20 if en else 16),
        ]
        if detail:
            columns.append(ColumnSpec(self.t("col.detail"), 10, fill=True))
        self.query_one(VirtualTable).set_columns(columns)

    def on_resize(self) -> None:
        """Re-fit the columns when one comes or goes with the width."""
        if (self.width >= 100, self.width >= 110) != self._layout:
            self._columns()
            self._show()

    def on_screen_resume(self) -> None:
        """Back from an institution or a visit: read again (the first showing has just read)."""
        if not self._resumed:
            self._resumed = True
            return
        self.reload()

    def reload(self) -> None:
        """Read the ledger again."""
        self.load()

    @work(thread=True, exclusive=True, group="ledger", exit_on_error=False)
    def load(self) -> None:
        """Read the cases off the event loop."""
        store = self.fk.store
        if store is not None:
            self.post_message(self.Loaded(read_ledger(store, self.fk.today())))

    def on_ledger_screen_loaded(self, message: Loaded) -> None:
        """Show what was read."""
        self.cases = message.cases
        self._show()
        self.loads += 1

    def _show(self) -> None:
        self.shown = [c for c in self.cases if self.state in ("all", c["state"])]
        self._more(append=False)
        label = self.t("ledger.count", n=len(self.shown)) if self.shown else self.t("ledger.empty")
        self.query_one("#count", Label).update(label)

    def _more(self, append: bool = True) -> None:
        """Put the next page of cases in the table (the rest are made when scrolled to)."""
        table = self.query_one(VirtualTable)
        start = table.row_count if append else 0
        page = self.shown[start : start + PAGE]
        if page or not append:
            lang, width = self.fk.language, self.width
            table.set_rows(
                [str(i) for i in range(start, start + len(page))],
                [ledger_cells(c, lang, width) for c in page],
                append=append,
            )

    @on(VirtualTable.Highlighted)
    def _near_end(self, event: VirtualTable.Highlighted) -> None:
        if event.index >= self.query_one(VirtualTable).row_count - 5:
            self._more()

    @on(ChoiceBar.Changed, "#state")
    def _state(self, event: ChoiceBar.Changed) -> None:
        self.state = event.value
        self._show()

    def action_next_state(self) -> None:
        """Show the cases of the next state."""
        self.query_one("#state", ChoiceBar).cycle()

    @on(VirtualTable.Selected)
    def _chosen(self) -> None:
        self.action_open()

    def action_open(self) -> None:
        """Open the institution of the case under the cursor (its Cases tab)."""
        from .institution import InstitutionScreen

        key = self.query_one(VirtualTable).selected_key()
        if key is not None:
            self.app.push_screen(InstitutionScreen(self.shown[int(key)]["institution_id"]))

    def action_case_evidence(self) -> None:
        """The evidence of the case under the cursor: its files listed, attached, opened."""
        from .dialogs.evidence import EvidenceDialog

        key = self.query_one(VirtualTable).selected_key()
        if key is None:
            return
        case = self.shown[int(key)]
        dialog = EvidenceDialog(
            case["institution_id"],
            case["institution_name"],
            self.fk.language,
            target=("case", case["case_id"], 0),
        )
        self.app.push_screen(dialog, lambda changed: self.reload() if changed else None)

    def action_back(self) -> None:
        """Back."""
        self.app.pop_screen()
