"""Applying the office's pulled changes (a pull never overwrites local edits).

A province's first pull is 100,000 changes, the office's order interleaving each institution
with its eleven steps, the platform's readings after them; one statement per change cost more
than the download. So a page is written in stretches: a stretch of the page holding only
institutions, readings and steps is written kind by kind, each kind in page order from
prepared tuples (many rows a statement: statements.insert_rows), institutions first (a reading
is kept only for a cached institution, and a step needs nothing else). Any other kind ends the stretch and is applied
alone, in its place, by the caller's `apply_one`, so changes that depend on each other (an
institution unassigned, then back) keep their order. The institutions whose progress a page may
move are refreshed once, after it: those of its institutions and steps (no progress column
reads a platform reading). An institution new to the cache is written with its progress
already counted from the page's own steps, when nothing else can move it (see `new_progress`):
in a first pull that is all 7,750 of them, and the refresh has nothing left to do.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from typing import Any

from fieldkit import domain

from . import platform, progress
from . import statements as sql
from .rows import CONTACT_FIELDS, INSTITUTION_FIELDS, institution_row, visit_params
from .statements import INST_PULL, STEP_UPSERT, VISIT_UPSERT

# A new row starts with no progress; the caller refreshes it once the page is applied.
NO_PROGRESS: dict[str, Any] = {
    "sync_state": "synced",
    "done": 0,
    "done_mask": 0,
    "touched": 0,
    "next_step": domain.STEP_KEYS[0],
    "blocked": 0,
    "full_process": 0,
    "last_visit_at": None,
    "next_visit_on": None,
    "unsent": 0,
}
_NO_PROGRESS_ROW = ("synced", *(NO_PROGRESS[c] for c in progress.COLUMN_NAMES))  # INST_PULL's order

# What a row or a statement of a run raises on a change this code cannot store.
BAD_CHANGE = (
    KeyError,
    TypeError,
    ValueError,
    AttributeError,
    sqlite3.IntegrityError,
    sqlite3.ProgrammingError,  # a list or an object where text is stored
)


class BadChange(Exception):
    """A change of the page that cannot be applied (`change`), and why (`detail`)."""

    def __init__(self, change: dict[str, Any], detail: str) -> None:
        super().__init__(detail)
        self.change, self.detail = change, detail


ApplyOne = Callable[[sqlite3.Connection, dict[str, Any], set[str]], set[str]]
# The progress columns (INST_PULL's order, from sync_state) of institutions new to the cache,
# by id (new_progress).
Counted = dict[str, tuple[Any, ...]]
# The kinds written together in stretches.
RUNS = ("institution", "platform", "step")
_Store = Callable[[sqlite3.Connection, list[tuple[Any, ...]], set[str]], None]


def apply_page(
    conn: sqlite3.Connection, changes: list[dict[str, Any]], dirty: set[str], apply_one: ApplyOne
) -> set[str]:
    """Write a page's changes; the institutions whose progress they may move.

    `dirty`: the registers with unsent local edits, which the office's values do not overwrite.
    Raises BadChange naming the change (for a statement of many: the first change it writes)."""
    touched: set[str] = set()
    stretch: dict[str, list[dict[str, Any]]] = {kind: [] for kind in RUNS}
    for change in changes:
        kind = change.get("kind")
        if kind in stretch:
            stretch[kind].append(change)
            continue
        _write_stretch(conn, stretch, dirty, touched, None)
        try:
            touched |= apply_one(conn, change, dirty)
        except BAD_CHANGE as exc:
            raise BadChange(change, f"{type(exc).__name__}: {exc}") from None
    counted: Counted = {}  # (only the last stretch counts: nothing after it moves them again)
    _write_stretch(conn, stretch, dirty, touched, counted)
    return touched.difference(counted)


def _write_stretch(
    conn: sqlite3.Connection,
    stretch: dict[str, list[dict[str, Any]]],
    dirty: set[str],
    touched: set[str],
    counted: Counted | None,
) -> None:
    """Write a stretch of institutions, readings and steps, in that order, and empty it.

    `counted` (given for the page's last stretch; in a first pull, the whole page) is filled
    with the progress of the institutions new to the cache, counted from the stretch's steps
    (new_progress); they are written with it."""
    statuses: dict[str, dict[str, str]] | None = None if counted is None else {}
    steps = _step_rows(stretch["step"], dirty, touched, statuses)
    if counted is not None and statuses is not None and stretch["institution"]:
        counted.update(new_progress(conn, stretch["institution"], statuses))
    written: tuple[tuple[str, list[tuple[Any, ...]], _Store], ...] = (
        (
            "institution",
            _institution_rows(stretch["institution"], touched, counted),
            _store_institutions,
        ),
        ("platform", _reading_rows(stretch["platform"]), _store_readings),
        ("step", steps, _store_steps),
    )
    for kind, rows, store in written:
        if rows:
            try:
                store(conn, rows, dirty)
            except BAD_CHANGE as exc:
                raise BadChange(stretch[kind][0], f"{type(exc).__name__}: {exc}") from None
    for run in stretch.values():
        run.clear()


def _bad(change: dict[str, Any], exc: Exception) -> BadChange:
    return BadChange(change, f"{type(exc).__name__}: {exc}")


# --- steps ---------------------------------------------------------------------------------------
def _step_rows(
    run: list[dict[str, Any]],
    dirty: set[str],
    touched: set[str],
    counting: dict[str, dict[str, str]] | None,
) -> list[tuple[Any, ...]]:
    """The steps rows pulled step changes write: none for a register with local edits, nor for
    a step this version does not know (it could not be shown). `counting`: filled with the
    status each row leaves, by institution and step."""
    rows = []
    statuses, known = domain.STATUSES, domain.STEPS_BY_KEY
    for change in run:
        try:
            data = change["data"]
            inst_id, key, status = str(data["institution_id"]), str(data["step"]), data["status"]
            if status not in statuses:
                raise ValueError(f"unknown status {status!r}")
        except BAD_CHANGE as exc:
            raise _bad(change, exc) from None
        if key not in known or (dirty and f"step:{inst_id}:{key}" in dirty):
            continue
        touched.add(inst_id)
        if counting is not None:
            held = counting.get(inst_id)
            if held is None:
                held = counting[inst_id] = {}
            held[key] = status
        get = data.get
        rows.append(
            (
                inst_id,
                key,
                status,
                get("reason"),
                get("note"),
                get("hlc"),
                get("updated_by"),
                "synced",
            )
        )
    return rows


def _store_steps(conn: sqlite3.Connection, rows: list[tuple[Any, ...]], dirty: set[str]) -> None:
    sql.insert_rows(conn, STEP_UPSERT, rows)


# --- institutions --------------------------------------------------------------------------------
def _institution_rows(
    run: list[dict[str, Any]], touched: set[str], counted: Counted | None
) -> list[tuple[Any, ...]]:
    """The institutions rows of pulled institutions: a new one's progress as `counted` has it,
    else empty (the caller refreshes it once the page is in; an existing row keeps its own)."""
    rows = []
    counted = counted or _NOTHING_COUNTED
    for change in run:
        try:
            row = institution_row(change["data"])
        except BAD_CHANGE as exc:
            raise _bad(change, exc) from None
        inst_id = str(row[0])
        touched.add(inst_id)
        rows.append((*row, *counted.get(inst_id, _NO_PROGRESS_ROW)))
    return rows


_NOTHING_COUNTED: Counted = {}


def new_progress(
    conn: sqlite3.Connection, run: list[dict[str, Any]], statuses: dict[str, dict[str, str]]
) -> Counted:
    """The progress columns of a run's institutions that are new to the cache, from the
    statuses their page's steps leave (_step_rows' `counting`), instead of summed from the
    steps table once they are written: in a first pull, all 7,750 of them.

    Only where those steps are all there is: an institution counted is not cached yet and has
    no step, visit or op of its own here (steps pulled before their institution, in an earlier
    page or stretch, a local visit or edit: refreshed from the tables as before). Called before
    the stretch's rows are written."""
    datas = [c.get("data") for c in run]
    ids = [d["id"] for d in datas if isinstance(d, dict) and isinstance(d.get("id"), str)]
    if not ids:
        return {}
    held_here = {row[0] for row in conn.execute(_HELD_HERE, (json.dumps(ids),))}
    return {
        inst_id: ("synced", *progress.step_values(statuses.get(inst_id, _NO_DATA)), None, None, 0)
        for inst_id in ids
        if inst_id not in held_here
    }


_NO_DATA: dict[str, Any] = {}
# Of the ids (?1, a JSON list), those the cache already holds something of.
_HELD_HERE = " UNION ALL ".join(
    f"SELECT {column} FROM {table} WHERE {column} IN (SELECT value FROM json_each(?1))"
    for table, column in (
        ("institutions", "id"),
        ("steps", "institution_id"),
        ("visits", "institution_id"),
        ("outbox", "institution_id"),
    )
)


def _store_institutions(
    conn: sqlite3.Connection, rows: list[tuple[Any, ...]], dirty: set[str]
) -> None:
    kept = _local_contacts(conn, [str(r[0]) for r in rows], dirty) if dirty else {}
    if kept:  # a contact edited here and not yet accepted wins until it is
        rows = [_keep_contacts(r, kept[str(r[0])]) if str(r[0]) in kept else r for r in rows]
    if len(rows) >= KEYS_IN_ONE_PASS:
        search_keys_in_one_pass(conn, [str(r[0]) for r in rows], INST_PULL, rows)
    else:
        sql.insert_rows(conn, INST_PULL, rows)
    if conn.execute("SELECT EXISTS (SELECT 1 FROM pending_removals)").fetchone()[0]:
        conn.executemany(
            "DELETE FROM pending_removals WHERE institution_id = ?", [(r[0],) for r in rows]
        )


# From this many institutions in one run their search keys are set in one statement after the
# rows (as a bulk load does) rather than by a trigger per row.
KEYS_IN_ONE_PASS = 200


def search_keys_in_one_pass(
    conn: sqlite3.Connection, ids: list[str], statement: str, rows: list[tuple[Any, ...]]
) -> None:
    """Write institution rows with the per-row search-key triggers off, then set those
    institutions' search keys in one statement: where a big run computes them cheapest. The
    search index is then rebuilt once, as after a bulk load (setting the meta key resets its
    change log: migration 0012)."""
    sql.put_meta(conn, progress.BULK_KEY, "1")
    sql.insert_rows(conn, statement, rows)
    conn.execute(sql.SEARCH_KEYS_UPSERT, (json.dumps(ids),))
    sql.put_meta(conn, progress.BULK_KEY, None)


def _local_contacts(
    conn: sqlite3.Connection, ids: list[str], dirty: set[str]
) -> dict[str, dict[str, Any]]:
    """The cached contact fields of these institutions that have unsent local edits."""
    edited = [i for i in ids if any(f"{field}:{i}" in dirty for field in CONTACT_FIELDS)]
    kept: dict[str, dict[str, Any]] = {}
    for inst_id in edited:
        row = conn.execute(
            "SELECT contact_name, contact_phone FROM institutions WHERE id = ?", (inst_id,)
        ).fetchone()
        if row is not None:
            kept[inst_id] = {
                field: row[field] for field in CONTACT_FIELDS if f"{field}:{inst_id}" in dirty
            }
    return kept


def _keep_contacts(row: tuple[Any, ...], local: dict[str, Any]) -> tuple[Any, ...]:
    values = list(row)
    for field, value in local.items():
        values[INSTITUTION_FIELDS.index(field)] = value
    return tuple(values)


# --- platform readings ---------------------------------------------------------------------------
def _reading_rows(run: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    rows = []
    for change in run:
        try:
            row = platform.reading_row(change["data"])
        except BAD_CHANGE as exc:
            raise _bad(change, exc) from None
        rows.append(row)  # (no progress column reads a reading: nothing to refresh)
    return rows


def _store_readings(conn: sqlite3.Connection, rows: list[tuple[Any, ...]], dirty: set[str]) -> None:
    platform.store_readings(conn, rows)


# --- one at a time -------------------------------------------------------------------------------
def apply_visit(conn: sqlite3.Connection, data: dict[str, Any], dirty: set[str]) -> set[str]:
    """Upsert a visit by visit_id unless it has unsent local ops; return its institution."""
    if f"visit:{data['visit_id']}" in dirty:
        return set()
    conn.execute(
        VISIT_UPSERT, {**visit_params(data), "hlc": data.get("hlc"), "sync_state": "synced"}
    )
    return {str(data["institution_id"])}
