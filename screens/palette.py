"""The command palette reaches an institution: its name (even a part), pinyin initials, full pinyin,
credit code or address, searched in the cache off the event loop, opens it."""

from __future__ import annotations

import asyncio
from typing import Any

from textual.command import Hit, Hits, Provider

from .i18n import tr

SHOWN = 8  # institutions offered at most, best first


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
