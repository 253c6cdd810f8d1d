"""The technician's due list: overdue, today, this week; grouped by county and street for a route."""

from __future__ import annotations

from collections.abc import Iterator
from itertools import islice
from typing import TYPE_CHECKING

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.message import Message
from textual.widgets import Label

from fieldkit import domain
from fieldkit.domain import cases as dc

from .base import FieldkitScreen
from .i18n import pick
from .widgets.choice_bar import ChoiceBar
from .widgets.fit_row import FitRow
from .widgets.footer import TranslatedFooter
from .widgets.status_bar import StatusBar
from .widgets.virtual_table import Cell, ColumnSpec, VirtualTable

if TYPE_CHECKING:
    from cache.case_view import DueTask

    from .app import FieldkitApp

RANGES = ("all", *dc.BUCKETS)
BUCKET_STYLES = {"overdue": "bold red", "today": "bold yellow", "week": "bold cyan"}
HEADER = "-"
PAGE = 80  # rows made per page: a city's ~1,000 tasks are not all drawn to open the list


def county_name(code: str) -> str:
    """The county's short name (the last part of its full name)."""
    division = domain.DIVISIONS.get(code)
    return division.name if division else code


def task_rows(tasks: list[DueTask], lang: str, wide: bool) -> Iterator[tuple[str, list[Cell]]]:
    """Rows of the table (key, cells): a heading per bucket, then its tasks; county and street
    only where they change, so the groups of a route stand out. Made as the table needs them."""
    shown = 0
    for where in dc.BUCKETS:
        group = [t for t in tasks if t.bucket == where]
        if not group:
            continue
        title = pick(dc.BUCKET_NAMES[where], lang)
        style = BUCKET_STYLES[where]
        heading: list[Cell] = [
            [("━━━━━", style)],
            [("━━━━━━━━━━", style)],
            [(f"{title} ({len(group)})", style)],
            [],
        ]
        yield HEADER, heading + ([[]] if wide else [])
        last: tuple[str, str] = ("", "")
        for task in group:
            place = (task.division_code, task.street)
            county = county_name(task.division_code) if place[0] != last[0] else ""
            street = task.street if place != last else ""
            last = place
            style = "red" if where == "overdue" else ""
            cells: list[Cell] = [
                [(task.on.strftime("%m-%d"), style)],
                [(_task_name(task.kind, lang), "bold" if task.kind == "returned" else "")],
                [(county, "dim"), ("·" if county and street else "", "dim"), (street, "")],
                [(task.name, "")],
            ]
            if wide:
                cells.append([(task.detail, "dim")])
            yield str(shown), cells
            shown += 1


def _task_name(kind: str, lang: str) -> str:
    from .i18n import tr

    return tr(f"task.{kind}", lang)


class DueListScreen(FieldkitScreen):
    """What falls due: follow-ups, case deadlines, look-back rounds and returned visits."""

    CSS_PATH = "due_list.tcss"
    BINDINGS = [
        Binding("escape", "back", "Back", id="back"),
        Binding("o", "open", "Open institution", id="open_institution"),
        Binding("v", "start_task", "Start this visit", id="start_task"),
        Binding("f", "next_range", "Range", id="range"),
    ]

    class Loaded(Message):
        """The due list arrived from the cache."""

        def __init__(self, tasks: list[DueTask]) -> None:
            super().__init__()
            self.tasks = tasks

    def __init__(self, tasks: list[DueTask] | None = None) -> None:
        """`tasks`: the list read before the screen was pushed (see `open`), shown at once."""
        super().__init__()
        self.range = "all"
        self.preloaded = tasks
        self._rows: Iterator[tuple[str, list[Cell]]] = iter(())
        self.tasks: list[DueTask] = tasks or []
        self.shown: list[DueTask] = []
        self.loads = 0
        self._resumed = False
        self._layout: tuple[
            int, ...
        ] = ()  # lists put on screen so far (tests and the benchmark watch it)

    def compose(self) -> ComposeResult:
        """Title and range on top, the list below."""
        yield StatusBar()
        with FitRow(id="top"):  # the count under the range when both do not fit
            with Horizontal(id="heading"):
                yield Label(self.t("due.title", today=self.fk.today().isoformat()), id="title")
                yield ChoiceBar(
                    self.t("due.range"),
                    [(self._range_name(r), r) for r in RANGES],
                    self.range,
                    id="range",
                )
            yield Label("", id="count")
        yield VirtualTable(id="due")
        yield TranslatedFooter()

    def _range_name(self, value: str) -> str:
        return (
            self.t("due.all") if value == "all" else pick(dc.BUCKET_NAMES[value], self.fk.language)
        )

    def on_mount(self) -> None:
        """Columns, then the list; reload after every sync round."""
        self.after_compose()
        self.follow_sync()

    @classmethod
    def open(cls, app: FieldkitApp) -> None:
        """Read the due list in a thread, then push the screen with it: one frame, with its rows."""

        def read() -> None:
            store = app.store
            if store is not None:
                tasks = store.due_list(app.today(), app.language)
                app.call_from_thread(app.show_tool_screen, cls, lambda: cls(tasks))

        app.run_worker(
            read, thread=True, exclusive=True, group="open-due-list", exit_on_error=False
        )

    def after_compose(self) -> None:
        """Set the columns for this width; show the list read before, or read it."""
        self._columns()
        self.query_one(VirtualTable).focus()
        if self.preloaded is not None and not self.loads:
            self.on_due_list_screen_loaded(self.Loaded(self.preloaded))
        else:
            self.reload()

    @property
    def wide(self) -> bool:
        """Whether there is room for the details column."""
        return (self.size.width or self.app.size.width) >= 100

    def _columns(self) -> None:
        self._layout = (self.wide,)
        columns = [
            ColumnSpec(self.t("col.due_on"), 5),
            ColumnSpec(self.t("col.task"), 10 if self.fk.language == "en" else 8),
            ColumnSpec(self.t("col.street"), 18),
            ColumnSpec(self.t("col.institution"), 20, fill=True),
        ]
        if self.wide:
            columns.append(ColumnSpec(self.t("col.detail"), 34))
        self.query_one(VirtualTable).set_columns(columns)

    def on_resize(self) -> None:
        """Re-fit the columns when the details column comes or goes."""
        if (self.wide,) != self._layout:
            self._columns()
            self._show()

    def on_screen_resume(self) -> None:
        """Back from an institution or a visit: read again (the first showing has just read)."""
        if not self._resumed:
            self._resumed = True
            return
        self.reload()

    def reload(self) -> None:
        """Read the due list again."""
        self.load()

    @work(thread=True, exclusive=True, group="due-list", exit_on_error=False)
    def load(self) -> None:
        """Collect the due tasks off the event loop."""
        store = self.fk.store
        if store is not None:
            self.post_message(self.Loaded(store.due_list(self.fk.today(), self.fk.language)))

    def on_due_list_screen_loaded(self, message: Loaded) -> None:
        """Show what was read."""
        self.tasks = message.tasks
        self._show()
        self.loads += 1

    def _show(self) -> None:
        self.shown = [t for t in self.tasks if self.range in ("all", t.bucket)]
        self._rows = task_rows(self.shown, self.fk.language, self.wide)
        self._more(append=False)
        table = self.query_one(VirtualTable)
        if table.selected_key() == HEADER and table.row_count > 1:
            table.cursor = 1
        label = self.t("due.count", n=len(self.shown)) if self.shown else self.t("due.empty")
        self.query_one("#count", Label).update(label)
        self.call_after_refresh(self.query_one("#top", FitRow).refit)

    def _more(self, append: bool = True) -> None:
        """Put the next page of rows in the table (the rest are made when scrolled to)."""
        page = list(islice(self._rows, PAGE))
        if page or not append:
            self.query_one(VirtualTable).set_rows(
                [k for k, _ in page], [c for _, c in page], append=append
            )

    @on(VirtualTable.Highlighted)
    def _near_end(self, event: VirtualTable.Highlighted) -> None:
        if event.index >= self.query_one(VirtualTable).row_count - 5:
            self._more()

    def selected(self) -> DueTask | None:
        """The task under the cursor (None on a heading)."""
        key = self.query_one(VirtualTable).selected_key()
        if key is None or key == HEADER:
            return None
        return self.shown[int(key)]

    @on(ChoiceBar.Changed, "#range")
    def _range(self, event: ChoiceBar.Changed) -> None:
        self.range = event.value
        self._show()

    def action_next_range(self) -> None:
        """Show the next range (all, overdue, today, this week)."""
        self.query_one("#range", ChoiceBar).cycle()

    @on(VirtualTable.Selected)
    def _chosen(self) -> None:
        self.action_open()

    def action_open(self) -> None:
        """Open the institution of the task under the cursor."""
        from .institution import InstitutionScreen

        task = self.selected()
        if task is not None:
            self.app.push_screen(InstitutionScreen(task.institution_id))

    def action_start_task(self) -> None:
        """Start the visit the task asks for (or amend the returned visit)."""
        from .visit import VisitScreen

        task = self.selected()
        store = self.fk.store
        if task is None or store is None:
            return
        inst = store.institution(task.institution_id)
        if inst is None:
            return
        if task.kind == "returned":
            self.app.push_screen(
                VisitScreen(task.institution_id, inst["name"], inst, amend=task.ref)
            )
            return
        self.app.push_screen(
            VisitScreen(task.institution_id, inst["name"], inst, kind=task.visit_kind)
        )

    def action_back(self) -> None:
        """Back to where the list was opened from."""
        self.app.pop_screen()
