"""The cache's connection: opening and migrating the file, transactions, meta; shared by every part of Store."""

from __future__ import annotations

import os
import sqlite3
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Self

from fieldkit import domain

from . import integrity, schema, search
from . import statements as sql
from .errors import CacheDamaged, CacheUnavailable, from_sqlite, is_damage

# The cache files this process holds open, and how many times. POSIX drops every lock a process
# holds on a file when any of its descriptors on that file is closed, so the header check
# (schema.check_file, which reads the file with Python's own open()) must not run while SQLite
# holds the file here: a second Store on an open cache would otherwise strip the first one's
# locks, and another process closing last would delete the -shm file under it (writes then go
# unseen: SQLite's "How To Corrupt An SQLite Database File", 2.2). The first opening checked it.
_HELD: dict[str, int] = {}
_HELD_LOCK = threading.Lock()


class StoreCore:
    """The open cache file and its lock; every method is safe to call from any thread."""

    def __init__(self, path: Path, conn: sqlite3.Connection) -> None:
        self.path = path
        self._conn = conn
        self._lock = threading.RLock()
        self._matcher = search.Matcher(self._read, self._tx, search.index_path(path))
        self._watched = False  # whether close() tells integrity this process let go of the file
        self._held: str | None = None  # its key in _HELD while open (set by open())
        self.client_id: str = self._ensure_client_id()
        self.clock = domain.HLC(self.client_id, self.get_meta("clock"))

    # ---- opening -------------------------------------------------------------------------

    @classmethod
    def open(cls, path: Path, timeout: float = 10.0) -> Self:
        """Open (creating if missing) and migrate the cache at `path`.

        `timeout`: seconds to wait for another process's write before giving up.
        """
        path = Path(path)
        key = str(path.resolve())
        with _HELD_LOCK:  # no header check while another thread's Store is half open
            _finish_salvage(path)
            if not _HELD.get(key):
                schema.check_file(path)
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                conn = sqlite3.connect(
                    str(path), timeout=timeout, isolation_level=None, check_same_thread=False
                )
            except (OSError, sqlite3.Error) as exc:
                raise CacheUnavailable(path, str(exc)) from None
            _HELD[key] = _HELD.get(key, 0) + 1
        try:
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = FULL")
            schema.migrate(conn)
        except sqlite3.Error as exc:
            _let_go(key, conn)
            raise from_sqlite(path, exc) from None
        conn.row_factory = sqlite3.Row
        try:
            store = cls(path, conn)
        except BaseException:
            _let_go(key, conn)
            raise
        store._held = key
        return store

    def quick_check(self) -> str | None:
        """None if SQLite's quick check finds the file sound, else its first complaint."""
        try:
            with self._read() as conn:
                first = conn.execute("PRAGMA quick_check").fetchone()
        except CacheDamaged as exc:
            return exc.detail
        if first is None or first[0] == "ok":
            return None
        integrity.distrust(self.path)
        return str(first[0])

    def watch_shutdown(self) -> None:
        """Mark the file open by this process until close(), so a kill is known at the next start."""
        if not self._watched:
            self._watched = True
            integrity.opened(self.path)

    def close(self) -> None:
        """Close the file (checkpointing the WAL)."""
        with self._lock:
            key, self._held = self._held, None
            if key is not None:
                _let_go(key, self._conn)
            else:
                self._conn.close()
            if self._watched:
                self._watched = False
                integrity.closed(self.path)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            try:
                yield self._conn
            except sqlite3.DatabaseError as exc:
                if is_damage(exc):
                    integrity.distrust(self.path)
                    raise CacheDamaged(self.path, str(exc)) from None
                raise

    @contextmanager
    def _tx(self, keys: bool = False, durable: bool = True) -> Iterator[sqlite3.Connection]:
        """One write transaction, rolled back whole on any error; `keys`: it may change search keys.

        `durable=False` (a pulled page, which the office can always give again): the commit
        does not wait for the disk (WAL with synchronous=NORMAL: still atomic, never damaged;
        a power cut may undo it, with its cursor, until the next durable commit or checkpoint)."""
        with self._lock:
            if not durable:
                self._conn.execute("PRAGMA synchronous = NORMAL")
                try:
                    with self._tx(keys) as conn:
                        yield conn
                finally:
                    self._conn.execute("PRAGMA synchronous = FULL")
                return
            if keys:
                self._matcher.invalidate()
            conn = self._conn
            try:
                conn.execute("BEGIN IMMEDIATE")
            except sqlite3.DatabaseError as exc:
                raise from_sqlite(self.path, exc, writing=True) from None
            try:
                yield conn
            except sqlite3.DatabaseError as exc:  # disk full, I/O error, damaged file...
                _rollback(conn)
                if is_damage(exc):
                    integrity.distrust(self.path)
                if isinstance(exc, sqlite3.OperationalError) or is_damage(exc):
                    raise from_sqlite(self.path, exc, writing=True) from None
                raise
            except BaseException:
                _rollback(conn)
                raise
            try:
                conn.execute("COMMIT")
            except sqlite3.Error as exc:
                _rollback(conn)
                raise from_sqlite(self.path, exc, writing=True) from None

    def _ensure_client_id(self) -> str:
        existing = self.get_meta("client_id")
        if existing:
            return existing
        with self._tx() as conn:
            conn.execute(
                "INSERT OR IGNORE INTO meta (key, value) VALUES ('client_id', ?)",
                (uuid.uuid4().hex,),
            )
            return str(conn.execute("SELECT value FROM meta WHERE key = 'client_id'").fetchone()[0])

    def data_version(self) -> int:
        """A number that changes when another connection (another process: the CLI in another
        terminal) commits to the file; this store's own commits leave it as it is."""
        with self._read() as conn:
            return int(conn.execute("PRAGMA data_version").fetchone()[0])

    # ---- meta ----------------------------------------------------------------------------

    def get_meta(self, key: str, default: str | None = None) -> str | None:
        """A value kept in meta (cursor, epoch, client_id, clock...)."""
        with self._read() as conn:
            row = conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return default if row is None or row[0] is None else str(row[0])

    def set_meta(self, key: str, value: str | None) -> None:
        """Keep (or with None, forget) a value in meta."""
        with self._tx() as conn:
            sql.put_meta(conn, key, value)


# ---- helpers working inside a transaction ----------------------------------------------------


def _unknown_institution(inst_id: str) -> domain.ValidationError:
    return domain.ValidationError(
        "unknown_institution",
        f"本地没有机构 {inst_id}，请先同步",
        f"Institution {inst_id} is not in the local cache; sync first",
        "institution_id",
    )


def salvaging_path(path: Path) -> Path:
    """Where a salvage builds the fresh cache before renaming it into place."""
    return path.with_name(f"{path.name}.salvaging")


def _let_go(key: str, conn: sqlite3.Connection) -> None:
    """Close a connection opened by StoreCore.open and count it out of _HELD."""
    with _HELD_LOCK:
        conn.close()
        left = _HELD.get(key, 1) - 1
        if left > 0:
            _HELD[key] = left
        else:
            _HELD.pop(key, None)


def _finish_salvage(path: Path) -> None:
    """Put in place the fresh cache of a salvage cut short after the damaged file was set aside."""
    building = salvaging_path(path)
    if not path.exists() and building.is_file():
        os.replace(building, path)


def _rollback(conn: sqlite3.Connection) -> None:
    if conn.in_transaction:
        try:
            conn.execute("ROLLBACK")
        except sqlite3.Error:
            pass  # SQLite already rolled back (after a full disk or I/O error it may)


def _require_institution(conn: sqlite3.Connection, inst_id: str) -> sqlite3.Row:
    row = conn.execute("SELECT * FROM institutions WHERE id = ?", (inst_id,)).fetchone()
    if row is None:
        raise _unknown_institution(inst_id)
    return row
