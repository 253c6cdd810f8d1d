"""The eleven-step checklist of one institution as a table, one row per step."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rich.cells import cell_len
from rich.text import Text
from textual.message import Message
from textual.widget import Widget
from textual.widgets import DataTable

from fieldkit import domain

from ..i18n import shown_sync_state, status_name, tr

STATUS_MARKS = {
    domain.DONE: ("✓", "green"),
    domain.IN_PROGRESS: ("◐", "cyan"),
    domain.BLOCKED: ("✗", "bold red"),
    domain.TODO: ("○", "dim"),
}


def status_cell(status: str, lang: str) -> Text:
    """'✓ 已完成' styled by status."""
    mark, style = STATUS_MARKS.get(status, ("?", ""))
    return Text(f"{mark} {status_name(status, lang)}", style)


NOTE_WIDTH = 12  # the reason column: a longer reason ends in '…', whole in the step's guidance


def note_cell(text: str, width: int = NOTE_WIDTH) -> Text:
    """A reason or note cut to `width` cells with '…' when longer (never cut without a sign)."""
    if cell_len(text) <= width:
        return Text(text)
    kept = ""
    for char in text:
        if cell_len(kept + char) + 1 > width:  # (room for the '…')
            break
        kept += char
    return Text(kept.rstrip() + "…")


def _note(state: Any) -> str:
    """What the reason column says of a step: why it is blocked, else its note."""
    return (state.reason or state.note or "") if state else ""


class Checklist(DataTable[Any]):
    """Steps with their status, reason and sync state; tells the screen which step is selected."""

    class StepHighlighted(Message):
        """The cursor moved to a step."""

        def __init__(self, step: str) -> None:
            super().__init__()
            self.step = step

    def __init__(self, lang: str, **kwargs: Any) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, **kwargs)
        self.lang = lang
        self.states: Mapping[str, Any] = {}
        self.note_width = NOTE_WIDTH

    def on_mount(self) -> None:
        """The columns."""
        self._add_columns()

    def _add_columns(self) -> None:
        self.add_column("#", width=2, key="n")
        self.add_column(tr("inst.step", self.lang), width=self._name_width(), key="step")
        self.add_column(tr("inst.status", self.lang), width=self._status_width(), key="status")
        self.add_column(tr("inst.sync_col", self.lang), width=6, key="sync")
        self.add_column(tr("inst.note", self.lang), width=self.note_width, key="note")

    def _name_width(self) -> int:
        return max(cell_len(step.name(self.lang)) for step in domain.STEPS)  # each name whole

    def _status_width(self) -> int:
        return 8 if self.lang == "zh" else 13

    def _fit_note_width(self) -> int:
        """The reason column as wide as the longest reason, within the room the table has
        (at least NOTE_WIDTH: longer reasons end in '…')."""
        longest = max((cell_len(_note(state)) for state in self.states.values()), default=0)
        parent = self.parent
        if not isinstance(parent, Widget) or not parent.size.width:
            return NOTE_WIDTH
        room = parent.size.width
        if self.styles.max_width is not None:
            room = min(room, int(self.styles.max_width.resolve(parent.size, self.app.size)))
        used = 2 + self._name_width() + self._status_width() + 6 + 2 * self.cell_padding * 5
        return max(NOTE_WIDTH, min(longest, room - used - 1))

    def on_resize(self) -> None:
        """A wider or narrower table: show as much of each reason as now fits."""
        if self._fit_note_width() != self.note_width:
            self.show(self.states)

    def show(self, states: Mapping[str, Any]) -> None:
        """Fill the table from the cache's StepStates, keeping the cursor where it was."""
        cursor = self.cursor_row
        self.states = states
        width = self._fit_note_width()
        if width != self.note_width:
            self.note_width = width
            self.clear(columns=True)
            self._add_columns()
        else:
            self.clear()
        for number, step in enumerate(domain.STEPS, start=1):
            state = states.get(step.key)
            status = state.status if state else domain.TODO
            sync = shown_sync_state(state.sync_state if state else "synced", self._round_running())
            name = Text(step.name(self.lang), "dim italic" if step.set_by == domain.SERVER else "")
            self.add_row(
                str(number),
                name,
                status_cell(status, self.lang),
                Text(tr(f"sync.{sync}", self.lang), "bold yellow") if sync != "synced" else "",
                note_cell(_note(state), self.note_width),
                key=step.key,
            )
        self.move_cursor(row=max(0, min(cursor, len(domain.STEPS) - 1)))

    def _round_running(self) -> bool:
        view = getattr(self.app, "status_view", None)
        return bool(getattr(view, "sending", False))

    def selected_step(self) -> str:
        """The key of the step under the cursor."""
        return domain.STEPS[max(0, min(self.cursor_row, len(domain.STEPS) - 1))].key

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        """Tell the screen which step is selected."""
        event.stop()
        if event.row_key.value:
            self.post_message(self.StepHighlighted(event.row_key.value))
