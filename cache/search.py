"""Finding institutions from what a technician types, with an index kept on disk and in step.

The index (`search_index.SearchIndex`, numpy) is built from every row of search_keys and kept in
a file beside the cache (`search_file`), so a start reads it in milliseconds instead of building
it (~0.2 s for 7,750 institutions, ~1.8 s for 77,500). It follows changes through the
search_changes log that triggers fill (migration 0012): a changed row is answered from its
current text, and a big load (which empties the log and leaves a reset mark) or many changes
make it be built again. Every process sees every commit this way, its own and others'; one
that finds changes it has not taken in already gone from the log (emptied up to what the file
holds) builds again too. A keystroke only reads the log and asks the index.

In the app (`search_in_background`) a search never waits for a build: while there is no
current index, SQLite answers by reading every row and a thread loads or builds one.
"""

from __future__ import annotations

import json
import sqlite3
import sys
import threading
import uuid
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from . import progress

if TYPE_CHECKING:
    from datetime import date

    from .rows import AssignmentRow
    from .search_index import Delta, Mask, SearchIndex
    from .search_order import ListOrder, Stamp

Reader = Callable[[], AbstractContextManager[sqlite3.Connection]]
RESET = -1  # the row a big load writes to search_changes: every row may have changed
# Up to sqrt(SPARSE_FACTOR * rows) matches the page query is handed their rowids (and sorts
# them); beyond, it walks the sort's index checking a mask, which stops after one page
# (measured at 77,500: 670 matches took 2.6 ms as rowids, 6.3 ms walking; ~1,250 here).
SPARSE_FACTOR = 20
REBUILD_AFTER = 2000  # changed rows answered from their text; beyond, the index is built again
BUILD_TIMEOUT = 300  # seconds for cache.search_build (77,500 institutions: ~3 s)
# From this many rows the app builds in a process of its own (below, the build takes a few
# tens of milliseconds and a process would cost more than it saves).
ELSEWHERE_FROM = 3000
REWRITE_AFTER = 300  # changed rows since the file was written; beyond, the app builds it anew
TOKEN_KEY = "search_file"
STALE_KEY = "search_index"  # meta, set by a big load (cache.progress.STALE_KEY)  # meta: the token of the index file written for this cache
# The log of changes after `seq`, and its first row: first > seq + 1 means rows this index
# has not taken in were emptied from the log (another process kept its file up to there).
FOLLOW = (
    "SELECT seq, row FROM search_changes WHERE seq > ? "
    "OR seq = (SELECT min(seq) FROM search_changes) ORDER BY seq"
)


def index_path(cache: Path) -> Path:
    """Where the search index of the cache file at `cache` is kept."""
    return cache.with_name(cache.name + ".search")


def terms(query: str) -> list[str]:
    """The lower-cased words of a query, split on whitespace (full-width spaces too)."""
    return query.replace("\u3000", " ").replace("\x00", "").lower().split()


@dataclass(frozen=True)
class Matches:
    """The institutions a query matches: how many, and for the page query either their rowids
    (a JSON list, when `few`) or a mask (one byte per rowid, 1 for a match), made when first
    asked for (the order held in memory needs neither); from the index's answer `hits` (a
    mask over rowids), or from SQLite's (`found`, the rowids)."""

    count: int
    few: bool
    hits: Mask | None = field(default=None, compare=False, repr=False)
    found: tuple[int, ...] | None = field(default=None, compare=False, repr=False)

    @cached_property
    def rowids_json(self) -> str | None:
        if not self.few:
            return None
        if self.hits is None:
            return json.dumps(self.found or ())
        import numpy as np

        return json.dumps(np.flatnonzero(self.hits).tolist())

    @cached_property
    def mask(self) -> bytes:
        if self.hits is not None:
            return self.hits.view("u1").tobytes()
        mask = bytearray(max(self.found or (0,)) + 1)
        for row in self.found or ():
            mask[row] = 1
        return bytes(mask)

    def sql(self) -> tuple[str, dict[str, object]]:
        """The condition on `i.rowid` that keeps the matches, and its parameters."""
        if self.rowids_json is not None:
            return "i.rowid IN (SELECT value FROM json_each(:ids))", {"ids": self.rowids_json}
        return "substr(:hits, i.rowid + 1, 1) = x'01'", {"hits": self.mask}


class Matcher:
    """Answers which institutions match a query; remembers the last answer (page and count ask
    alike). `reader`/`writer`: the cache's read and write transactions; `file`: where the
    index is kept (None: in memory only)."""

    def __init__(self, reader: Reader, writer: Reader, file: Path | None = None) -> None:
        self._reader, self._writer, self.file = reader, writer, file
        self._index: SearchIndex | None = None
        self._delta: Delta | None = None
        self._seq = 0  # the last change of search_changes the index has taken in
        self._reset = False  # a big load since the build: build again before answering
        self._building = threading.Lock()  # held while an index is loaded or built
        self._background = False
        self._builder: threading.Thread | None = None
        self._last: tuple[tuple[str, ...], Matches] | None = None
        self._scanned_last: tuple[tuple[str, ...], int, Matches] | None = None
        # The list's order as read at a stamp (None: could not be ordered in memory).
        self._order: tuple[Stamp, ListOrder | None] | None = None
        self._ordering: threading.Thread | None = None

    @property
    def ready(self) -> bool:
        """Whether an index is built (tests and the app's warm-up look)."""
        return self._index is not None and not self._reset

    def invalidate(self) -> None:
        """Forget the last answer (this process is changing search keys)."""
        self._last = self._scanned_last = None

    def search_in_background(self) -> None:
        """From now on no search waits for a build: SQLite answers meanwhile (the app)."""
        self._background = True

    def warm(self) -> None:
        """Have a current index: the file's if it holds this cache's state, else one built now
        (and written to the file); built anew, too, when many rows changed since the file."""
        with self._building:
            with self._reader() as conn:
                self._follow(conn)
            if self._index is None:
                self._load()
            if not self.ready or self._behind():
                self._build()
        if self._background:
            self._read_order()  # (the app's warm-up: a worker)

    def _behind(self) -> bool:
        return (
            self.file is not None
            and self._delta is not None
            and (len(self._delta.texts) > REWRITE_AFTER)
        )

    def _load(self) -> None:
        """Take the index from the file if it is this cache's, then the changes since."""
        if self.file is None:
            return
        from . import search_file
        from . import statements as sql

        with self._reader() as conn:
            token = sql.get_meta(conn, TOKEN_KEY)
        found = search_file.load(self.file, token)  # (reading it holds nothing)
        if found is None:
            return
        from .search_index import Delta

        with self._reader() as conn:
            self._index, self._delta, self._seq = found[0], Delta(), found[1]
            self._reset, self._last = False, None
            self._follow(conn)

    def _build(self) -> None:
        """Read every row and build (in the app, in a process of its own), then keep it."""
        if self._background and self._rows() >= ELSEWHERE_FROM and self._build_elsewhere():
            return
        from .search_index import Delta, SearchIndex

        with self._reader() as conn:
            seq, rows = read_rows(conn)
        index = SearchIndex(rows)  # (outside the cache's lock)
        del rows
        with self._reader():
            self._index, self._delta, self._seq, self._reset = index, Delta(), seq, False
            self._last = None
        if self.file is None:
            return
        from . import search_file

        token = uuid.uuid4().hex
        if search_file.save(index, self.file, seq, token):
            self._tell(token, seq)

    def _rows(self) -> int:
        with self._reader() as conn:  # (the last rowid: no walk of the table)
            return int(
                conn.execute("SELECT coalesce(max(rowid), 0) FROM search_keys").fetchone()[0]
            )

    def _build_elsewhere(self) -> bool:
        """Have `cache.search_build` build the index and write its file, then read that file:
        the build's Python work in this process would make every key typed meanwhile wait."""
        if self.file is None:
            return False
        import subprocess

        from . import search_file

        token = uuid.uuid4().hex
        cache = self.file.with_name(self.file.name.removesuffix(".search"))
        try:
            subprocess.run(
                [sys.executable, "-m", "cache.search_build", str(cache), token],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                check=True,
                timeout=BUILD_TIMEOUT,
            )
        except (OSError, subprocess.SubprocessError):
            return False  # built here instead
        found = search_file.load(self.file, token)
        if found is None:
            return False
        from .search_index import Delta

        with self._reader() as conn:
            self._index, self._delta, self._seq = found[0], Delta(), found[1]
            self._reset, self._last = False, None
            self._follow(conn)  # what changed while it was built
        self._tell(token, found[1])
        return True

    def _tell(self, token: str, seq: int) -> None:
        """The file just written is this cache's index (its token in meta); empty the log of
        what it holds. Best effort: if this cannot be written, the next start builds again."""
        from . import statements as sql
        from .errors import CacheError

        try:
            with self._writer() as conn:
                sql.put_meta(conn, TOKEN_KEY, token)
                sql.put_meta(conn, progress.STALE_KEY, None)  # (a big load's mark: taken in)
                conn.execute("DELETE FROM search_changes WHERE seq < ?", (seq,))
        except (CacheError, sqlite3.Error):
            pass

    def _follow(self, conn: sqlite3.Connection) -> None:
        """Take in the changes logged since the index was built (any process's)."""
        if self._index is None or self._delta is None or self._reset:
            return
        changes = conn.execute(FOLLOW, (self._seq,)).fetchall()
        if changes and changes[0][0] > self._seq + 1:  # emptied past what this index holds
            self._seq, self._reset, self._last = changes[-1][0], True, None
            return
        changes = [c for c in changes if c[0] > self._seq]
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

    def total(self) -> int | None:
        """How many rows there are, from the index (None before it is built)."""
        with self._reader() as conn:
            self._follow(conn)
            if not self.ready or self._index is None or self._delta is None:
                return None
            index, delta = self._index, self._delta
            held = index.rows
            for row, text in delta.texts.items():
                was = 0 <= row < index.size and bool(index.everyone[row])
                held += (text is not None) - was
            return held

    def match(self, query: str) -> Matches | None:
        """What the query matches, or None for an empty query (everything)."""
        words = terms(query)
        if not words:
            return None
        while True:
            with self._reader() as conn:
                self._follow(conn)
                if self.ready and self._index is not None and self._delta is not None:
                    from .search_index import find_all

                    if self._background and self._behind():
                        self._build_later()
                    key = tuple(words)
                    if self._last is not None and self._last[0] == key:
                        return self._last[1]
                    hits = find_all(self._index, self._delta, words)
                    matches = _matches(hits, self._index.rows)
                    self._last = (key, matches)
                    return matches
                if self._background or self._building.locked():  # being loaded or built
                    self._build_later()  # (the app's warm-up, right after start): SQLite
                    return self._scan(conn, words)  # reads every row meanwhile
            self.warm()  # no warm-up came first, or a big load since: build, then ask

    def page(
        self,
        conn: sqlite3.Connection,
        matches: Matches | None,
        filter: str,
        sort: str,
        limit: int,
        offset: int,
        today: date,
    ) -> list[AssignmentRow] | None:
        """One page of the list from the order held in memory (the app), or None: SQLite
        answers (the default list with no search walks its index; the discrepancy filter; no
        index; or the cache changed since the order was read, which is then read anew in a
        thread)."""
        hits = self._held_hits(conn, matches, (sort, filter) != ("priority", "all"))
        if hits is None:
            return None
        from . import search_order  # (numpy: not before an order is held)

        order, mask = hits
        rowids = order.page(mask, max(0, int(limit)), max(0, int(offset)), today, sort, filter)
        return None if rowids is None else search_order.rows(conn, rowids)

    def count(
        self, conn: sqlite3.Connection, matches: Matches | None, filter: str, today: date
    ) -> int | None:
        """How many rows the list has for these matches and filter, from the order held in
        memory; None: SQLite counts."""
        hits = self._held_hits(conn, matches, filter != "all")
        return None if hits is None else hits[0].count(hits[1], filter, today)

    def _held_hits(
        self, conn: sqlite3.Connection, matches: Matches | None, everyone: bool
    ) -> tuple[ListOrder, Mask] | None:
        """The order held (if it is the cache's as it is now) and the matches as a mask over
        rowids (`everyone`: no search is every row; else SQLite walks its index for it)."""
        if matches is None and not everyone:
            return None
        if matches is not None and matches.hits is None:
            return None
        from . import search_order

        held = self._order
        if held is None or held[0] != search_order.stamp(conn):
            if self._background and self.file is not None:
                self._order_later()
            return None
        order = held[1]
        if order is None:
            return None
        if matches is None:
            return order, order.everyone()
        assert matches.hits is not None
        return order, matches.hits

    def _order_later(self) -> None:
        if self._ordering is None or not self._ordering.is_alive():
            self._ordering = threading.Thread(
                target=self._read_order, name="search-order", daemon=True
            )
            self._ordering.start()

    def _read_order(self) -> None:
        """Read the list's order (through a connection of its own), stamped as of now."""
        if self.file is None:
            return
        from . import search_order
        from .errors import CacheError

        cache = self.file.with_name(self.file.name.removesuffix(".search"))
        try:
            with self._reader() as conn:
                at = search_order.stamp(conn)
        except (CacheError, sqlite3.Error):
            return  # (the cache was closed meanwhile)
        try:
            order = search_order.read(cache)
        except (sqlite3.Error, OSError, ValueError):
            order = None  # (SQLite answers every page until the next change)
        self._order = (at, order)
        if order is None:
            return
        try:  # then the other sorts' orders (SQLite sorts every row for each, ~50 ms/77,500)
            order = search_order.read_sorted(cache, order)
            with self._reader() as conn:
                if search_order.stamp(conn) != at:
                    return  # (changed meanwhile: the next page reads them all anew)
        except (CacheError, sqlite3.Error, OSError, ValueError):
            return  # (closed meanwhile, or unreadable: the default order alone is held)
        self._order = (at, order)

    def _scan(self, conn: sqlite3.Connection, words: list[str]) -> Matches:
        """SQLite's answer, remembered while the log has not moved (page and count ask alike)."""
        key, seq = tuple(words), _max_seq(conn)
        if self._scanned_last is not None and self._scanned_last[:2] == (key, seq):
            return self._scanned_last[2]
        matches = _scanned(conn, words)
        self._scanned_last = (key, seq, matches)
        return matches

    def _build_later(self) -> None:
        """Load or build the index in a thread of its own, unless one is at it already."""
        if self._building.locked() or (self._builder is not None and self._builder.is_alive()):
            return
        self._builder = threading.Thread(
            target=self._warm_quietly, name="search-index", daemon=True
        )
        self._builder.start()

    def _warm_quietly(self) -> None:
        from .errors import CacheError

        try:
            self.warm()
        except (CacheError, sqlite3.Error, OSError):
            pass  # (closed, or damaged: searches go on reading every row, which says so)


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


LOG_BOUND = 20_000  # rows of search_changes; past them it is emptied with a reset mark


def cleanup_sql() -> str:
    """Migration 0013: the trigram index and its triggers gone, the stale mark they kept
    cleared, and a bound on the change log where no index empties it (a cache only the
    command line uses): past LOG_BOUND rows it becomes one reset mark."""
    return (
        "DROP TRIGGER IF EXISTS search_fts_ai;\n"
        "DROP TRIGGER IF EXISTS search_fts_ad;\n"
        "DROP TRIGGER IF EXISTS search_fts_au;\n"
        "DROP TABLE IF EXISTS search_fts;\n"
        "DELETE FROM meta WHERE key = 'search_index';\n"
        "CREATE TRIGGER search_changes_bound AFTER INSERT ON search_changes "
        f"WHEN new.seq % 1000 = 0 AND (SELECT count(*) FROM search_changes) > {LOG_BOUND} "
        f"BEGIN DELETE FROM search_changes; INSERT INTO search_changes (row) VALUES ({RESET}); END"
    )


def read_rows(conn: sqlite3.Connection) -> tuple[int, list[tuple[int, str]]]:
    """The log's last change and every row's search keys, from one snapshot."""
    began = not conn.in_transaction
    if began:
        conn.execute("BEGIN")
    try:
        seq = _max_seq(conn)
        rows = conn.execute("SELECT rowid, keys FROM search_keys").fetchall()
    finally:
        if began:
            conn.execute("COMMIT")
    return seq, [(r[0], r[1]) for r in rows]


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
    return Matches(len(found), len(found) <= sparse(rows), found=tuple(found))


def sparse(rows: int) -> int:
    """Up to how many matches the page query sorts rowids rather than walk an index."""
    return max(100, int((SPARSE_FACTOR * rows) ** 0.5))


def _matches(hits: Mask, rows: int) -> Matches:
    import numpy as np

    count = int(np.count_nonzero(hits))
    return Matches(count, count <= sparse(rows), hits=hits)
