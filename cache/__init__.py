"""The offline store: one SQLite file per profile, its migrations, queries, search and outbox.

`Store.open(path)` creates or migrates the file (WAL, numbered migrations: cache/migrator.py) and
refuses, untouched, a file that is not a fieldkit cache (`NotAFieldkitCache`) or is newer than
this code (`CacheTooNew`). One connection guarded by a lock serves every thread, so Textual
thread workers may call any method. Each local edit is checked by `fieldkit.domain` first
(`DomainError`, nothing written) and then written with its outbox op in one transaction; a write
the file refuses (held by another writer) raises `CacheUnavailable` and saves nothing; a full disk
raises `CacheFull` (a `CacheUnavailable`), a damaged file `CacheDamaged`. `open_or_salvage(path)`
opens a cache, or keeps a damaged one aside (renamed, never deleted) and rescues its readable ops
into a fresh one (`salvage`). A pulled page that does not fit raises `MalformedChange`.

Search: an in-memory index of every row's search text (`cache.search`, numpy), kept in a file
beside the cache and read (or, when that no longer fits the cache, built) by
`Store.warm_search()` (the app runs it in a worker when the list opens) or by the first search
that finds none; it follows every commit (this process's and others') through the
search_changes log, so a keystroke never rebuilds it. In the app (`search_in_background`) a
search never waits for the index: SQLite reads every row until it is ready.
"""

from .errors import (
    CacheDamaged,
    CacheError,
    CacheFull,
    CacheTooNew,
    CacheUnavailable,
    MalformedChange,
    NotAFieldkitCache,
)
from .rows import AssignmentRow, StepState
from .salvage import SalvageReport, open_or_salvage, salvage
from .store import Store

__all__ = [
    "AssignmentRow",
    "CacheDamaged",
    "CacheError",
    "CacheFull",
    "CacheTooNew",
    "CacheUnavailable",
    "MalformedChange",
    "NotAFieldkitCache",
    "SalvageReport",
    "StepState",
    "Store",
    "open_or_salvage",
    "salvage",
]
