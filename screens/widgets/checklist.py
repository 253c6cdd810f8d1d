"""The eleven-step checklist of one institution as a table, one row per step."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rich.cells import cell_len
from rich.text import Text
from textual.message import Message
from textual.widgets import DataTable

from fieldkit import domain

from ..i18n import status_name, tr

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

    def on_mount(self) -> None:
        """The columns."""
        self.add_column("#", width=2, key="n")
        zh = self.lang == "zh"
        names = max(cell_len(step.name(self.lang)) for step in domain.STEPS)
        self.add_column(tr("inst.step", self.lang), width=names, key="step")  # each name whole
        self.add_column(tr("inst.status", self.lang), width=8 if zh else 13, key="status")
        self.add_column(tr("inst.sync_col", self.lang), width=6, key="sync")
        self.add_column(tr("inst.note", self.lang), width=12, key="note")

    def show(self, states: Mapping[str, Any]) -> None:
        """Fill the table from the cache's StepStates, keeping the cursor where it was."""
        cursor = self.cursor_row
        self.clear()
        for number, step in enumerate(domain.STEPS, start=1):
            state = states.get(step.key)
            status = state.status if state else domain.TODO
            sync = state.sync_state if state else "synced"
            name = Text(step.name(self.lang), "dim italic" if step.set_by == domain.SERVER else "")
            self.add_row(
                str(number),
                name,
                status_cell(status, self.lang),
                Text(tr(f"sync.{sync}", self.lang), "bold yellow") if sync != "synced" else "",
                (state.reason or state.note or "") if state else "",
                key=step.key,
            )
        self.move_cursor(row=max(0, min(cursor, len(domain.STEPS) - 1)))

    def selected_step(self) -> str:
        """The key of the step under the cursor."""
        return domain.STEPS[max(0, min(self.cursor_row, len(domain.STEPS) - 1))].key

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        """Tell the screen which step is selected."""
        event.stop()
        if event.row_key.value:
            self.post_message(self.StepHighlighted(event.row_key.value))
