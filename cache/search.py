"""Turning what a technician types into a WHERE clause: trigram index for 3+ characters, a scan below."""

from __future__ import annotations

# FTS5's trigram tokenizer finds nothing for fewer than three characters (SQLite 3.40).
TRIGRAM = 3


def terms(query: str) -> list[str]:
    """The lower-cased words of a query, split on whitespace (full-width spaces too)."""
    return query.replace("\u3000", " ").lower().split()


def where(query: str) -> tuple[str, dict[str, str]]:
    """A WHERE fragment over `institutions` (alias i) matching every term, and its named parameters."""
    words = terms(query)
    long = [t for t in words if len(t) >= TRIGRAM]
    short = [t for t in words if len(t) < TRIGRAM]
    clauses: list[str] = []
    params: dict[str, str] = {}
    if long:
        clauses.append("i.rowid IN (SELECT rowid FROM search_fts WHERE search_fts MATCH :fts)")
        params["fts"] = " AND ".join(_phrase(t) for t in long)
    for n, term in enumerate(short):
        # search_keys is narrow (one lower-cased text per institution), so the scan stays short.
        clauses.append(f"i.rowid IN (SELECT rowid FROM search_keys WHERE instr(keys, :short{n}))")
        params[f"short{n}"] = term
    return (" AND ".join(clauses) or "1"), params


def _phrase(term: str) -> str:
    return '"' + term.replace('"', '""') + '"'
