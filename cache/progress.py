"""Progress kept on each institution row (done, next step, blocked, follow-up, unsent) and search columns."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Mapping

from fieldkit import domain

# Denormalised columns on `institutions`, refreshed in the transaction that changes their inputs.
COLUMNS: tuple[tuple[str, str], ...] = (
    ("done", "INTEGER NOT NULL DEFAULT 0"),
    ("done_mask", "INTEGER NOT NULL DEFAULT 0"),
    ("touched", "INTEGER NOT NULL DEFAULT 0"),
    ("next_step", "TEXT DEFAULT 'registered'"),
    ("blocked", "INTEGER NOT NULL DEFAULT 0"),
    ("full_process", "INTEGER NOT NULL DEFAULT 0"),
    ("last_visit_at", "TEXT"),
    ("next_visit_on", "TEXT"),
    ("unsent", "INTEGER NOT NULL DEFAULT 0"),
)
COLUMN_NAMES = tuple(name for name, _ in COLUMNS)

# What the search box looks in; pinyin and initials arrive with the institution, never computed here.
SEARCH_COLUMNS = ("name", "pinyin", "initials", "uscc", "address", "contact_name", "contact_phone")

STEP_BIT = {key: 1 << i for i, key in enumerate(domain.STEP_KEYS)}
CHUNK = 500


def fts_triggers_sql() -> str:
    """Triggers that keep institutions_fts in step with institutions (one statement per line)."""
    cols = ", ".join(SEARCH_COLUMNS)
    new = ", ".join(f"new.{c}" for c in SEARCH_COLUMNS)
    old = ", ".join(f"old.{c}" for c in SEARCH_COLUMNS)
    delete = (f"INSERT INTO institutions_fts (institutions_fts, rowid, {cols}) "
              f"VALUES ('delete', old.rowid, {old})")
    insert = f"INSERT INTO institutions_fts (rowid, {cols}) VALUES (new.rowid, {new})"
    return (
        f"CREATE TRIGGER institutions_fts_ai AFTER INSERT ON institutions BEGIN {insert}; END;\n"
        f"CREATE TRIGGER institutions_fts_ad AFTER DELETE ON institutions BEGIN {delete}; END;\n"
        f"CREATE TRIGGER institutions_fts_au AFTER UPDATE OF {cols} ON institutions "
        f"BEGIN {delete}; {insert}; END;\n"
    )


def step_values(statuses: Mapping[str, str]) -> tuple[int, int, int, str | None, int, int]:
    """done, done_mask, touched, next_step, blocked, full_process for one institution's statuses."""
    done_mask = sum(bit for key, bit in STEP_BIT.items() if statuses.get(key) == domain.DONE)
    nxt = domain.next_step(statuses)
    return (
        domain.done_count(statuses),
        done_mask,
        sum(1 for key in domain.STEP_KEYS if statuses.get(key, domain.TODO) != domain.TODO),
        nxt.key if nxt else None,
        int(any(statuses.get(key) == domain.BLOCKED for key in domain.STEP_KEYS)),
        int(domain.is_full_process(statuses)),
    )


def refresh(conn: sqlite3.Connection, ids: Iterable[str] | None) -> None:
    """Recompute the progress columns of these institutions (all of them for None)."""
    if ids is None:
        todo = [r[0] for r in conn.execute("SELECT id FROM institutions")]
    else:
        todo = sorted(set(ids))
    for start in range(0, len(todo), CHUNK):
        _refresh_chunk(conn, todo[start:start + CHUNK])


def _refresh_chunk(conn: sqlite3.Connection, ids: list[str]) -> None:
    marks = ",".join("?" * len(ids))
    statuses: dict[str, dict[str, str]] = {i: {} for i in ids}
    for inst, key, status in conn.execute(
        f"SELECT institution_id, step, status FROM steps WHERE institution_id IN ({marks})", ids
    ):
        statuses[inst][key] = status
    latest: dict[str, tuple[str, str | None]] = {}
    for inst, started, next_on in conn.execute(
        f"SELECT institution_id, started_at, next_visit_on FROM visits "
        f"WHERE institution_id IN ({marks}) ORDER BY institution_id, started_at", ids
    ):
        latest[inst] = (started, next_on)
    unsent = dict(conn.execute(
        f"SELECT institution_id, count(*) FROM outbox WHERE state IN ('unsent', 'sending') "
        f"AND institution_id IN ({marks}) GROUP BY institution_id", ids
    ).fetchall())
    rows = [
        (*step_values(statuses[i]), *latest.get(i, (None, None)), unsent.get(i, 0), i)
        for i in ids
    ]
    sets = ", ".join(f"{c} = ?" for c in COLUMN_NAMES)
    conn.executemany(f"UPDATE institutions SET {sets} WHERE id = ?", rows)
