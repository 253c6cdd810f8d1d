"""Progress kept on each institution row (done, next step, blocked, follow-up, unsent) and search columns."""

from __future__ import annotations

import functools
import sqlite3
from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

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
FULL_MASK = sum(STEP_BIT[key] for key in domain.FULL_PROCESS_STEPS)
CHUNK = 500


# Meta 'search_index' (= 'stale') is set by big loads: it empties the search_changes log with a
# reset mark (migration 0012), and stays until a search index taking that load in is written
# (cache.search). (Before migration 0013 it also held back a trigram index, kept by LIVE.)
STALE_KEY = "search_index"
LIVE = f"NOT EXISTS (SELECT 1 FROM meta WHERE key = '{STALE_KEY}')"
# Inside a bulk load (meta 'bulk_load', set and cleared in its transaction) search_keys is
# written in one statement after the rows instead of by a trigger per row.
BULK_KEY = "bulk_load"
ROW_BY_ROW = f"NOT EXISTS (SELECT 1 FROM meta WHERE key = '{BULK_KEY}')"


def search_keys_sql() -> str:
    """The lower-cased search text of an institution row `new`, fields one per line."""
    return "lower(" + " || char(10) || ".join(f"new.{c}" for c in SEARCH_COLUMNS) + ")"


def search_triggers_sql() -> str:
    """Triggers keeping search_keys (and its trigram index) in step with institutions."""
    keys = search_keys_sql()
    fts_delete = (
        "INSERT INTO search_fts (search_fts, rowid, keys) VALUES ('delete', old.rowid, old.keys)"
    )
    fts_insert = "INSERT INTO search_fts (rowid, keys) VALUES (new.rowid, new.keys)"
    cols = ", ".join(SEARCH_COLUMNS)
    return (
        f"CREATE TRIGGER institutions_search_ai AFTER INSERT ON institutions WHEN {ROW_BY_ROW} "
        f"BEGIN INSERT INTO search_keys (rowid, keys) VALUES (new.rowid, {keys}); END;\n"
        "CREATE TRIGGER institutions_search_ad AFTER DELETE ON institutions "
        "BEGIN DELETE FROM search_keys WHERE rowid = old.rowid; END;\n"
        f"CREATE TRIGGER institutions_search_au AFTER UPDATE OF {cols} ON institutions "
        f"WHEN {ROW_BY_ROW} BEGIN UPDATE search_keys SET keys = {keys} WHERE rowid = new.rowid; "
        "END;\n"
        f"CREATE TRIGGER search_fts_ai AFTER INSERT ON search_keys WHEN {LIVE} "
        f"BEGIN {fts_insert}; END;\n"
        f"CREATE TRIGGER search_fts_ad AFTER DELETE ON search_keys WHEN {LIVE} "
        f"BEGIN {fts_delete}; END;\n"
        f"CREATE TRIGGER search_fts_au AFTER UPDATE ON search_keys WHEN {LIVE} "
        f"BEGIN {fts_delete}; {fts_insert}; END;\n"
    )


def _next_step(done_mask: int) -> str | None:
    return next((key for key, bit in STEP_BIT.items() if not done_mask & bit), None)


@functools.cache
def _by_mask() -> tuple[tuple[int, ...], tuple[str | None, ...]]:
    """By done_mask: how many steps are done, and the first step (in checklist order) that is
    not. Made at the first use (2,048 masks, a few ms), not at every start."""
    masks = range(1 << len(STEP_BIT))
    return tuple(mask.bit_count() for mask in masks), tuple(_next_step(mask) for mask in masks)


def step_values(statuses: Mapping[str, str]) -> tuple[int, int, int, str | None, int, int]:
    """done, done_mask, touched, next_step, blocked, full_process for one institution's statuses."""
    done_mask = touched = blocked = 0
    for key, status in statuses.items():
        bit = STEP_BIT.get(key)
        if bit is None or status == domain.TODO:
            continue
        touched += 1
        if status == domain.DONE:
            done_mask |= bit
        elif status == domain.BLOCKED:
            blocked = 1
    return _mask_values(done_mask, touched, blocked)


def load_values(
    steps: Iterable[Mapping[str, Any]],
) -> dict[str, tuple[int, int, int, str | None, int, int]]:
    """step_values for every institution of a list of step rows (a step given twice: the last)."""
    statuses: dict[str, dict[str, str]] = {}
    for s in steps:
        inst = s["institution_id"]
        held = statuses.get(inst)
        if held is None:
            held = statuses[inst] = {}
        held[s["step"]] = s["status"]
    return {inst: step_values(held) for inst, held in statuses.items()}


def refresh(conn: sqlite3.Connection, ids: Iterable[str] | None) -> None:
    """Recompute the progress columns of these institutions (all of them for None)."""
    if ids is None:
        todo = [r[0] for r in conn.execute("SELECT id FROM institutions")]
    else:
        todo = sorted(set(ids))
    for start in range(0, len(todo), CHUNK):
        _refresh_chunk(conn, todo[start : start + CHUNK])


def _follow_up(visits: list[tuple[str, str | None]]) -> str | None:
    """The standing follow-up date (ISO text) of one institution's visits (start, next date)."""
    days = []
    for started, next_on in visits:
        try:
            days.append(
                (date.fromisoformat(started[:10]), date.fromisoformat(next_on) if next_on else None)
            )
        except ValueError:
            continue  # a date this version cannot read sets nothing
    due = domain.cases.follow_up_on(days)
    return due.isoformat() if due else None


# Per institution, in SQL (a first pull refreshes 7,750 institutions of 85,250 steps: summed
# there, not row by row in Python): the done steps' bits, how many known steps are touched
# (not todo), whether one is blocked; as step_values reads them.
_BITS = "WITH bits (step, bit) AS (VALUES " + ", ".join(
    f"('{k}', {b})" for k, b in STEP_BIT.items()
)
_STEP_SUMS = (
    _BITS + ") SELECT s.institution_id, "
    f"coalesce(sum(CASE WHEN s.status = '{domain.DONE}' THEN b.bit END), 0), "
    f"sum(s.status != '{domain.TODO}'), max(s.status = '{domain.BLOCKED}') "
    "FROM steps AS s JOIN bits AS b ON b.step = s.step WHERE s.institution_id IN ({marks}) "
    "GROUP BY s.institution_id"
)
_NO_STEPS = (0, 0, 0)


def _mask_values(done_mask: int, touched: int, blocked: int) -> tuple[Any, ...]:
    """step_values from an institution's summed steps."""
    done_count, next_step = _by_mask()
    return (
        done_count[done_mask],
        done_mask,
        touched,
        next_step[done_mask],
        blocked,
        int(done_mask & FULL_MASK == FULL_MASK),
    )


def _refresh_chunk(conn: sqlite3.Connection, ids: list[str]) -> None:
    marks = ",".join("?" * len(ids))
    sums = {
        inst: (done_mask, touched, blocked)
        for inst, done_mask, touched, blocked in conn.execute(_STEP_SUMS.format(marks=marks), ids)
    }
    seen: dict[str, list[tuple[str, str | None]]] = {}
    for inst, started, next_on in conn.execute(
        f"SELECT institution_id, started_at, next_visit_on FROM visits "
        f"WHERE institution_id IN ({marks}) ORDER BY institution_id, started_at",
        ids,
    ):
        seen.setdefault(inst, []).append((started, next_on))
    # The follow-up date the latest visit that set one gave stands until a visit meets it: a
    # later visit leaving the field empty erases nothing.
    latest = {inst: (held[-1][0], _follow_up(held)) for inst, held in seen.items()}
    unsent = dict(
        conn.execute(
            f"SELECT institution_id, count(*) FROM outbox WHERE state IN ('unsent', 'sending') "
            f"AND institution_id IN ({marks}) GROUP BY institution_id",
            ids,
        ).fetchall()
    )
    rows = [
        (*_mask_values(*sums.get(i, _NO_STEPS)), *latest.get(i, (None, None)), unsent.get(i, 0), i)
        for i in ids
    ]
    sets = ", ".join(f"{c} = ?" for c in COLUMN_NAMES)
    conn.executemany(f"UPDATE institutions SET {sets} WHERE id = ?", rows)
