"""A served SQLite store's write-ahead log copied back into the database file off the request path.

SQLite in WAL mode appends each commit to the log; by default the commit that takes the log past
1,000 pages then copies the log into the database file and syncs it (a checkpoint), inside that
request. A pushed batch of 200 ops writes hundreds of pages, so under a morning's pushes nearly
every commit paid for a checkpoint: about 10 ms of a 40 ms batch, with the process-wide write
lock held. While `fieldkit serve` runs, its connections never checkpoint; a thread of its own
does, with its own connection, twice a second while there is something to copy (a PASSIVE
checkpoint: it waits for no reader or writer, and the sqlite3 module lets other Python threads run
meanwhile). What a commit guarantees is unchanged: WAL with synchronous=NORMAL, as before (a
commit survives the process dying; a power cut may lose the last commits, never the store). The
log is copied in full when the server stops, as before (the last connection's close).
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from typing import Any

from sqlalchemy import Engine, event

log = logging.getLogger("fieldkit.server")

EVERY_S = 0.5


class Checkpointer:
    """Checkpoints an SQLite store's log from a thread (see the module's docstring)."""

    def __init__(self, engine: Engine, every_s: float = EVERY_S) -> None:
        self.path = str(engine.url.database)
        self.every_s = every_s
        self._stop = threading.Event()
        event.listen(engine, "connect", _no_autocheckpoint)
        engine.dispose()  # connections already pooled come back with the setting
        self._thread = threading.Thread(target=self._run, name="fieldkit-checkpoint", daemon=True)
        self._thread.start()

    def close(self) -> None:
        """Stop the thread (the store's own close copies what is left)."""
        self._stop.set()
        self._thread.join(timeout=30)

    def checkpoint(self, conn: sqlite3.Connection) -> tuple[int, int, int]:
        """One PASSIVE checkpoint: (busy, frames in the log, frames copied)."""
        row = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        return int(row[0]), int(row[1]), int(row[2])

    def _run(self) -> None:
        conn: sqlite3.Connection | None = None
        while not self._stop.wait(self.every_s):
            try:
                if conn is None:
                    conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
                self.checkpoint(conn)
            except sqlite3.Error as exc:  # a busy or vanished file: the next round tries again
                log.warning("WAL checkpoint of %s failed: %s", self.path, exc)
                if conn is not None:
                    conn.close()
                conn = None
        if conn is not None:
            conn.close()


def _no_autocheckpoint(dbapi_conn: Any, _record: Any) -> None:
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA wal_autocheckpoint=0")
    cursor.close()
