"""The assignment list: my institutions, searched as I type, filtered, sorted, paged from the cache."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.message import Message
from textual.widgets import DataTable, Input, Label, Select
from textual.worker import get_current_worker

from .base import FieldkitScreen
from .i18n import step_name, tr
from .widgets.footer import TranslatedFooter
from .widgets.progress import progress_cell
from .widgets.status_bar import StatusBar

if TYPE_CHECKING:
    from cache.store import AssignmentRow

PAGE = 100
FILTERS = ("all", "not_started", "in_progress", "blocked", "full_process", "follow_up_due")
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
    Column("col.unsent", 2),
)


def fit_columns(width: int) -> list[Column]:
    """The columns that fit `width` cells, the name taking what is left (optional ones go first)."""
    columns = list(COLUMNS)
    while True:
        fixed = sum(c.width + 2 for c in columns if c.width) + 2 + 3  # name padding, scrollbar
        if width - fixed >= 20 or not any(c.optional for c in columns):
            break
        columns.remove(next(c for c in reversed(columns) if c.optional))
    name_width = max(14, min(40, width - fixed))
    return [Column(c.key, name_width) if c.key == "col.name" else c for c in columns]


def clip(text: str, width: int) -> Text:
    """Text cut to `width` terminal cells (Chinese characters count two), with an ellipsis."""
    cell = Text(text, no_wrap=True, overflow="ellipsis")
    cell.truncate(width, overflow="ellipsis")
    return cell


def short_date(value: str | None) -> str:
    """'11-28' from an ISO date or timestamp, '' for none."""
    return value[5:10] if value and len(value) >= 10 else ""


def row_cells(row: AssignmentRow, columns: list[Column], lang: str, today: date) -> list[Any]:
    """The cells of one institution's row."""
    cells: dict[str, Any] = {
        "col.name": clip(row.name, columns[0].width),
        "col.county": clip(row.county, 8),
        "col.progress": progress_cell(row.done, 11, 5, row.blocked),
        "col.next_step": clip(step_name(row.next_step, lang), 12),
        "col.bank": Text(tr(f"bank.{row.bank_status}", lang), BANK_STYLES.get(row.bank_status, "")),
        "col.last_visit": short_date(row.last_visit_at),
        "col.next_visit": Text(short_date(row.next_visit_on),
                               "bold red" if row.next_visit_on and
                               row.next_visit_on < today.isoformat() else ""),
        "col.unsent": Text("●", "yellow") if row.unsent else "",
    }
    return [cells[c.key] for c in columns]


class AssignmentsScreen(FieldkitScreen):
    """The institutions assigned to me."""

    CSS_PATH = "assignments.tcss"
    BINDINGS = [
        Binding("enter", "open", "Open", id="open", show=False),
        Binding("slash", "search", "Search", id="search"),
        Binding("f", "next_filter", "Filter", id="filter"),
        Binding("o", "next_sort", "Sort", id="sort"),
        Binding("pagedown", "more", "Load more", id="more", show=False),
    ]

    class PageLoaded(Message):
        """A page of rows arrived from the cache."""

        def __init__(self, rows: list[AssignmentRow], total: int, offset: int) -> None:
            super().__init__()
            self.rows, self.total, self.offset = rows, total, offset

    def __init__(self) -> None:
        super().__init__()
        self.query_text = ""
        self.filter = "all"
        self.sort = "priority"
        self.total = 0
        self.loaded = 0
        self.columns: list[Column] = fit_columns(100)

    def compose(self) -> ComposeResult:
        """Search, filter and sort on top, the list below."""
        yield StatusBar()
        yield Input(value=self.query_text, placeholder=self.t("list.search"), id="search",
                    compact=True)
        with Horizontal(id="controls"):
            yield Select([(self.t(f"filter.{f}"), f) for f in FILTERS], value=self.filter,
                         allow_blank=False, id="filter", compact=True)
            yield Select([(self.t(f"sort.{s}"), s) for s in SORTS], value=self.sort,
                         allow_blank=False, id="sort", compact=True)
            yield Label("", id="count")
        yield DataTable(id="assignments", cursor_type="row", zebra_stripes=True)
        yield TranslatedFooter()

    def on_mount(self) -> None:
        """Lay out the columns for this width, load the first page, follow the sync."""
        self.columns = fit_columns(self.size.width or self.app.size.width)
        self.after_compose()
        self.follow_sync()

    def after_compose(self) -> None:
        """Columns, focus, first page."""
        self._add_columns()
        self.query_one(DataTable).focus()
        self.reload()

    def on_resize(self) -> None:
        """Re-fit the columns when the terminal changes size."""
        columns = fit_columns(self.size.width)
        if columns != self.columns:
            self.columns = columns
            self.query_one(DataTable).clear(columns=True)
            self._add_columns()
            self.reload()

    def on_screen_resume(self) -> None:
        """Coming back from an institution: show its new progress."""
        self.reload()

    def _add_columns(self) -> None:
        table = self.query_one(DataTable)
        for column in self.columns:
            table.add_column(self.t(column.key), width=column.width, key=column.key)

    def reload(self) -> None:
        """Load the first page for the current search, filter and sort."""
        self.load_page(0)

    @work(thread=True, exclusive=True, group="assignments", exit_on_error=False)
    def load_page(self, offset: int) -> None:
        """Query one page (and the total) from the cache, off the event loop."""
        store, today = self.fk.store, self.fk.today()
        if store is None:
            return
        rows = store.assignments(self.query_text, self.filter, self.sort, PAGE, offset, today)
        total = (store.count_assignments(self.query_text, self.filter, today)
                 if offset == 0 else self.total)
        if not get_current_worker().is_cancelled:
            self.post_message(self.PageLoaded(rows, total, offset))

    def on_assignments_screen_page_loaded(self, message: PageLoaded) -> None:
        """Put a page of rows in the table (a whole new list, or the next page)."""
        table = self.query_one(DataTable)
        if message.offset and message.offset != self.loaded:
            return
        if not message.offset:
            keep = table.cursor_row
            table.clear()
            self.loaded = 0
        lang, today = self.fk.language, self.fk.today()
        for row in message.rows:
            table.add_row(*row_cells(row, self.columns, lang, today), key=row.id)
        self.loaded += len(message.rows)
        self.total = message.total
        if not message.offset and 0 < keep < self.loaded:
            table.move_cursor(row=keep)
        label = (self.t("list.count", total=message.total, shown=self.loaded)
                 if message.total else self.t("list.empty"))
        self.query_one("#count", Label).update(label)

    def selected_id(self) -> str | None:
        """The id of the institution under the cursor."""
        table = self.query_one(DataTable)
        if not (0 <= table.cursor_row < table.row_count):
            return None
        return table.coordinate_to_cell_key((table.cursor_row, 0)).row_key.value

    @on(Input.Changed, "#search")
    def _search(self, event: Input.Changed) -> None:
        self.query_text = event.value.strip()
        self.reload()

    @on(Input.Submitted, "#search")
    def _to_list(self) -> None:
        self.query_one(DataTable).focus()

    @on(Select.Changed, "#filter")
    def _filter(self, event: Select.Changed) -> None:
        if event.value != self.filter and isinstance(event.value, str):
            self.filter = event.value
            self.reload()

    @on(Select.Changed, "#sort")
    def _sort(self, event: Select.Changed) -> None:
        if event.value != self.sort and isinstance(event.value, str):
            self.sort = event.value
            self.reload()

    @on(DataTable.RowSelected)
    def _open_row(self) -> None:
        self.action_open()

    @on(DataTable.RowHighlighted)
    def _maybe_more(self, event: DataTable.RowHighlighted) -> None:
        if event.cursor_row >= self.loaded - 5:
            self.action_more()

    def action_open(self) -> None:
        """Open the institution under the cursor."""
        from .institution import InstitutionScreen

        inst_id = self.selected_id()
        if inst_id is not None:
            self.app.push_screen(InstitutionScreen(inst_id))

    def action_search(self) -> None:
        """Put the cursor in the search box."""
        self.query_one("#search", Input).focus()

    def action_next_filter(self) -> None:
        """Show the next filter."""
        self.query_one("#filter", Select).value = FILTERS[(FILTERS.index(self.filter) + 1)
                                                          % len(FILTERS)]

    def action_next_sort(self) -> None:
        """Sort the next way."""
        self.query_one("#sort", Select).value = SORTS[(SORTS.index(self.sort) + 1) % len(SORTS)]

    def action_more(self) -> None:
        """Load the next page, if there is one."""
        if self.loaded < self.total:
            self.load_page(self.loaded)
