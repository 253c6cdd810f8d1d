"""Who is serving a store: every `fieldkit serve` process holds a shared lock on it for as long
as it runs, and a command that must have the store to itself (restore) takes it exclusively.

The lock dies with the process that holds it (a crashed server never blocks a restore): on
SQLite an flock on the file `<store>.serving` beside it, on PostgreSQL a session advisory lock in
the store's database (so it covers every process on every machine serving that database).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url

from .store import database_url

try:
    import fcntl
except ImportError:  # Windows: no flock; the office there must stop the server by itself
    fcntl = None  # type: ignore[assignment]

ADVISORY_KEY = 0x6669656C646B6974 & 0x7FFFFFFFFFFFFFFF  # "fieldkit", as a signed bigint


class StillServing(Exception):
    """The store is being served: what to do, in Chinese and English."""

    def __init__(self) -> None:
        self.zh = (
            "办公室服务器正在使用这个数据库（fieldkit serve 仍在运行），现在恢复会让正在运行的服务器"
            "继续以旧的状态答复各设备。请先停止服务器（Ctrl+C 或停止系统服务），再运行 fieldkit "
            "server restore，然后重新启动服务器；数据库未作任何改动"
        )
        self.en = (
            "the office server is using this store (fieldkit serve is still running), and a "
            "restore under it would leave it answering laptops from the old state: stop the "
            "server (Ctrl+C, or stop its service), run fieldkit server restore again, then start "
            "the server; the store was not changed"
        )
        super().__init__(f"{self.zh} / {self.en}")


class ServingLock:
    """The shared lock a serving process holds on its store until `release()`."""

    def __init__(self, db: str | Path, engine: Engine) -> None:
        self._file: Any = None
        self._conn: Any = None
        path = _sqlite_path(db)
        if path is not None:
            if fcntl is not None:
                self._file = open(_lock_path(path), "a+b")  # noqa: SIM115 (held until release)
                fcntl.flock(self._file, fcntl.LOCK_SH)  # waits while a restore runs
        else:
            self._conn = engine.connect()
            self._conn.execute(text("SELECT pg_advisory_lock_shared(:k)"), {"k": ADVISORY_KEY})
            self._conn.commit()

    def release(self) -> None:
        """Let go of the store (a restore may run)."""
        if self._file is not None:
            self._file.close()  # closing the file drops its flock
            self._file = None
        if self._conn is not None:
            with contextlib.suppress(Exception):  # the database may be gone already
                self._conn.execute(
                    text("SELECT pg_advisory_unlock_shared(:k)"), {"k": ADVISORY_KEY}
                )
                self._conn.commit()
            self._conn.close()
            self._conn = None


@contextlib.contextmanager
def alone(db: str | Path, engine: Engine) -> Iterator[None]:
    """Hold the store exclusively for the block; StillServing if a server holds it."""
    path = _sqlite_path(db)
    if path is not None:
        if fcntl is None:
            yield
            return
        with open(_lock_path(path), "a+b") as f:
            try:
                fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise StillServing from None
            yield
        return
    with engine.connect() as conn:
        got = conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": ADVISORY_KEY})
        if not got.scalar():
            raise StillServing
        conn.commit()
        try:
            yield
        finally:
            conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": ADVISORY_KEY})
            conn.commit()


def _sqlite_path(db: str | Path) -> Path | None:
    """The file of an SQLite store (None for another database)."""
    url = make_url(database_url(db))
    return Path(str(url.database)) if url.get_backend_name() == "sqlite" else None


def _lock_path(store: Path) -> Path:
    return store.with_name(store.name + ".serving")
