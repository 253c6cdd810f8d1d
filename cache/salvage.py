"""A damaged cache: kept aside under a new name (never deleted), its readable ops carried into a fresh one.

The fresh cache starts with cursor 0, so the next sync sends the rescued ops and pulls everything
else from the office again. A cache written by a newer fieldkit is never salvaged: it is not
damaged, the user should upgrade (`CacheTooNew` is raised and the file left untouched).
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from . import integrity, schema
from .errors import CacheTooNew, CacheUnavailable, NotAFieldkitCache
from .store import Store, salvaging_path

OP_COLUMNS = (
    "op_id",
    "hlc",
    "kind",
    "institution_id",
    "register",
    "data",
    "prev",
    "state",
    "reason",
    "message",
    "created_at",
)
KEPT_STATES = ("unsent", "sending", "rejected", "synced")
SIDECARS = ("-wal", "-shm", "-journal")
MAX_SCAN = 1_000_000  # outbox rows probed one by one past a damaged page, at most


@dataclass(frozen=True)
class SalvageReport:
    """What salvage did: where the damaged file lies now, what it rescued, what it could not read."""

    path: Path  # the fresh cache
    kept_aside: Path  # the damaged file, renamed
    unsent: int  # unsent (or sending) ops rescued: they go at the next sync
    rejected: int  # ops the office had refused, rescued so the technician still sees them
    synced: int  # ops already at the office, rescued so a restored office can get them again
    unreadable: int  # outbox rows that could not be read
    reason: str  # what was wrong with the file

    def message(self, lang: str = "zh") -> str:
        """What happened and what happens next, in the user's language."""
        if lang.startswith("zh"):
            lost = f"；有 {self.unreadable} 条记录无法读出" if self.unreadable else ""
            return (
                f"本地缓存已损坏（{self.reason}），已改名保留为 {self.kept_aside}（未删除）。"
                f"从中抢救出 {self.unsent} 项未发送的更改和 {self.rejected} 项被拒绝的更改"
                f"{lost}。已新建缓存 {self.path}；下次同步会发送抢救出的更改，并从办公室重新下载"
                "其余数据。"
            )
        lost = f"; {self.unreadable} records could not be read" if self.unreadable else ""
        return (
            f"The local cache was damaged ({self.reason}); it was kept aside as "
            f"{self.kept_aside} (not deleted). Rescued {self.unsent} unsent and "
            f"{self.rejected} rejected changes{lost}. A fresh cache was created at {self.path}; "
            "the next sync sends the rescued changes and downloads the rest from the office."
        )


def open_or_salvage(path: Path) -> tuple[Store, SalvageReport | None]:
    """Open the cache; if it is damaged (not merely too new or busy), salvage it and open the fresh one.

    The whole file is read (quick check) only after an unclean shutdown or once a week
    (`cache.integrity`); a damaged page met later is still named (`CacheDamaged`).
    """
    path = Path(path)
    clean = integrity.shut_down_cleanly(path)
    try:
        store = Store.open(path)
    except CacheTooNew:
        raise
    except NotAFieldkitCache as exc:  # damaged, garbage, or not a cache at all
        report = salvage(path, exc.detail)
    else:
        if not integrity.check_due(path, store, clean):
            store.watch_shutdown()
            return store, None
        problem = store.quick_check()
        if problem is None:
            _watch_checked(store)
            return store, None
        store.close()
        report = salvage(path, problem)
    fresh = Store.open(path)
    _watch_checked(fresh)
    return fresh, report


def _watch_checked(store: Store) -> None:
    """Record a sound (or fresh) file's check and watch its shutdown."""
    try:
        integrity.checked(store)
    except CacheUnavailable:
        pass  # another process holds the write lock: the next start checks again
    store.watch_shutdown()


def salvage(path: Path, reason: str = "") -> SalvageReport:
    """Keep the file at `path` aside, rescue its readable ops into a fresh cache at `path`.

    The fresh cache is built beside it first (cache.sqlite.salvaging) and renamed into place
    only after the damaged file was set aside; `Store.open` finishes a salvage cut short there.
    """
    path = Path(path)
    try:
        schema.check_file(path)
    except CacheTooNew:
        raise
    except NotAFieldkitCache as exc:
        reason = reason or exc.detail
    building = salvaging_path(path)
    for leftover in (building, *(Path(f"{building}{s}") for s in SIDECARS)):
        leftover.unlink(missing_ok=True)  # our own scratch file from a salvage cut short
    ops, meta, unreadable = _read_damaged(path)
    fresh = _fresh(building, meta.get("client_id"))
    try:
        fresh.adopt_ops(ops, meta.get("clock"))
        fresh.restore_attachments(path.with_name(f"{path.stem}.files"))  # photos wait beside it
    finally:
        fresh.close()
    aside = _keep_aside(path)
    _move_with_sidecars(building, path)
    count = {state: sum(1 for op in ops if op["state"] == state) for state in KEPT_STATES}
    return SalvageReport(
        path,
        aside,
        count["unsent"] + count["sending"],
        count["rejected"],
        count["synced"],
        unreadable,
        reason or "unreadable",
    )


def aside_name(path: Path, now: datetime | None = None) -> Path:
    """A free name beside `path` for the damaged file: cache.sqlite.damaged-YYYYmmdd-HHMMSS."""
    stamp = (now or datetime.now()).strftime("%Y%m%d-%H%M%S")
    candidate = path.with_name(f"{path.name}.damaged-{stamp}")
    n = 1
    while candidate.exists() or any(Path(f"{candidate}{s}").exists() for s in SIDECARS):
        n += 1
        candidate = path.with_name(f"{path.name}.damaged-{stamp}-{n}")
    return candidate


def _keep_aside(path: Path) -> Path:
    """Rename the file (and its WAL, shared-memory and journal files) to a free damaged-… name."""
    aside = aside_name(path)
    _move_with_sidecars(path, aside)
    return aside


def _move_with_sidecars(source: Path, target: Path) -> None:
    """Rename a database file together with its WAL, shared-memory and journal files."""
    for suffix in SIDECARS:
        sidecar = Path(f"{source}{suffix}")
        if sidecar.exists():
            os.replace(sidecar, Path(f"{target}{suffix}"))
    os.replace(source, target)


def _read_damaged(path: Path) -> tuple[list[dict[str, Any]], dict[str, str], int]:
    """The ops and meta that can still be read, and how many outbox rows could not be."""
    if path.is_dir():
        return [], {}, 0
    for uri in (f"{path.resolve().as_uri()}?mode=ro", f"{path.resolve().as_uri()}?immutable=1"):
        try:
            conn = sqlite3.connect(uri, uri=True)
            # lets SQLite read a file shorter than its header says (read-only: nothing is written)
            conn.execute("PRAGMA writable_schema = ON")
        except sqlite3.Error:
            continue
        try:
            ops, unreadable = _read_ops(conn)
            if ops or unreadable:
                return ops, _read_meta(conn), unreadable
        finally:
            conn.close()
    return [], {}, 0


def _read_meta(conn: sqlite3.Connection) -> dict[str, str]:
    """client_id and clock, if readable."""
    meta: dict[str, str] = {}
    for key in ("client_id", "clock"):
        try:
            row = conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        except sqlite3.Error:
            continue
        if row and isinstance(row[0], str):
            meta[key] = row[0]
    return meta


def _read_ops(conn: sqlite3.Connection) -> tuple[list[dict[str, Any]], int]:
    """Outbox rows read in order; past a damaged page, row by row up to the highest seq known."""
    found: dict[int, dict[str, Any]] = {}
    try:
        for seq, op in _rows(conn, "SELECT seq, * FROM outbox ORDER BY seq", ()):
            found[seq] = op
    except sqlite3.Error:
        pass  # a damaged page: probe the rest one by one below
    top = _highest_seq(conn, found)
    unreadable = 0
    for seq in range(1, min(top, MAX_SCAN) + 1):
        if seq in found:
            continue
        try:
            rows = list(_rows(conn, "SELECT seq, * FROM outbox WHERE seq = ?", (seq,)))
        except sqlite3.Error:
            unreadable += 1
            continue
        found.update(rows)
    ops = [op for _, op in sorted(found.items()) if op["state"] in KEPT_STATES]
    return ops, unreadable


def _rows(
    conn: sqlite3.Connection, query: str, params: tuple[Any, ...]
) -> Iterator[tuple[int, dict[str, Any]]]:
    """(seq, op) pairs of a query over the outbox; rows missing a needed column are skipped."""
    cursor = conn.execute(query, params)
    names = [d[0] for d in cursor.description]
    for row in cursor:
        values = dict(zip(names[1:], row[1:], strict=True))
        if all(
            isinstance(values.get(k), str)
            for k in ("op_id", "hlc", "kind", "register", "data", "state", "created_at")
        ):
            yield int(row[0]), {k: values.get(k) for k in OP_COLUMNS}


def _highest_seq(conn: sqlite3.Connection, found: dict[int, dict[str, Any]]) -> int:
    """The highest outbox seq ever given (from sqlite_sequence), or the highest read."""
    try:
        row = conn.execute("SELECT seq FROM sqlite_sequence WHERE name = 'outbox'").fetchone()
    except sqlite3.Error:
        row = None
    known = max(found, default=0)
    return max(known, int(row[0])) if row and isinstance(row[0], int) else known


def _fresh(path: Path, client_id: str | None) -> Store:
    """A new, empty cache at `path` that keeps this laptop's client id if it could be read."""
    if client_id:
        conn = sqlite3.connect(str(path), isolation_level=None)
        try:
            schema.migrate(conn)
            conn.execute(
                "INSERT OR REPLACE INTO meta (key, value) VALUES ('client_id', ?)", (client_id,)
            )
        finally:
            conn.close()
    return Store.open(path)
