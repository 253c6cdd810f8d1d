"""Finding institutions from what a technician types, with an index built once and kept in step.

The index (`search_index.SearchIndex`, numpy) is built from every row of search_keys once: when
the list opens (`Store.warm_search()`, in a worker), or by the first search if it comes first.
Afterwards it follows changes through the search_changes log that triggers fill (migration
0012): a changed row is answered from its current text until the next build, and a big load
(which clears the log and leaves a reset mark) makes the next search or warm-up build it again.
Every process sees every commit this way, its own and others'. A keystroke only reads the log
and asks the index: a few milliseconds at 77,500 institutions for any word.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .search_index import Delta, Mask, SearchIndex

Reader = Callable[[], AbstractContextManager[sqlite3.Connection]]
RESET = -1  # the row a big load writes to search_changes: every row may have changed
# Up to sqrt(SPARSE_FACTOR * rows) matches the page query is handed their rowids (and sorts
# them); beyond, it walks the sort's index checking a mask, which stops after one page
# (measured at 77,500: 670 matches took 2.6 ms as rowids, 6.3 ms walking; ~1,250 here).
SPARSE_FACTOR = 20
REBUILD_AFTER = 2000  # changed rows answered from their text; beyond, the index is built again


def terms(query: str) -> list[str]:
    """The lower-cased words of a query, split on whitespace (full-width spaces too)."""
    return query.replace("\u3000", " ").replace("\x00", "").lower().split()


@dataclass(frozen=True)
class Matches:
    """The institutions a query matches: how many, and for the page query either their rowids
    (a JSON list, when few) or a mask (one byte per rowid, 1 for a match)."""

    count: int
    mask: bytes
    rowids_json: str | None

    def sql(self) -> tuple[str, dict[str, object]]:
        """The condition on `i.rowid` that keeps the matches, and its parameters."""
        if self.rowids_json is not None:
            return "i.rowid IN (SELECT value FROM json_each(:ids))", {"ids": self.rowids_json}
        return "substr(:hits, i.rowid + 1, 1) = x'01'", {"hits": self.mask}


class Matcher:
    """Answers which institutions match a query; remembers the last answer (page and count ask alike)."""

    def __init__(self) -> None:
        self._index: SearchIndex | None = None
        self._delta: Delta | None = None
        self._seq = 0  # the last change of search_changes the index has taken in
        self._reset = False  # a big load since the build: build again before answering
        self._building = threading.Lock()
        self._last: tuple[tuple[str, ...], Matches] | None = None

    @property
    def ready(self) -> bool:
        """Whether an index is built (tests and the app's warm-up look)."""
        return self._index is not None and not self._reset

    def invalidate(self) -> None:
        """Forget the last answer (this process is changing search keys)."""
        self._last = None

    def warm(self, reader: Reader) -> None:
        """Build the index if there is none, or a big load or many changes made it stale."""
        with reader() as conn:
            self._follow(conn)
        if not self.ready:
            self._build(reader)

    def _build(self, reader: Reader) -> None:
        """Read every row (holding the cache briefly) and build outside the cache's lock."""
        from .search_index import Delta, SearchIndex

        with self._building:
            if self.ready:
                return  # another thread built it while this one waited
            with reader() as conn:
                began = not conn.in_transaction
                if began:
                    conn.execute("BEGIN")  # the rows and the log's end from one snapshot
                try:
                    seq = _max_seq(conn)
                    rows = conn.execute("SELECT rowid, keys FROM search_keys").fetchall()
                finally:
                    if began:
                        conn.execute("COMMIT")
            index = SearchIndex([(r[0], r[1]) for r in rows])
            with reader():
                self._index, self._delta, self._seq, self._reset = index, Delta(), seq, False
                self._last = None

    def _follow(self, conn: sqlite3.Connection) -> None:
        """Take in the changes logged since the index was built (any process's)."""
        if self._index is None or self._delta is None or self._reset:
            return
        changes = conn.execute(
            "SELECT seq, row FROM search_changes WHERE seq > ? ORDER BY seq", (self._seq,)
        ).fetchall()
        if not changes:
            return
        self._seq = changes[-1][0]
        self._last = None
        rows = {row for _, row in changes}
        if RESET in rows or len(rows) + len(self._delta.texts) > REBUILD_AFTER:
            self._reset = True  # build again (the next warm-up or search) rather than answer
            return  # thousands of rows one by one
        texts: dict[int, str | None] = dict.fromkeys(rows)
        for row, keys in conn.execute(
            "SELECT rowid, keys FROM search_keys WHERE rowid IN (SELECT value FROM json_each(?))",
            (json.dumps(sorted(rows)),),
        ):
            texts[row] = keys
        self._delta = _grown(self._index, self._delta, texts)

    def total(self, reader: Reader) -> int | None:
        """How many rows there are, from the index (None before it is built)."""
        with reader() as conn:
            self._follow(conn)
            if not self.ready or self._index is None or self._delta is None:
                return None
            index, delta = self._index, self._delta
            held = index.rows
            for row, text in delta.texts.items():
                was = 0 <= row < index.size and bool(index.everyone[row])
                held += (text is not None) - was
            return held

    def match(self, reader: Reader, query: str) -> Matches | None:
        """What the query matches, or None for an empty query (everything)."""
        words = terms(query)
        if not words:
            return None
        while True:
            with reader() as conn:
                self._follow(conn)
                if self.ready and self._index is not None and self._delta is not None:
                    from .search_index import find_all

                    key = tuple(words)
                    if self._last is not None and self._last[0] == key:
                        return self._last[1]
                    hits = find_all(self._index, self._delta, words)
                    matches = _matches(hits, self._index.rows)
                    self._last = (key, matches)
                    return matches
                if self._building.locked():  # being built (the app's warm-up, right after
                    return _scanned(conn, words)  # start): SQLite reads every row meanwhile
            self._build(reader)  # no warm-up came first, or a big load since: build, then ask


def changes_sql(row_by_row: str) -> str:
    """The log of changed search keys (migration 0012): a row per changed row, and a reset
    mark (row -1, the log emptied) when a big load or a big pulled page begins (they set meta
    'bulk_load' or 'search_index'; `row_by_row`: not inside a bulk load)."""
    log = "INSERT INTO search_changes (row) VALUES"
    reset = f"BEGIN DELETE FROM search_changes; {log} ({RESET}); END"
    big = "new.key IN ('bulk_load', 'search_index')"
    return (
        "CREATE TABLE search_changes (seq INTEGER PRIMARY KEY AUTOINCREMENT, row INTEGER NOT NULL);\n"
        f"CREATE TRIGGER search_changes_ai AFTER INSERT ON search_keys WHEN {row_by_row} "
        f"BEGIN {log} (new.rowid); END;\n"
        f"CREATE TRIGGER search_changes_au AFTER UPDATE ON search_keys WHEN {row_by_row} "
        f"BEGIN {log} (new.rowid); END;\n"
        f"CREATE TRIGGER search_changes_ad AFTER DELETE ON search_keys WHEN {row_by_row} "
        f"BEGIN {log} (old.rowid); END;\n"
        f"CREATE TRIGGER search_changes_load AFTER INSERT ON meta WHEN {big} {reset};\n"
        f"CREATE TRIGGER search_changes_reload AFTER UPDATE ON meta WHEN {big} {reset};\n"
        f"{log} ({RESET})"
    )


def _max_seq(conn: sqlite3.Connection) -> int:
    return int(conn.execute("SELECT coalesce(max(seq), 0) FROM search_changes").fetchone()[0])


def _grown(index: SearchIndex, delta: Delta, texts: dict[int, str | None]) -> Delta:
    """The delta with these rows' current texts (rows of the index among them made stale)."""
    import numpy as np

    from .search_index import Delta

    stale = delta.stale if delta.stale is not None else np.zeros(index.size, dtype=np.bool_)
    stale = stale.copy()
    inside = [r for r in texts if 0 <= r < index.size]
    stale[inside] = True
    return Delta({**delta.texts, **texts}, stale)


def _scanned(conn: sqlite3.Connection, words: list[str]) -> Matches:
    """What the words match, SQLite reading every row's keys (~2 ms for 7,750, ~30 ms for
    77,500): the answer while the index is being built, so a word typed then does not wait."""
    where = " AND ".join("instr(keys, ?) > 0" for _ in words)
    found = [r[0] for r in conn.execute(f"SELECT rowid FROM search_keys WHERE {where}", words)]
    rows = int(conn.execute("SELECT count(*) FROM search_keys").fetchone()[0])
    if len(found) <= sparse(rows):
        return Matches(len(found), b"", json.dumps(found))
    mask = bytearray(max(found) + 1)
    for row in found:
        mask[row] = 1
    return Matches(len(found), bytes(mask), None)


def sparse(rows: int) -> int:
    """Up to how many matches the page query sorts rowids rather than walk an index."""
    return max(100, int((SPARSE_FACTOR * rows) ** 0.5))


def _matches(hits: Mask, rows: int) -> Matches:
    import numpy as np

    count = int(np.count_nonzero(hits))
    if count <= sparse(rows):
        return Matches(count, b"", json.dumps(np.flatnonzero(hits).tolist()))
    return Matches(count, hits.view(np.uint8).tobytes(), None)
