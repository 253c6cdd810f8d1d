"""The assignment list: my institutions, searched as I type, filtered, sorted, paged from the cache."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from typing import TYPE_CHECKING

from rich.cells import cell_len
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.message import Message
from textual.widgets import Input

from fieldkit import domain

from .base import FieldkitScreen
from .i18n import MESSAGES, step_name, tr
from .list_search import ListSearch
from .widgets.choice_bar import ChoiceBar
from .widgets.count_label import CountLabel
from .widgets.fit_row import FitRow
from .widgets.footer import TranslatedFooter
from .widgets.progress import progress_parts
from .widgets.search_box import FrameHold, SearchBox
from .widgets.status_bar import StatusBar
from .widgets.virtual_table import Cell, ColumnSpec, VirtualTable

if TYPE_CHECKING:
    from cache.store import AssignmentRow

PAGE = 60
KEPT_CELLS = 2000  # rows' cells kept by the search thread (forgotten all at once past it)
FILTERS = (
    "all",
    "not_started",
    "in_progress",
    "blocked",
    "full_process",
    "follow_up_due",
    "discrepancy",
)
SORTS = ("priority", "name", "county")
BANK_STYLES = {"passed": "green", "failed": "bold red", "pending": "yellow"}


@dataclass(frozen=True)
class Column:
    """One column of the list: its message id and width in terminal cells."""

    key: str
    width: int
    optional: bool = False


COLUMNS = (
    Column("col.name", 0),
    Column("col.county", 8),
    Column("col.progress", 11),
    Column("col.next_step", 12),
    Column("col.bank", 8),
    Column("col.last_visit", 5, optional=True),
    Column("col.next_visit", 5, optional=True),
    Column("col.unsent", 4),
)


NAME_ROOMY = 28  # name cells kept before a wide terminal widens the next-step column


def fit_columns(width: int, lang: str = "zh") -> list[Column]:
    """The columns that leave the name at least 20 cells of `width` (optional ones go first);
    room to spare widens the next step, so long (English) step names are not cut."""
    columns = list(COLUMNS)
    while True:
        fixed = sum(c.width + 2 for c in columns if c.width) + 2 + 4  # name padding, scrollbar
        if width - fixed >= 20 or not any(c.optional for c in columns):
            break
        columns.remove(next(c for c in reversed(columns) if c.optional))
    spare = width - fixed - NAME_ROOMY
    if spare > 0:
        longest = max(cell_len(step.name(lang)) for step in domain.STEPS)
        columns = [
            replace(c, width=max(c.width, min(longest, c.width + spare)))
            if c.key == "col.next_step"
            else c
            for c in columns
        ]
    return columns


def short_date(value: str | None) -> str:
    """'11-28' from an ISO date or timestamp, '' for none."""
    return value[5:10] if value and len(value) >= 10 else ""


def next_step_text(key: str | None, lang: str, width: int) -> str:
    """The next step's name, or its short name when the whole name does not fit `width` (an
    English name at 80 columns: 'Course review' is 'Courses', never 'Course revi…')."""
    name = step_name(key, lang)
    if key is None or cell_len(name) <= width or f"step_short.{key}" not in MESSAGES:
        return name
    return tr(f"step_short.{key}", lang)


def row_cells(row: AssignmentRow, columns: list[Column], lang: str, today: date) -> list[Cell]:
    """The cells of one institution's row, as (text, style) parts."""
    overdue = bool(row.next_visit_on and row.next_visit_on < today.isoformat())
    step_width = next((c.width for c in columns if c.key == "col.next_step"), 0)
    cells: dict[str, Cell] = {
        "col.name": [(row.name, "")],
        "col.county": [(row.county, "")],
        "col.progress": progress_parts(row.done, 11, 5, row.blocked),
        "col.next_step": [(next_step_text(row.next_step, lang, step_width), "")],
        "col.bank": [(tr(f"bank.{row.bank_status}", lang), BANK_STYLES.get(row.bank_status, ""))],
        "col.last_visit": [(short_date(row.last_visit_at), "")],
        "col.next_visit": [(short_date(row.next_visit_on), "bold red" if overdue else "")],
        "col.unsent": [("●", "yellow")] if row.unsent else [],
    }
    return [cells[c.key] for c in columns]


class AssignmentsScreen(FieldkitScreen):
    """The institutions assigned to me."""

    # (its styles, assignments.tcss, load with the app's: it is the app's default screen)
    BINDINGS = [
        # priority: the app runs it as the key arrives, so keys typed right after the slash
        # (a terminal may deliver them in one read) go to the search box, not to the list
        Binding("slash", "search", "Search", id="search", priority=True),
        Binding("f", "next_filter", "Filter", id="filter"),
        Binding("o", "next_sort", "Sort", id="sort"),
        Binding("ctrl+pagedown", "more", "Load more", id="more", show=False),
        Binding("escape", "leave_search", "Leave the search box", id="leave_search"),
    ]

    class PageLoaded(Message):
        """A page of rows arrived from the cache (with their cells, made off the event loop)."""

        bubble = False  # (the list's own: nothing above it listens)

        def __init__(
            self,
            rows: list[AssignmentRow],
            total: int,
            offset: int,
            query: tuple[str, str, str],
            cells: tuple[list[Column], list[list[Cell]]],
        ) -> None:
            super().__init__()
            self.rows, self.total, self.offset, self.query = rows, total, offset, query
            self.cells = cells

    def __init__(self) -> None:
        super().__init__()
        self.query_text = ""
        self.filter = "all"
        self.sort = "priority"
        self.total = 0
        self.loaded = 0
        self.columns: list[Column] = fit_columns(100)
        self.pages_shown = 0  # pages put in the table so far (benchmarks and tests watch it)
        self.open_single = False  # Enter was pressed in the search box before its answer came
        self.frame = FrameHold(self)  # a keystroke's echo and its list painted in one frame
        # (the search thread's) cells by row, for the columns, language and day they were made
        # for: a row that stays in the list as the search narrows is not made again
        self._cells: tuple[tuple[list[Column], str, date], dict[AssignmentRow, list[Cell]]] = (
            (self.columns, "", date.min),
            {},
        )
        self.search = ListSearch(
            lambda offset: self.query_page(offset), self.post_message, self._search_failed
        )

    def compose(self) -> ComposeResult:
        """Search, filter and sort on top, the list below."""
        yield StatusBar()
        with Horizontal(id="top"):
            yield SearchBox(
                self.frame,
                value=self.query_text,
                placeholder=self.t("list.search"),
                id="search",
                compact=True,
            )
            yield CountLabel(id="count")
        with FitRow(id="controls"):  # the sort under the filters when both do not fit
            yield ChoiceBar(
                self.t("list.filter_title"),
                [(self.t(f"filter.{f}"), f) for f in FILTERS],
                self.filter,
                id="filter",
            )
            yield ChoiceBar(
                self.t("list.sort_title"),
                [(self.t(f"sort.{s}"), s) for s in SORTS],
                self.sort,
                id="sort",
            )
        yield VirtualTable(id="assignments")
        yield TranslatedFooter()

    def on_mount(self) -> None:
        """Lay out the columns for this width, load the first page, follow the sync."""
        self.after_compose()
        self.follow_sync()  # (the app builds the search index once the list is painted)

    def after_compose(self) -> None:
        """Columns, focus, and the first page at once (one indexed query, a few ms)."""
        self.columns = fit_columns(self.size.width or self.app.size.width, self.fk.language)
        self._add_columns()
        self.query_one(VirtualTable).focus()
        page = self.query_page(0)
        if page is not None:
            self.on_assignments_screen_page_loaded(page)

    def on_resize(self) -> None:
        """Re-fit the columns when the terminal changes size."""
        columns = fit_columns(self.size.width, self.fk.language)
        if columns != self.columns:
            self.columns = columns
            self._add_columns()
            self.reload()

    def on_screen_resume(self) -> None:
        """Coming back from an institution: show its new progress."""
        self.reload()

    def on_screen_suspend(self) -> None:
        """Another screen on top: it paints at once."""
        self.frame.release()

    def _add_columns(self) -> None:
        self.query_one(VirtualTable).set_columns(
            [
                ColumnSpec(
                    self.t(c.key), 14 if c.key == "col.name" else c.width, fill=c.key == "col.name"
                )
                for c in self.columns
            ]
        )

    def reload(self) -> None:
        """Load the first page for the current search, filter and sort."""
        self.load_page(0)

    def load_page(self, offset: int) -> None:
        """Query one page (and the total) from the cache, in the list's search thread; the
        latest query wins (an answer overtaken by a newer request is never shown)."""
        self.search.ask(offset)

    def on_unmount(self) -> None:
        """The list's search thread ends with the list."""
        self.search.stop()

    def _search_failed(self, error: BaseException) -> None:
        """(The search thread) The cache failed a query: said in words; the typing shown."""

        def report() -> None:
            self.frame.release()
            self.app.report_error(error)  # type: ignore[attr-defined]  # (FieldkitApp's)

        try:
            self.app.call_from_thread(report)
        except RuntimeError:  # the app is closing
            pass

    def query_page(self, offset: int) -> PageLoaded | None:
        """One page of the current search from the cache (a few ms: see bench_cache.py)."""
        store, today = self.fk.store, self.fk.today()
        if store is None:
            return None
        query = self.current_query
        text, filter_, sort = query
        rows = store.assignments(text, filter_, sort, PAGE, offset, today)
        total = store.count_assignments(text, filter_, today) if offset == 0 else self.total
        columns, lang = self.columns, self.fk.language
        made_for, kept = self._cells
        if made_for != (columns, lang, today) or len(kept) > KEPT_CELLS:
            kept = {}
            self._cells = ((columns, lang, today), kept)
        cells = []
        for row in rows:
            made = kept.get(row)
            if made is None:
                kept[row] = made = row_cells(row, columns, lang, today)
            cells.append(made)
        return self.PageLoaded(rows, total, offset, query, (columns, cells))

    @property
    def current_query(self) -> tuple[str, str, str]:
        """What the list should show: search text, filter, sort."""
        return (self.query_text, self.filter, self.sort)

    @property
    def loading_query(self) -> bool:
        """Whether the table still shows an older search than the one typed."""
        return getattr(self, "shown_query", None) != self.current_query

    def on_assignments_screen_page_loaded(self, message: PageLoaded) -> None:
        """Put a page of rows in the table (a whole new list, or the next page)."""
        table = self.query_one(VirtualTable)
        if message.query != self.current_query or (
            message.offset and message.offset != self.loaded
        ):
            return  # an older search: a newer page is on its way
        if not message.offset:  # the list of the query typed: paint it with the typing, now
            # (from the table's own queue, after the table has told the screen what it redraws)
            table.call_later(self.frame.release)
        columns, cells = message.cells
        if columns is not self.columns:  # laid out again since: cells for these columns
            lang, today = self.fk.language, self.fk.today()
            cells = [row_cells(r, self.columns, lang, today) for r in message.rows]
        table.set_rows(
            [r.id for r in message.rows],
            cells,
            append=bool(message.offset),
            keep_cursor=message.query == getattr(self, "shown_query", None),
        )
        self.shown_query = message.query
        self.pages_shown += 1
        self.loaded = table.row_count
        self.total = message.total
        label = (
            self.t("list.count_one")
            if message.total == 1
            else self.t("list.count", total=message.total)
            if message.total
            else self.t("list.empty")
        )
        # fixed width: no relayout per keystroke (and no repaint when the count stays)
        self.query_one("#count", CountLabel).update(label, layout=False)
        if self.open_single and not message.offset:
            self.open_single = False
            self._to_list()

    def selected_id(self) -> str | None:
        """The id of the institution under the cursor."""
        return self.query_one(VirtualTable).selected_key()

    @on(Input.Changed, "#search")
    def _search(self, event: Input.Changed) -> None:
        """Search in a worker thread at each keystroke: the event loop never waits on the cache
        (benchmarks/bench_app.py measures keystroke to painted list through `fieldkit`)."""
        event.stop()  # (the list's own: nothing above it listens)
        query = event.value.strip()
        if query != self.query_text:
            self.query_text = query
            self.frame.hold()  # (the box holds it already when typed in)
            self.reload()  # the typed character is painted with this query's list
        else:
            self.frame.release()  # a space: the list stays as it is

    @on(Input.Submitted, "#search")
    def _to_list(self) -> None:
        """Enter in the search box: open the institution when only one matches, else go to the
        list (a search still running opens its single match when it arrives)."""
        if self.loading_query:
            self.open_single = True
            return
        self.query_one(VirtualTable).focus()
        if self.total == 1:
            self.action_open()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Esc leaves the search box; elsewhere on the list it does nothing (and is not shown)."""
        in_search = isinstance(self.focused, Input) and self.focused.id == "search"
        if action == "leave_search":
            return in_search
        if action == "search":
            return not in_search  # a slash typed in the search box is text
        return True

    def action_leave_search(self) -> None:
        """From the search box to the list, keeping what was typed."""
        self.query_one(VirtualTable).focus()

    @on(ChoiceBar.Changed, "#filter")
    def _filter(self, event: ChoiceBar.Changed) -> None:
        if event.value != self.filter:
            self.filter = event.value
            self.reload()

    @on(ChoiceBar.Changed, "#sort")
    def _sort(self, event: ChoiceBar.Changed) -> None:
        if event.value != self.sort:
            self.sort = event.value
            self.reload()

    @on(VirtualTable.Selected)
    def _open_row(self) -> None:
        self.action_open()

    @on(VirtualTable.Highlighted)
    def _maybe_more(self, event: VirtualTable.Highlighted) -> None:
        if event.index >= self.loaded - 5:
            self.action_more()

    def action_open(self) -> None:
        """Open the institution under the cursor."""
        from .institution import InstitutionScreen

        inst_id = self.selected_id()
        if inst_id is not None:
            self.app.push_screen(InstitutionScreen(inst_id))

    def action_search(self) -> None:
        """Put the cursor in the search box before the next key is routed (`focus()` would wait
        its turn in the app's queue, behind the keys typed right after the slash)."""
        self.set_focus(self.query_one("#search", Input))

    def action_next_filter(self) -> None:
        """Show the next filter."""
        self.query_one("#filter", ChoiceBar).cycle()

    def action_next_sort(self) -> None:
        """Sort the next way."""
        self.query_one("#sort", ChoiceBar).cycle()

    def action_more(self) -> None:
        """Load the next page, if there is one."""
        if self.loaded < self.total:
            self.load_page(self.loaded)
