"""The supervisor's list of institutions where the field and the platform disagree."""

from __future__ import annotations

from datetime import date
from typing import Any

from rich.text import Text
from textual import work
from textual.message import Message
from textual.widgets import Static

from ..i18n import tr

SHOWN = 50  # the first ones, in the list's order; the filter on the list shows them all


def discrepancies_text(rows: list[tuple[str, str, list[Any]]], total: int, lang: str) -> Text:
    """(institution id, name, discrepancies) rows as lines, with how many there are in all."""
    text = Text(tr("dash.discrepancies", lang, n=total) + "\n", "bold")
    if not rows:
        text.append("  " + tr("platform.no_discrepancy", lang) + "\n", "green")
    for inst_id, name, found in rows:
        text.append(f"  {name}  ", "bold")
        text.append(inst_id + "\n", "dim")
        for item in found:
            text.append("    ! " + item.text(lang) + "\n", "red")
    if total > len(rows):
        text.append("  " + tr("dash.discrepancies_more", lang, n=total - len(rows)) + "\n", "dim")
    return text


class DiscrepancyList(Static):
    """Reads the discrepancies of the cached institutions in a thread and lists them."""

    class Loaded(Message):
        """The rows to show and how many institutions have a discrepancy."""

        def __init__(self, rows: list[tuple[str, str, list[Any]]], total: int) -> None:
            super().__init__()
            self.rows, self.total = rows, total

    def __init__(self, lang: str, **kwargs: Any) -> None:
        super().__init__("", **kwargs)
        self.lang = lang

    def show_for(self, store: Any, lang: str) -> None:
        """Compute the list again from the cache."""
        self.lang = lang
        self._load(store)

    @work(thread=True, exclusive=True, group="discrepancy-list", exit_on_error=False)
    def _load(self, store: Any) -> None:
        today = date.today()
        ids = sorted(store.discrepant_institutions(today))
        rows = []
        for inst_id in ids[:SHOWN]:
            inst = store.institution(inst_id) or {}
            rows.append(
                (inst_id, str(inst.get("name") or inst_id), store.discrepancies(inst_id, today))
            )
        self.post_message(self.Loaded(rows, len(ids)))

    def on_discrepancy_list_loaded(self, message: Loaded) -> None:
        """Draw the list."""
        message.stop()
        self.update(discrepancies_text(message.rows, message.total, self.lang))
