"""Visits being recorded, kept on disk as they are typed: a crash, a kill or a closed terminal
loses nothing, and the app offers the draft back. A draft is never sent; ending the visit turns it
into the visit (and its outbox op) in one transaction, see Edits.create_visit."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from .core import StoreCore


@dataclass(frozen=True)
class VisitDraft:
    """What the visit form held when it was last saved."""

    visit_id: str
    institution_id: str
    started_at: str  # ISO timestamp, when the visit began
    fields: dict[str, Any]  # the form's fields by name, as the form wrote them
    updated_at: str  # ISO timestamp (UTC), when it was last written


class Drafts(StoreCore):
    """Save, find and drop visit drafts."""

    def save_draft(
        self, visit_id: str, institution_id: str, started_at: str, fields: dict[str, Any]
    ) -> None:
        """Write (or overwrite) the draft of one visit, durably, in one small transaction."""
        now = datetime.now(UTC).isoformat(timespec="seconds")
        with self._tx() as conn:
            conn.execute(  # never for a visit already saved: a late write cannot revive it
                "INSERT INTO visit_drafts (visit_id, institution_id, started_at, fields, updated_at)"
                " SELECT ?, ?, ?, ?, ? WHERE NOT EXISTS (SELECT 1 FROM visits WHERE visit_id = ?)"
                " ON CONFLICT (visit_id) DO UPDATE SET"
                " fields = excluded.fields, updated_at = excluded.updated_at",
                (
                    visit_id,
                    institution_id,
                    started_at,
                    json.dumps(fields, ensure_ascii=False),
                    now,
                    visit_id,
                ),
            )

    def drafts(self, institution_id: str | None = None) -> list[VisitDraft]:
        """The drafts kept (of one institution), the most recently typed first."""
        query = "SELECT * FROM visit_drafts"
        params: tuple[str, ...] = ()
        if institution_id is not None:
            query += " WHERE institution_id = ?"
            params = (institution_id,)
        with self._read() as conn:
            rows = conn.execute(query + " ORDER BY updated_at DESC", params).fetchall()
        return [_draft(row) for row in rows]

    def draft_names(self) -> list[tuple[str, str]]:
        """(institution id, name) of every institution with a draft, for the start-up notice."""
        with self._read() as conn:
            rows = conn.execute(
                "SELECT d.institution_id, COALESCE(i.name, d.institution_id) FROM visit_drafts d"
                " LEFT JOIN institutions i ON i.id = d.institution_id"
                " GROUP BY d.institution_id ORDER BY MAX(d.updated_at) DESC"
            ).fetchall()
        return [(str(r[0]), str(r[1])) for r in rows]

    def discard_draft(self, visit_id: str) -> None:
        """Forget a draft (the technician discarded the visit)."""
        with self._tx() as conn:
            conn.execute("DELETE FROM visit_drafts WHERE visit_id = ?", (visit_id,))


def _draft(row: Any) -> VisitDraft:
    try:
        fields = json.loads(row["fields"])
    except ValueError:
        fields = {}
    return VisitDraft(
        row["visit_id"],
        row["institution_id"],
        row["started_at"],
        fields if isinstance(fields, dict) else {},
        row["updated_at"],
    )
