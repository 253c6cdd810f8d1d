"""The office's change log: changes gathered per write, sequence numbers handed out once per write, and the marks that prove what a client saw."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import (
    Connection,
    delete,
    insert,
    select,
    update,
)

from .bulk import executemany
from .jsontext import dumps
from .schema import change_marks, changes, meta

_PENDING = "fieldkit_pending_changes"
_INSERT_CHANGE = insert(changes)


def emit(conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
    """Append changes (kind, entity_id, institution_id, division_code, data[, audience]) to the log.

    Inside `collecting(conn)` they are gathered and written together when the block ends.
    """
    pending = conn.info.get(_PENDING)
    if pending is not None:
        pending.extend(rows)
    elif rows:
        write_changes(conn, rows)


@contextmanager
def collecting(conn: Connection, seal: bool = False) -> Iterator[list[dict[str, Any]]]:
    """Gather the changes emitted in this block and write them with one allocation at its end.

    The list yielded is the gathered changes (a caller may cut it back, e.g. after undoing an
    op). With `seal`, a sequence number is handed out even when nothing changed, so the block's
    write carries a mark of its own.
    """
    pending: list[dict[str, Any]] = []
    conn.info[_PENDING] = pending
    try:
        yield pending
    finally:
        conn.info.pop(_PENDING, None)
    write_changes(conn, pending, seal)


def write_changes(conn: Connection, rows: Sequence[dict[str, Any]], seal: bool = False) -> None:
    """Write changes to the log under consecutive sequence numbers (and one mark for them)."""
    latest: dict[tuple[str, str], int] = {}
    for i, r in enumerate(rows):
        if r.get("audience") is None:
            latest[(r["kind"], r["entity_id"])] = i
    rows = [
        r
        for i, r in enumerate(rows)
        if r.get("audience") is not None or latest[(r["kind"], r["entity_id"])] == i
    ]
    if not rows and not seal:
        return
    superseded = [r for r in rows if r.get("audience") is None]
    for kind in {r["kind"] for r in superseded}:
        ids = [r["entity_id"] for r in superseded if r["kind"] == kind]
        for chunk in _chunks(ids, 500):
            conn.execute(
                delete(changes).where(
                    changes.c.kind == kind,
                    changes.c.entity_id.in_(chunk),
                    changes.c.audience.is_(None),
                )
            )
    first = _allocate(conn, max(1, len(rows)))
    if rows:
        executemany(
            conn,
            _INSERT_CHANGE,
            [
                {
                    "seq": seq,
                    "kind": r["kind"],
                    "entity_id": r["entity_id"],
                    "institution_id": r["institution_id"],
                    "division_code": r["division_code"],
                    "audience": r.get("audience"),
                    "body": change_body(seq, r["kind"], r["entity_id"], r["data"]),
                }
                for seq, r in enumerate(rows, start=first)
            ],
            key="changelog:changes",
        )
    conn.execute(
        insert(change_marks).values(seq=first + max(1, len(rows)) - 1, mark=secrets.token_hex(8))
    )


def mark_of(conn: Connection, seq: int) -> str | None:
    """The proof of having seen the store up to `seq`: "seq.mark" of the write that holds it."""
    if seq <= 0:
        return None
    found = conn.execute(
        select(change_marks.c.mark)
        .where(change_marks.c.seq >= seq)
        .order_by(change_marks.c.seq)
        .limit(1)
    ).scalar()
    return f"{seq}.{found}" if found else None


def holds(conn: Connection, proof: str) -> bool:
    """Whether this store is (still or again) the one a client saw up to the seq of `proof`."""
    seq_text, _, mark = proof.partition(".")
    if not seq_text.isdigit() or not mark:
        return False
    seq = int(seq_text)
    if seq > int(conn.execute(select(meta.c.value).where(meta.c.key == "seq")).scalar() or 0):
        return False
    return mark_of(conn, seq) == proof


def _allocate(conn: Connection, count: int) -> int:
    """Reserve `count` sequence numbers (the counter row stays locked until commit); the first."""
    last = conn.execute(select(meta.c.value).where(meta.c.key == "seq").with_for_update()).first()
    start = int(last.value) + 1 if last else 1
    if last is None:
        conn.execute(insert(meta).values(key="seq", value=str(start + count - 1)))
    else:
        conn.execute(update(meta).where(meta.c.key == "seq").values(value=str(start + count - 1)))
    return start


def change_body(seq: int, kind: str, entity_id: str, data: dict[str, Any] | str) -> bytes:
    """A change as it goes on the wire, serialised once at write time."""
    text = data if isinstance(data, str) else dumps(data)
    return f'{{"seq":{seq},"kind":"{kind}","id":{json.dumps(entity_id)},"data":{text}}}'.encode()


def _chunks(items: Sequence[str], size: int) -> Iterable[Sequence[str]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]
