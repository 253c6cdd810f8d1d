"""Turning what a technician types into a WHERE clause: trigram full text for 3+ characters, LIKE below."""

from __future__ import annotations

from .progress import SEARCH_COLUMNS

# FTS5's trigram tokenizer finds nothing for fewer than three characters (SQLite 3.40).
TRIGRAM = 3


def terms(query: str) -> list[str]:
    """The words of a query, split on whitespace (full-width spaces too)."""
    return query.replace("\u3000", " ").split()


def where(query: str) -> tuple[str, dict[str, str]]:
    """A WHERE fragment over `institutions` (alias i) matching every term, and its named parameters."""
    long = [t for t in terms(query) if len(t) >= TRIGRAM]
    short = [t for t in terms(query) if len(t) < TRIGRAM]
    clauses: list[str] = []
    params: dict[str, str] = {}
    if long:
        clauses.append("i.rowid IN (SELECT rowid FROM institutions_fts "
                       "WHERE institutions_fts MATCH :fts)")
        params["fts"] = " AND ".join(_phrase(t) for t in long)
    for n, term in enumerate(short):
        params[f"like{n}"] = "%" + _escape_like(term) + "%"
        clauses.append("(" + " OR ".join(f"i.{c} LIKE :like{n} ESCAPE '\\'"
                                         for c in SEARCH_COLUMNS) + ")")
    return (" AND ".join(clauses) or "1"), params


def _phrase(term: str) -> str:
    return '"' + term.replace('"', '""') + '"'


def _escape_like(term: str) -> str:
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
