"""Building the search index in a process of its own: `python -m cache.search_build CACHE TOKEN`.

The app asks for this (cache.search, in the background) rather than build in its own process:
the build is Python and numpy work that holds the interpreter's lock for ~0.2 s at 7,750
institutions and ~2 s at 77,500, and a thread doing it makes every key typed meanwhile wait for
that lock. Here it reads the rows, builds and writes the index file with the token it was given;
the app then reads the file as at a start. Exit status 0 when the file was written.
"""

from __future__ import annotations

import os
import sqlite3
import sys
from pathlib import Path

from .search import index_path, read_rows


def build(cache: Path, token: str) -> bool:
    """Build the index of the cache at `cache` and write its file; whether it was written."""
    from . import search_file
    from .search_index import SearchIndex

    conn = sqlite3.connect(f"{cache.resolve().as_uri()}?mode=ro", uri=True, timeout=10)
    try:
        seq, rows = read_rows(conn)
    finally:
        conn.close()
    return search_file.save(SearchIndex(rows), index_path(cache), seq, token)


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: python -m cache.search_build CACHE TOKEN", file=sys.stderr)
        return 2
    if hasattr(os, "nice"):
        os.nice(10)  # background work: the app typed into comes first for the processor
    try:
        return 0 if build(Path(argv[0]), argv[1]) else 1
    except sqlite3.Error as exc:
        print(f"cache.search_build: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
