"""The list's default order held in memory, so a search's first page is picked from its matches
by numpy instead of SQLite reading and sorting every matching row (numpy; with the index).

A search matching ~1,000 of 77,500 institutions spent 4-6 ms in SQLite fetching those rows
to sort them (a page read each), and walking the sort's index instead spent as long to find
a page's worth. Here the order (overdue follow-ups first, longest overdue first, then
blocked, least progress, pinyin, id: queries.OVERDUE_FIRST) is read once from the
institutions_priority index, and a page is the first matches in it; SQLite then reads just
the page's rows.

The name and county sorts (queries.SORTS) are read just after, into rowid orders of their own,
and what the filters look at (touched, blocked, steps done, full process, the follow-up date)
with the default order, so every sort and filter but the discrepancy one (the platform's, SQLite's)
is a mask and a walk here: ~1 ms at 77,500 where SQLite sorted the matches in 30-90 ms.

The order read is only used while the cache is exactly as it was read: the connection's
`data_version` (another connection's commit) and `total_changes` (its own) are its stamp,
and any write since means the page is asked of SQLite again while the order is read anew
(in the app's worker, ~40 ms at 77,500, nearly all in one SQLite step that leaves Python
free).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path

import numpy as np
import numpy.typing as npt

from .rows import ASSIGNMENT_COLUMNS, AssignmentRow, assignment_row

Stamp = tuple[int, int]
# Every institution's rowid and follow-up date (as yyyymmdd, 0: none) in the priority index's
# order (blocked DESC, done, pinyin, id: queries.SORTS['priority']), in one string.
# Beside them, what the list's filters look at (queries.FILTERS): touched, blocked, done and
# full_process, as one number (touched + 2 blocked + 4 full_process + 8 done).
READ = (
    "SELECT count(*), group_concat(rowid || ',' || "
    "coalesce(CAST(replace(next_visit_on, '-', '') AS INTEGER), 0) || ',' || "
    "((touched > 0) + 2 * (blocked = 1) + 4 * (full_process = 1) + 8 * min(max(done, 0), 11))) "
    "FROM (SELECT rowid, next_visit_on, touched, blocked, full_process, done "
    "FROM institutions INDEXED BY institutions_priority ORDER BY blocked DESC, done, pinyin, id)"
)
# The other sorts' orders (queries.SORTS), read after the default one: rowids in order.
READ_SORTED = {
    "name": "SELECT count(*), group_concat(rowid) FROM "
    "(SELECT rowid FROM institutions ORDER BY pinyin, name, id)",
    "county": "SELECT count(*), group_concat(rowid) FROM "
    "(SELECT rowid FROM institutions ORDER BY division_code, pinyin, id)",
}
TOUCHED, BLOCKED, FULL_PROCESS, DONE_UNIT = 1, 2, 4, 8
# Every filter of queries.FILTERS but the platform's discrepancy one, which SQLite answers.
HELD_FILTERS = frozenset("all not_started in_progress blocked full_process follow_up_due".split())
ALL_STEPS = 11  # (queries.FILTERS' in_progress: fewer steps done than this)
# Follow-up dates that are not YYYY-MM-DD would not sort as numbers as they do as text.
ODD_DATES = (
    "SELECT count(*) FROM institutions INDEXED BY institutions_due WHERE next_visit_on IS NOT "
    "NULL AND NOT next_visit_on GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'"
)
SORT_BY_RANK_UP_TO = 4096  # matches sorted by their rank; more: the order walked, filtered
STRETCH = 8192  # of the order filtered at a time when walking it (a page is soon found)
_SELECT = ", ".join(f"i.{c}" for c in ASSIGNMENT_COLUMNS)


def stamp(conn: sqlite3.Connection) -> Stamp:
    """What changes whenever anything in the cache changes: another connection's commit (the
    data version) or a row written through this one (its total changes)."""
    return int(conn.execute("PRAGMA data_version").fetchone()[0]), conn.total_changes


@dataclass(frozen=True)
class ListOrder:
    """The list's order: rowids in priority order (`by_priority`), per rowid its
    place in it (`rank`, -1: no such row), its follow-up date as yyyymmdd (`due_on`, 0:
    none) and what the filters look at (`state`: TOUCHED | BLOCKED | FULL_PROCESS | DONE_UNIT
    * steps done), the rows with a follow-up date by date, then priority (`dated`, `dates`),
    and the other sorts' orders once read (`sorted`: rowids by name, by county)."""

    by_priority: npt.NDArray[np.integer]
    rank: npt.NDArray[np.integer]
    due_on: npt.NDArray[np.integer]
    absent: npt.NDArray[np.int64]  # rowids below the largest that are no row
    dated: npt.NDArray[np.integer]
    dates: npt.NDArray[np.integer]
    state: npt.NDArray[np.integer]
    sorted: dict[str, npt.NDArray[np.integer]] = field(default_factory=dict)

    def everyone(self) -> npt.NDArray[np.bool_]:
        """A mask of every row (the list with no search)."""
        return self.rank >= 0

    def passing(self, filter: str, today: date) -> npt.NDArray[np.bool_] | None:
        """A mask of the rows the filter keeps (queries.FILTERS), over rowids; None: all, or a
        filter this order cannot answer (`known` tells)."""
        state, day = self.state, _day(today)
        if filter == "not_started":
            return (state & TOUCHED) == 0
        if filter == "in_progress":
            return (
                ((state & TOUCHED) != 0)
                & ((state & BLOCKED) == 0)
                & ((state // DONE_UNIT) < ALL_STEPS)
            )
        if filter == "blocked":
            return (state & BLOCKED) != 0
        if filter == "full_process":
            return (state & FULL_PROCESS) != 0
        if filter == "follow_up_due":
            return (self.due_on > 0) & (self.due_on <= day)
        return None

    @staticmethod
    def known(filter: str) -> bool:
        """Whether `passing` answers this filter (the discrepancy filter is SQLite's)."""
        return filter in HELD_FILTERS

    def fit(self, hits: npt.NDArray[np.bool_]) -> npt.NDArray[np.bool_] | None:
        """The mask `hits` cut or padded to this order's rowids; None if it holds a row this
        order does not know (a row added since: then SQLite answers)."""
        size = len(self.rank)
        if len(hits) > size:
            if hits[size:].any():
                return None
            return hits[:size]
        if len(hits) < size:  # (rows past the index's last: none of them match)
            return np.concatenate((hits, np.zeros(size - len(hits), dtype=np.bool_)))
        return hits

    def count(self, hits: npt.NDArray[np.bool_], filter: str, today: date) -> int | None:
        """How many of the matches `hits` the filter keeps; None: SQLite answers."""
        fitted = self.fit(hits)
        if fitted is None or not self.known(filter) or fitted[self.absent].any():
            return None
        kept = self.passing(filter, today)
        return int(np.count_nonzero(fitted if kept is None else fitted & kept))

    def page(
        self,
        hits: npt.NDArray[np.bool_],
        limit: int,
        offset: int,
        today: date,
        sort: str = "priority",
        filter: str = "all",
    ) -> list[int] | None:
        """The rowids of one page of the matches `hits` (a mask over rowids) the filter keeps,
        in the sort's order; None if the matches hold a row this order does not, or the sort
        or filter is not held here (then SQLite answers)."""
        fitted = self.fit(hits)
        if fitted is None or not self.known(filter):
            return None
        hits = fitted
        kept = self.passing(filter, today)
        if kept is not None:
            hits = hits & kept
        if sort != "priority":
            order = self.sorted.get(sort)
            if order is None or hits[self.absent].any():
                return None
            ids = order[hits[order]]
            return ids[offset : offset + limit].tolist()
        day = _day(today)
        ids = np.flatnonzero(hits)
        if len(ids) <= SORT_BY_RANK_UP_TO:  # few: sorted by their rank
            ranks = self.rank[ids]
            if len(ids) and int(ranks.min()) < 0:
                return None
            dated = self.due_on[ids]
            due = (dated > 0) & (dated <= day)
            overdue = ids[due][np.lexsort((ranks[due], dated[due]))]
            rest = ids[~due][np.argsort(ranks[~due])]
            return _page(overdue, [rest], limit, offset)
        if hits[self.absent].any():
            return None
        cut = int(np.searchsorted(self.dates, day, side="right"))
        overdue = self.dated[:cut][hits[self.dated[:cut]]]  # (in order already)
        return _page(overdue, self._rest(hits, day), limit, offset)

    def _rest(self, hits: npt.NDArray[np.bool_], day: int) -> Iterator[npt.NDArray[np.integer]]:
        """The matches not overdue in priority order, a stretch of the order at a time."""
        for start in range(0, len(self.by_priority), STRETCH):
            ids = self.by_priority[start : start + STRETCH]
            ids = ids[hits[ids]]
            dated = self.due_on[ids]
            yield ids[(dated == 0) | (dated > day)]


def _day(today: date) -> int:
    return today.year * 10_000 + today.month * 100 + today.day


def _page(
    overdue: npt.NDArray[np.integer],
    rest: Iterable[npt.NDArray[np.integer]],
    limit: int,
    offset: int,
) -> list[int]:
    """Rows offset..offset+limit of the overdue matches followed by the rest."""
    picked = overdue[offset : offset + limit].tolist()
    skip = max(0, offset - len(overdue))
    for ids in rest:
        if len(picked) >= limit:
            break
        if skip >= len(ids):
            skip -= len(ids)
            continue
        picked += ids[skip : skip + limit - len(picked)].tolist()
        skip = 0
    return picked


def read(cache: Path) -> ListOrder | None:
    """The order of the cache file at `cache`, read through a connection of its own (the
    caller took the stamp before); None if its follow-up dates cannot be ordered as numbers."""
    # (Not mode=ro: a read-only connection to a WAL file another process has just written can
    # fail with "disk I/O error" where it would have to rebuild the shared index; query_only
    # keeps this one from writing all the same.)
    conn = sqlite3.connect(cache, timeout=10, isolation_level=None)
    try:
        conn.execute("PRAGMA query_only = ON")
        if int(conn.execute(ODD_DATES).fetchone()[0]):
            return None
        count, joined = conn.execute(READ).fetchone()
    finally:
        conn.close()
    numbers = np.fromstring(joined, dtype=np.int64, sep=",") if joined else np.zeros(0, np.int64)
    triples = numbers.reshape(-1, 3)
    if len(triples) != int(count):
        return None
    rowids = triples[:, 0].astype(np.int32)
    size = int(rowids.max()) + 1 if len(rowids) else 1
    rank = np.full(size, -1, dtype=np.int32)
    rank[rowids] = np.arange(len(rowids), dtype=np.int32)
    due_on = np.zeros(size, dtype=np.int32)
    due_on[rowids] = triples[:, 1]
    state = np.zeros(size, dtype=np.int16)
    state[rowids] = triples[:, 2]
    dated = np.flatnonzero(due_on > 0)
    dated = dated[np.lexsort((rank[dated], due_on[dated]))].astype(np.int32)
    absent = np.flatnonzero(rank < 0)
    return ListOrder(rowids, rank, due_on, absent, dated, due_on[dated], state)


def read_sorted(cache: Path, order: ListOrder) -> ListOrder:
    """The order with the other sorts' orders read too (through a connection of its own; the
    caller checks the cache has not changed since `order` was read). A sort whose rows are
    not the order's is left to SQLite."""
    conn = sqlite3.connect(cache, timeout=10, isolation_level=None)
    held = dict(order.sorted)
    try:
        conn.execute("PRAGMA query_only = ON")
        for sort, sql in READ_SORTED.items():
            count, joined = conn.execute(sql).fetchone()
            ids = np.fromstring(joined, dtype=np.int64, sep=",") if joined else np.zeros(0)
            if len(ids) == int(count) == len(order.by_priority):
                held[sort] = ids.astype(np.int32)
    finally:
        conn.close()
    return replace(order, sorted=held)


def rows(conn: sqlite3.Connection, rowids: list[int]) -> list[AssignmentRow] | None:
    """The list's rows of these rowids, in this order (None if one is gone)."""
    found = {
        r[0]: r
        for r in conn.execute(
            f"SELECT i.rowid, {_SELECT} FROM institutions i "
            "WHERE i.rowid IN (SELECT value FROM json_each(?))",
            (json.dumps(rowids),),
        )
    }
    if len(found) != len(rowids):
        return None
    return [assignment_row(found[r]) for r in rowids]
