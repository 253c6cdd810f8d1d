"""The offline store: one SQLite file per profile holding the technician's institutions and their outbox."""

from __future__ import annotations

from datetime import date
from typing import Any

from . import queries, search
from .attachments import Attachments
from .cases import Enforcement
from .core import salvaging_path
from .drafts import Drafts, VisitDraft
from .edits import POSTER_SIZES, QR_RESULTS, Edits
from .platform import PlatformCache
from .rows import AssignmentRow, StepState
from .syncing import BIG_LOAD, Syncing

__all__ = [
    "BIG_LOAD",
    "POSTER_SIZES",
    "QR_RESULTS",
    "AssignmentRow",
    "Store",
    "VisitDraft",
    "salvaging_path",
]


class Store(Attachments, PlatformCache, Enforcement, Edits, Syncing, Drafts):
    """The technician's offline cache; every method is safe to call from any thread."""

    def assignments(
        self,
        query: str = "",
        filter: str = "all",
        sort: str = "priority",
        limit: int = 100,
        offset: int = 0,
        today: date | None = None,
    ) -> list[AssignmentRow]:
        """One page of the assignment list, searched, filtered and sorted."""
        matches = self._matcher.match(query)
        with self._read() as conn:
            day = today or date.today()
            page = self._matcher.page(conn, matches, filter, sort, limit, offset, day)
            if page is not None:  # (the order held in memory: the app's default list)
                return page
            return queries.assignments(conn, matches, filter, sort, limit, offset, day)

    def count_assignments(
        self, query: str = "", filter: str = "all", today: date | None = None
    ) -> int:
        """How many institutions the same search and filter would list."""
        if filter == "all" and not search.terms(query):
            total = self._matcher.total()  # (count(*) walks the table: ~1 ms/77,500)
            if total is not None:
                return total
        matches = self._matcher.match(query)
        with self._read() as conn:
            day = today or date.today()
            if filter != "all":  # (the order held in memory: the app's list)
                held = self._matcher.count(conn, matches, filter, day)
                if held is not None:
                    return held
            return queries.count_assignments(conn, matches, filter, day)

    def warm_search(self) -> None:
        """Load the search index from its file, or build it if that is missing or stale (a
        worker, never a keystroke: the app's list runs it when it opens)."""
        self._matcher.warm()

    def search_in_background(self) -> None:
        """From now on no search waits for the index: SQLite answers until it is ready (the app)."""
        self._matcher.search_in_background()

    def institution(self, inst_id: str) -> dict[str, Any] | None:
        """The institution's wire fields plus its sync_state, or None."""
        with self._read() as conn:
            return queries.institution(conn, inst_id)

    def step_states(self, inst_id: str) -> dict[str, StepState]:
        """All eleven steps of one institution (missing ones as todo)."""
        with self._read() as conn:
            return queries.step_states(conn, inst_id)

    def visits(self, inst_id: str | None = None) -> list[dict[str, Any]]:
        """Visits, newest first, of one institution or of all."""
        with self._read() as conn:
            return queries.visits(conn, inst_id)

    def events(self, inst_id: str) -> list[dict[str, Any]]:
        """Posters printed and codes checked for one institution, newest first."""
        with self._read() as conn:
            return queries.events(conn, inst_id)

    def progress(self, level: str = "county") -> list[dict[str, Any]]:
        """Progress per county or city over the cached institutions."""
        with self._read() as conn:
            return queries.progress(conn, level)

    def local_stats(self, division: str | None = None) -> dict[str, Any]:
        """The office's stats shape over the cached rows (all of them, or one division)."""
        with self._read() as conn:
            return queries.local_stats(conn, division)

    def counts(self) -> dict[str, int]:
        """Unsent and rejected ops, institutions and visits held."""
        with self._read() as conn:
            return queries.counts(conn)
