"""The command palette reaches an institution: its name (even a part), pinyin initials, full pinyin,
credit code or address, searched in the cache off the event loop, opens it. The palette itself says
"no matches" in the user's language."""

from __future__ import annotations

import asyncio
from typing import Any

from rich.align import Align
from rich.text import Text
from textual.command import CommandList, CommandPalette, Hit, Hits, Provider
from textual.widgets.option_list import Option

from .i18n import tr

SHOWN = 8  # institutions offered at most, best first


# What the override below uses of Textual 8.2's CommandPalette.
_PALETTE_MEMBERS = (
    "_stop_no_matches_countdown",
    "_NO_MATCHES",
    "_NO_MATCHES_COUNTDOWN",
    "_list_visible",
    "_no_matches_timer",
)


class LocalPalette(CommandPalette):
    """Textual's command palette, saying "no matches" in the user's language.

    Textual writes its "No matches found" as a literal inside `_start_no_matches_countdown`, with
    no attribute to set, so this one method is overridden: the same countdown, the same option."""

    def __init__(self, no_matches: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.no_matches = no_matches

    def _start_no_matches_countdown(self, search_value: str) -> None:
        """After a short pause, a disabled "no matches" line if a search found nothing (a
        Textual whose palette lacks the members this copy uses keeps its own English line)."""
        if not all(hasattr(self, name) for name in _PALETTE_MEMBERS):
            super()._start_no_matches_countdown(search_value)
            return
        self._stop_no_matches_countdown()

        def show_no_matches() -> None:
            if search_value:
                self.query_one(CommandList).add_option(
                    Option(
                        Align.center(Text(self.no_matches, style="not bold")),
                        disabled=True,
                        id=self._NO_MATCHES,
                    )
                )
                self._list_visible = True
            else:  # nothing typed (discovery): nothing to report
                self._list_visible = False

        self._no_matches_timer = self.set_timer(self._NO_MATCHES_COUNTDOWN, show_no_matches)


class InstitutionCommands(Provider):
    """One hit per matching institution of the cache; choosing it opens the institution."""

    async def search(self, query: str) -> Hits:
        """The institutions the cache finds for `query`, the list's own search."""
        app: Any = self.app
        store = getattr(app, "store", None)
        if store is None or not query.strip():
            return
        rows = await asyncio.to_thread(
            store.assignments, query, "all", "priority", SHOWN, 0, app.today()
        )
        matcher = self.matcher(query)
        for row in rows:
            name_score = matcher.match(row.name)
            yield Hit(
                max(0.5, name_score),  # pinyin initials do not match the name's letters
                matcher.highlight(row.name) if name_score else row.name,
                _opener(app, row.id),
                text=row.name,
                help=tr("palette.institution_help", app.language, county=row.county, id=row.id),
            )


def _opener(app: Any, inst_id: str) -> Any:
    """A callback opening one institution on top of the screen shown."""

    def open_institution() -> None:
        from .institution import InstitutionScreen

        app.push_screen(InstitutionScreen(inst_id))

    return open_institution
