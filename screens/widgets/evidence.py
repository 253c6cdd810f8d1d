"""Evidence on screen: paths typed, pasted or dropped into the terminal, and the list of files kept."""

from __future__ import annotations

import os
import shlex
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from rich.table import Table
from rich.text import Text

from fieldkit.evidence.inbox import SUFFIXES

from ..i18n import tr

__all__ = ["SUFFIXES", "dropped_paths", "evidence_table"]
STATE_STYLE = {
    "unsent": "yellow",
    "uploading": "yellow",
    "sent": "green",
    "at_office": "cyan",
    "rejected": "bold red",
    "discarded": "dim",
}


def dropped_paths(text: str) -> list[Path]:
    """The files in text a person typed, pasted or dropped (quoted, escaped, or file:// URLs).

    A folder stands for the photos and PDFs in it.
    """
    text = text.strip()
    if not text:
        return []
    if Path(text).expanduser().exists():  # one path with spaces, not quoted
        words = [text]
    else:
        try:
            words = shlex.split(text, posix=os.name != "nt")
        except ValueError:
            words = text.split()
    found: list[Path] = []
    for word in words:
        word = word.strip().strip("'\"")
        if word.startswith("file://"):
            word = unquote(urlsplit(word).path)
        path = Path(word).expanduser()
        if path.is_dir():
            found += sorted(p for p in path.iterdir() if p.suffix.lower() in SUFFIXES)
        else:
            found.append(path)
    return found


def evidence_table(rows: list[dict[str, Any]], lang: str, selected: int | None = None) -> Table:
    """Attachments as a table: name, what it is on, size, time taken, place, state."""
    table = Table(expand=True, box=None, padding=(0, 1), show_edge=False)
    table.add_column(tr("evidence.col_name", lang), ratio=3, no_wrap=True, overflow="ellipsis")
    table.add_column(tr("evidence.col_on", lang), ratio=2, no_wrap=True)
    table.add_column(tr("evidence.col_size", lang), justify="right", no_wrap=True)
    table.add_column(tr("evidence.col_taken", lang), no_wrap=True)
    table.add_column(tr("evidence.col_state", lang), no_wrap=True)
    if not rows:
        table.add_row(Text(tr("evidence.none", lang), "dim"), "", "", "", "")
    for index, row in enumerate(rows):
        on = tr(f"evidence.on_{row['record_kind']}", lang)
        if row.get("item") is not None:
            on += f" #{int(row['item']) + 1}"
        state = row.get("state", "unsent")
        mark = "▶ " if index == selected else "  "
        table.add_row(
            Text(
                mark + str(row["name"] or row["sha256"][:12]), "bold" if index == selected else ""
            ),
            on,
            f"{int(row['size']) / 1048576:.1f} MiB",
            (row.get("taken_at") or "").replace("T", " ")[:16] or "—",
            Text(tr(f"evidence.state_{state}", lang), STATE_STYLE.get(state, "")),
        )
    return table
