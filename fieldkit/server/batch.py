"""What one pushed batch reads and writes: rows fetched once for the whole batch, writes held in
memory and sent with one executemany per table when the batch ends (or before an op that needs
the database itself).

The op handlers work through a Batch (`Batch.of(conn)`), in one of two modes:
- buffered: reads come from rows prefetched for every op of the batch with one SELECT … IN each,
  writes are appended to a journal; an op refused halfway is undone by cutting the journal back
  (no savepoint), so it must be refused before it writes anything to the database itself. A
  handler that needs more than the prefetched rows raises NeedsDatabase before writing anything.
- direct: reads and writes go to the database at once, inside the op's savepoint; the prefetched
  rows are dropped afterwards (the op may have changed them) and fetched again when next needed.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Table, bindparam, insert, select, update

from .bulk import executemany
from .store import institutions, reviews, steps, visits

_ACTIVE = "fieldkit_push_batch"
_CHUNK = 500
_STEP_VALUES = ("status", "reason", "note", "hlc", "updated_by", "received_ms")


_UPDATE_STEP = (
    update(steps)
    .where(
        steps.c.institution_id == bindparam("b_institution"),
        steps.c.step == bindparam("b_step"),
    )
    .values({k: bindparam(k) for k in _STEP_VALUES})
)


class NeedsDatabase(Exception):
    """A buffered op needs the database itself: flush the batch and run the op directly."""


class Batch:
    """The rows a batch of ops reads, and the writes it has not yet sent."""

    def __init__(self, conn: Connection, batch: Sequence[dict[str, Any]] = ()) -> None:
        self.conn = conn
        self.ops = list(batch)
        self.direct = True
        self._institutions: dict[str, Any] | None = None
        self._steps: dict[str, dict[str, dict[str, Any]]] | None = None
        self._visit_ids: _Present | None = None
        self._reviewed: _Present | None = None
        self._created: dict[str, dict[str, Any]] = {}  # visits inserted but not yet flushed
        self._journal: list[tuple[str, Any, Any]] = []

    @staticmethod
    def of(conn: Connection) -> Batch:
        """The batch being applied on this connection (a direct one outside a push)."""
        found = conn.info.get(_ACTIVE)
        return found if isinstance(found, Batch) else Batch(conn)

    @contextmanager
    def active(self) -> Iterator[Batch]:
        """Make this the batch handlers see on its connection; flush what is left at the end."""
        self.conn.info[_ACTIVE] = self
        self.direct = False
        try:
            yield self
            self.flush()
        finally:
            self.direct = True
            self.conn.info.pop(_ACTIVE, None)

    @contextmanager
    def directly(self) -> Iterator[None]:
        """Run one op against the database itself (the caller holds it in a savepoint)."""
        self.flush()
        buffered, self.direct = not self.direct, True
        try:
            yield
        finally:
            self.direct = not buffered
            self._forget()

    # --- reads -----------------------------------------------------------------------------------
    def institution(self, institution_id: str) -> Any:
        """The institutions row (None when the office has none)."""
        if self.direct:
            return self.conn.execute(
                select(institutions).where(institutions.c.id == institution_id)
            ).first()
        if self._institutions is None:
            ids = {str(op["institution_id"]) for op in self.ops}
            self._institutions = {
                r.id: r for r in self._fetch(select(institutions), institutions.c.id, ids)
            }
        if institution_id not in self._institutions:  # not named by the batch's ops
            self._institutions[institution_id] = self.conn.execute(
                select(institutions).where(institutions.c.id == institution_id)
            ).first()
        return self._institutions[institution_id]

    def steps(self, institution_id: str) -> dict[str, dict[str, Any]]:
        """An institution's steps rows by step key (locked for this transaction), as they stand."""
        if self.direct:
            return self._locked_steps([institution_id]).get(institution_id, {})
        if self._steps is None:
            wanted = {str(op["institution_id"]) for op in self.ops if op["kind"] == "step.set"}
            self._steps = self._locked_steps(wanted)
        if institution_id not in self._steps:
            self._steps |= self._locked_steps([institution_id])
        return self._steps.get(institution_id, {})

    def visit_exists(self, visit_id: str) -> bool:
        """Whether the office holds a visit of this id (one created earlier in the batch too)."""
        if visit_id in self._created:
            return True
        if self.direct or self._visit_ids is None:
            self._visit_ids = self._present(visits.c.visit_id)
        return self._visit_ids.answer(visit_id)

    def reviewed(self, visit_id: str) -> bool:
        """Whether a supervisor has reviewed a visit of this id."""
        if self.direct or self._reviewed is None:
            self._reviewed = self._present(reviews.c.visit_id)
        return self._reviewed.answer(visit_id)

    def visit(self, visit_id: str) -> dict[str, Any] | None:
        """The visits row, including one created earlier in the batch; None if none."""
        if visit_id in self._created:
            return self._created[visit_id]
        row = self.conn.execute(select(visits).where(visits.c.visit_id == visit_id)).first()
        return None if row is None else dict(row._mapping)

    # --- writes ----------------------------------------------------------------------------------
    def insert(self, table: Table, row: dict[str, Any]) -> None:
        """Insert one row (held until the batch is flushed, in buffered mode)."""
        if self.direct:
            self.conn.execute(insert(table).values(**row))
            return
        self._journal.append(("insert", table, row))
        if table is visits:
            self._created[row["visit_id"]] = row

    def update_step(self, row: dict[str, Any], values: dict[str, Any]) -> None:
        """Change one steps row (its dict from `steps()` changes with it)."""
        if self.direct:
            self.conn.execute(
                update(steps)
                .where(steps.c.institution_id == row["institution_id"], steps.c.step == row["step"])
                .values(**values)
            )
        else:
            self._journal.append(("step", row, {k: row[k] for k in values}))
        row.update(values)

    def checkpoint(self) -> int:
        """A point to undo back to (see `undo`)."""
        return len(self._journal)

    def undo(self, point: int) -> None:
        """Take back every buffered write made since `point`, newest first."""
        while len(self._journal) > point:
            what, target, payload = self._journal.pop()
            if what == "step":
                target.update(payload)  # the values it had before
            elif target is visits:
                self._created.pop(payload["visit_id"], None)

    def flush(self) -> None:
        """Send the buffered writes: one executemany per table, one for the steps changed."""
        journal, self._journal = self._journal, []
        by_table: dict[tuple[str, tuple[str, ...]], tuple[Table, list[dict[str, Any]]]] = {}
        changed: dict[tuple[str, str], dict[str, Any]] = {}
        for what, target, payload in journal:
            if what == "insert":
                key = (target.name, tuple(payload))
                by_table.setdefault(key, (target, []))[1].append(payload)
            else:
                changed[(target["institution_id"], target["step"])] = target
        for (name, columns), (table, rows) in by_table.items():
            executemany(self.conn, insert(table), rows, columns, f"batch:{name}:{columns}")
        if changed:
            executemany(
                self.conn,
                _UPDATE_STEP,
                [
                    {"b_institution": i, "b_step": s} | {k: row[k] for k in _STEP_VALUES}
                    for (i, s), row in changed.items()
                ],
                key="batch:steps",
            )
        self._created.clear()

    # --- helpers ---------------------------------------------------------------------------------
    def _forget(self) -> None:
        """Drop the prefetched rows: an op run directly may have changed any of them."""
        self._institutions = None
        self._steps = None
        self._visit_ids = None
        self._reviewed = None

    def _present(self, column: Any) -> _Present:
        """Which visit ids the batch names have a row with `column` equal to them."""
        named = set()
        for op in self.ops:
            data = op.get("data")
            if op["kind"].startswith("visit.") and isinstance(data, dict):
                if isinstance(data.get("visit_id"), str):
                    named.add(data["visit_id"])
        if self.direct:
            named = set()
        found = set(self._scalars(select(column).distinct(), column, named))
        return _Present(self.conn, column, named, found)

    def _locked_steps(self, ids: Iterable[str]) -> dict[str, dict[str, dict[str, Any]]]:
        """Steps rows of institutions, locked in id order (so racing batches lock alike)."""
        found: dict[str, dict[str, dict[str, Any]]] = {}
        query = select(steps).order_by(steps.c.institution_id, steps.c.step).with_for_update()
        for row in self._fetch(query, steps.c.institution_id, ids):
            found.setdefault(row.institution_id, {})[row.step] = dict(row._mapping)
        return found

    def _fetch(self, query: Any, column: Any, values: Iterable[str]) -> list[Any]:
        """The rows of `query` whose `column` is among `values` (asked 500 at a time)."""
        ordered = sorted(set(values))
        rows: list[Any] = []
        for i in range(0, len(ordered), _CHUNK):
            rows += self.conn.execute(query.where(column.in_(ordered[i : i + _CHUNK]))).all()
        return rows

    def _scalars(self, query: Any, column: Any, values: Iterable[str]) -> list[str]:
        return [row[0] for row in self._fetch(query, column, values)]


class _Present:
    """Which of some values occur in a column: asked once for those the batch names, then one at a
    time for any other."""

    def __init__(self, conn: Connection, column: Any, asked: set[str], found: set[str]) -> None:
        self.conn, self.column, self.asked, self.found = conn, column, asked, found

    def answer(self, value: str) -> bool:
        """Whether `value` occurs."""
        if value not in self.asked:
            query = select(self.column).where(self.column == value).limit(1)
            if self.conn.execute(query).first() is not None:
                self.found.add(value)
            self.asked.add(value)
        return value in self.found
