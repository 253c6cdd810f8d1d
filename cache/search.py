"""Finding institutions from what a technician types: the trigram index for words of 3+ characters,
an in-memory copy of the search keys for shorter words (the trigram index finds nothing for them)."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass

TRIGRAM = 3


def terms(query: str) -> list[str]:
    """The lower-cased words of a query, split on whitespace (full-width spaces too)."""
    return query.replace("\u3000", " ").lower().split()


def needs_index(query: str) -> bool:
    """Whether the query has a word long enough for the trigram index."""
    return any(len(t) >= TRIGRAM for t in terms(query))


@dataclass(frozen=True)
class Matches:
    """The institutions (rowids) a query matches, as a JSON list for json_each, and how many."""

    rowids_json: str
    count: int


class Matcher:
    """Answers which institutions match a query; remembers the last answer (page and count ask alike).

    Short words are looked up in an in-memory copy of search_keys: Python's substring search over
    7,750 texts takes under a millisecond. Words of 3+ characters use the trigram index while the
    copy is not loaded (loading it costs a few milliseconds), and the copy once it is (the index
    is slowest, up to ~5 ms, for common words that match thousands, the copy takes ~0.7 ms for
    any word). Both give the same answer. The copy and the last answer are forgotten after this
    process changes search keys (`invalidate`) or another process commits (PRAGMA data_version).
    """

    def __init__(self) -> None:
        self._rows: list[tuple[int, str]] | None = None
        self._version: int | None = None
        self._last: tuple[tuple[tuple[str, ...], bool], Matches] | None = None

    def invalidate(self) -> None:
        """Forget the copy and the last answer."""
        self._rows = None
        self._last = None

    def warm(self, conn: sqlite3.Connection) -> None:
        """Load the copy (if the file changed since, or it was never loaded)."""
        self._follow(conn)
        self._keys(conn)

    def _follow(self, conn: sqlite3.Connection) -> None:
        """Forget what another process's commit made stale (PRAGMA data_version)."""
        version = int(conn.execute("PRAGMA data_version").fetchone()[0])
        if version != self._version:
            self.invalidate()
            self._version = version

    def match(self, conn: sqlite3.Connection, query: str, indexed: bool = True) -> Matches | None:
        """What the query matches, or None for an empty query (everything)."""
        words = terms(query)
        if not words:
            return None
        self._follow(conn)
        key = (tuple(words), indexed)
        if self._last is not None and self._last[0] == key:
            return self._last[1]
        found = self._find(conn, words, indexed)
        matches = Matches(json.dumps(found), len(found))
        self._last = (key, matches)
        return matches

    def _find(self, conn: sqlite3.Connection, words: list[str], indexed: bool) -> list[int]:
        use_index = indexed and self._rows is None
        long = [t for t in words if len(t) >= TRIGRAM and use_index]
        short = [t for t in words if t not in long]
        if long:
            fts = " AND ".join(_phrase(t) for t in long)
            found = [
                r[0]
                for r in conn.execute(
                    "SELECT rowid FROM search_fts WHERE search_fts MATCH ?", (fts,)
                )
            ]
            if not short:
                return found
            keep = set(found)
            candidates = [row for row in self._keys(conn) if row[0] in keep]
        else:
            candidates = self._keys(conn)
        for word in short:
            candidates = [row for row in candidates if word in row[1]]
        return [rowid for rowid, _ in candidates]

    def _keys(self, conn: sqlite3.Connection) -> list[tuple[int, str]]:
        if self._rows is None:
            self._rows = [(r[0], r[1]) for r in conn.execute("SELECT rowid, keys FROM search_keys")]
        return self._rows


def _phrase(term: str) -> str:
    return '"' + term.replace('"', '""') + '"'
