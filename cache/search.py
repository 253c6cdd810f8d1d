"""Finding institutions from what a technician types: the trigram index for 3+ characters, an
in-memory copy of the search keys for shorter words (the trigram index finds nothing for them)."""

from __future__ import annotations

import json
import sqlite3

TRIGRAM = 3


def terms(query: str) -> list[str]:
    """The lower-cased words of a query, split on whitespace (full-width spaces too)."""
    return query.replace("\u3000", " ").lower().split()


def needs_index(query: str) -> bool:
    """Whether the query has a word long enough for the trigram index."""
    return any(len(t) >= TRIGRAM for t in terms(query))


class ShortWords:
    """An in-memory copy of search_keys (one lower-cased text per institution) for short words.

    Scanning 7,750 texts with Python's substring search takes well under a millisecond; the copy
    is reloaded after this process changes search keys (`invalidate`) or another process commits.
    """

    def __init__(self) -> None:
        self._rows: list[tuple[int, str]] | None = None
        self._version: int | None = None
        self._last: tuple[tuple[str, ...], str] | None = None  # the page and its count ask alike

    def invalidate(self) -> None:
        """Forget the copy; the next search reloads it."""
        self._rows = None
        self._last = None

    def rowids_json(self, conn: sqlite3.Connection, words: list[str]) -> str:
        """A JSON list of the rowids whose search text contains every word."""
        version = int(conn.execute("PRAGMA data_version").fetchone()[0])
        if self._rows is None or version != self._version:
            self._rows = [(r[0], r[1]) for r in conn.execute("SELECT rowid, keys FROM search_keys")]
            self._version = version
            self._last = None
        if self._last is not None and self._last[0] == tuple(words):
            return self._last[1]
        rows = self._rows
        for word in words:
            rows = [row for row in rows if word in row[1]]
        found = json.dumps([rowid for rowid, _ in rows])
        self._last = (tuple(words), found)
        return found


def where(conn: sqlite3.Connection, short: ShortWords, query: str,
          indexed: bool = True) -> tuple[str, dict[str, str]]:
    """A WHERE fragment over `institutions` (alias i) matching every word, and its parameters.

    Without `indexed` (the trigram index is waiting to be rebuilt) every word uses the copy.
    """
    words = terms(query)
    long = [t for t in words if len(t) >= TRIGRAM and indexed]
    others = [t for t in words if t not in long]
    clauses: list[str] = []
    params: dict[str, str] = {}
    if long:
        clauses.append("i.rowid IN (SELECT rowid FROM search_fts WHERE search_fts MATCH :fts)")
        params["fts"] = " AND ".join(_phrase(t) for t in long)
    if others:
        clauses.append("i.rowid IN (SELECT value FROM json_each(:short))")
        params["short"] = short.rowids_json(conn, others)
    return (" AND ".join(clauses) or "1"), params


def _phrase(term: str) -> str:
    return '"' + term.replace('"', '""') + '"'
