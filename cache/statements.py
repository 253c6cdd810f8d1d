"""The SQL the store runs from several places: upserts of institutions, steps, visits and search
keys, and the meta table."""

from __future__ import annotations

import functools
import itertools
import sqlite3
from datetime import UTC, datetime
from typing import Any

from . import progress
from .rows import CONTACT_FIELDS, INSTITUTION_FIELDS, VISIT_COLUMNS


def utcnow() -> str:
    """Now, in UTC, as the cache stores times."""
    return datetime.now(UTC).isoformat(timespec="seconds")


_INST_COLS = ", ".join(INSTITUTION_FIELDS) + ", sync_state, " + ", ".join(progress.COLUMN_NAMES)


# A pulled run of institutions, in one executemany (the caller keeps locally edited contacts).
INST_PULL = (
    f"INSERT INTO institutions ({_INST_COLS}) VALUES ("
    + ", ".join("?" * (len(INSTITUTION_FIELDS) + 1 + len(progress.COLUMN_NAMES)))
    + ") ON CONFLICT(id) DO UPDATE SET "
    + ", ".join(f"{c} = excluded.{c}" for c in INSTITUTION_FIELDS if c != "id")
)


# A bulk load keeps contact fields that have a local edit waiting to be sent.
INST_LOAD = (
    f"INSERT INTO institutions ({_INST_COLS}) VALUES ("
    + ", ".join("?" * (len(INSTITUTION_FIELDS) + 1 + len(progress.COLUMN_NAMES)))
    + ") ON CONFLICT(id) DO UPDATE SET "
    + ", ".join(
        f"{c} = CASE WHEN institutions.sync_state IN ('unsent', 'sending') THEN institutions.{c} "
        f"ELSE excluded.{c} END"
        if c in CONTACT_FIELDS
        else f"{c} = excluded.{c}"
        for c in INSTITUTION_FIELDS
        if c != "id"
    )
)


SEARCH_KEYS_ALL = (
    "INSERT INTO search_keys (rowid, keys) SELECT rowid, "
    + progress.search_keys_sql().replace("new.", "")
    + " FROM institutions"
)


SEARCH_KEYS_UPSERT = (
    SEARCH_KEYS_ALL + " WHERE id IN (SELECT value FROM json_each(?)) "
    "ON CONFLICT(rowid) DO UPDATE SET keys = excluded.keys"
)


STEP_UPSERT = (
    "INSERT INTO steps (institution_id, step, status, reason, note, hlc, updated_by, sync_state) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(institution_id, step) DO UPDATE SET "
    "status = excluded.status, reason = excluded.reason, note = excluded.note, "
    "hlc = excluded.hlc, updated_by = excluded.updated_by, sync_state = excluded.sync_state"
)


VISIT_UPSERT = (
    f"INSERT INTO visits ({', '.join(VISIT_COLUMNS)}, amendments, hlc, sync_state) VALUES ("
    + ", ".join(f":{c}" for c in VISIT_COLUMNS)
    + ", :amendments, :hlc, :sync_state) ON CONFLICT(visit_id) DO UPDATE SET "
    + ", ".join(
        f"{c} = excluded.{c}" for c in (*VISIT_COLUMNS[1:], "amendments", "hlc", "sync_state")
    )
)


def step_columns(steps: list[dict[str, Any]]) -> tuple[str, ...]:
    """The step columns a load carries: always the first four, hlc/updated_by/note if given."""
    extra = set().union(*steps) & {"note", "hlc", "updated_by"}
    return ("institution_id", "step", "status", "reason", *sorted(extra))


def step_load_sql(columns: tuple[str, ...]) -> str:
    """Insert loaded steps; a step holding a local edit (not 'synced') is left as it is."""
    return (
        f"INSERT INTO steps ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))}) "
        "ON CONFLICT(institution_id, step) DO UPDATE SET status = excluded.status, "
        "reason = excluded.reason, note = excluded.note, hlc = excluded.hlc, "
        "updated_by = excluded.updated_by, sync_state = 'synced' "
        "WHERE steps.sync_state = 'synced'"
    )


def get_meta(conn: sqlite3.Connection, key: str) -> str | None:
    """A meta value read inside the caller's transaction."""
    row = conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    return None if row is None else row[0]


def put_meta(conn: sqlite3.Connection, key: str, value: str | None) -> None:
    """Set (or with None, delete) a meta value inside the caller's transaction."""
    if value is None:
        conn.execute("DELETE FROM meta WHERE key = ?", (key,))
    else:
        conn.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?) "
            "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (key, value),
        )


# Parameters one statement of insert_rows binds at most: SQLite's limit before 3.32, still the
# SQLite of some Linux distributions' Python.
MAX_PARAMS = 999
_chain = itertools.chain.from_iterable


def insert_rows(conn: sqlite3.Connection, statement: str, rows: list[tuple[Any, ...]]) -> None:
    """executemany(statement, rows) for an INSERT of one `VALUES (?, ...)` row, run with as many
    rows in each statement as MAX_PARAMS allows: the same rows in the same order (a later row of
    the same key wins), for a fraction of the statements.

    A pulled page is ~4,600 step rows: one statement per row cost a third more, and the GIL went
    at every row, the writer waiting for it behind the next page being parsed."""
    if not rows:
        return
    width = len(rows[0])
    head, one, tail = _split_values(statement, width)
    per = max(1, MAX_PARAMS // width)
    whole = len(rows) - len(rows) % per
    if whole:
        full = _values_statement(head, one, tail, per)
        conn.executemany(full, [tuple(_chain(rows[i : i + per])) for i in range(0, whole, per)])
    if whole < len(rows):
        rest = rows[whole:]
        conn.execute(_values_statement(head, one, tail, len(rest)), tuple(_chain(rest)))


@functools.cache
def _split_values(statement: str, width: int) -> tuple[str, str, str]:
    """The statement around its one VALUES row: (before, the row, after)."""
    one = "(" + ", ".join("?" * width) + ")"
    head, found, tail = statement.partition(f" VALUES {one}")
    if not found:
        raise ValueError(f"not an INSERT of one VALUES row of {width}: {statement[:80]}")
    return head, one, tail


@functools.cache
def _values_statement(head: str, one: str, tail: str, count: int) -> str:
    return f"{head} VALUES {', '.join([one] * count)}{tail}"
