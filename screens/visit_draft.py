"""A visit form kept on disk as it is typed: written once typing pauses, off the event loop,
and put back when the visit is continued after a crash (the base of the visit screen)."""

from __future__ import annotations

import threading
from datetime import datetime
from typing import TYPE_CHECKING, Any

from textual import on, work
from textual.message import Message
from textual.widgets import Checkbox, Input, Select, SelectionList, TextArea

from fieldkit import domain
from fieldkit.payment.qr import CodeCheck

from .base import FieldkitScreen

if TYPE_CHECKING:
    from cache.drafts import VisitDraft

DRAFT_DELAY = 0.3  # seconds of quiet before what was typed is written to disk


class DraftedVisit(FieldkitScreen):
    """The visit screen's draft keeping; VisitScreen sets these in its __init__."""

    inst_id: str
    visit_id: str
    draft: VisitDraft | None
    code_checks: list[CodeCheck]
    started_at: datetime | None
    _draft_timer: Any
    _draft_lock: threading.Lock  # a late draft write never follows the end
    _visit_over: bool  # ended or discarded: no more drafts
    _blank: dict[str, Any] | None  # the untouched form: not worth a draft

    def _mount_draft(self) -> None:
        """Put a draft's fields back; from then on, every change is kept on disk."""
        if self.draft is not None:
            self._restore(self.draft.fields)
        self.call_after_refresh(self._start_drafting)

    def _start_drafting(self) -> None:
        self._blank = None if self.draft is not None else self.form_fields()

    def form_fields(self) -> dict[str, Any]:
        """Every field of the form as typed (strings, a list, a bool), for the draft."""
        return {
            "kind": str(self.query_one("#kind", Select).value),
            "outcome": str(self.query_one("#outcome", Select).value),
            "steps": list(self.query_one("#steps", SelectionList).selected),
            "issues": self.query_one("#issues", TextArea).text,
            "rect_items": self.query_one("#rect-items", TextArea).text,
            "rect_deadline": self.query_one("#rect-deadline", Input).value,
            "interview": self.query_one("#interview", Checkbox).value,
            "next_visit": self.query_one("#next-visit", Input).value,
            "notes": self.query_one("#notes", TextArea).text,
            "code_checks": [
                {k: getattr(c, k) for k in ("result", "found", "content_sha256", "zh", "en")}
                for c in self.code_checks
            ],
        }

    def _restore(self, fields: dict[str, Any]) -> None:
        """Fill the form from a draft (fields it does not know are left as they are)."""
        if fields.get("kind") in domain.VISIT_KINDS:
            self.query_one("#kind", Select).value = fields["kind"]
        if fields.get("outcome") in domain.OUTCOMES:
            self.query_one("#outcome", Select).value = fields["outcome"]
        steps = self.query_one("#steps", SelectionList)
        for key in fields.get("steps") or []:
            if key in domain.STEPS_BY_KEY:
                steps.select(key)
        for widget_id, name in (("#issues", "issues"), ("#rect-items", "rect_items")):
            self.query_one(widget_id, TextArea).text = str(fields.get(name) or "")
        self.query_one("#notes", TextArea).text = str(fields.get("notes") or "")
        for widget_id, name in (("#rect-deadline", "rect_deadline"), ("#next-visit", "next_visit")):
            self.query_one(widget_id, Input).value = str(fields.get(name) or "")
        self.query_one("#interview", Checkbox).value = bool(fields.get("interview"))

    @on(Input.Changed)
    @on(TextArea.Changed)
    @on(Select.Changed)
    @on(SelectionList.SelectedChanged)
    @on(Checkbox.Changed)
    def _typed(self, event: Message) -> None:
        """A field changed: write the draft once typing pauses."""
        if isinstance(event, Input.Changed) and event.input.id == "code-check":
            return  # the code being scanned is not part of the visit until it is checked
        if self._blank is None and self.draft is None or self._visit_over:
            return  # still filling the form in on mount
        if self._draft_timer is not None:
            self._draft_timer.stop()
        self._draft_timer = self.set_timer(DRAFT_DELAY, self._write_draft)

    def _write_draft(self) -> None:
        self._draft_timer = None
        fields = self.form_fields()
        if fields == self._blank:
            return  # nothing typed yet
        assert self.started_at is not None
        self.save_draft(fields, self.started_at.isoformat())

    @work(thread=True, group="draft", exit_on_error=False)
    def save_draft(self, fields: dict[str, Any], started_at: str) -> None:
        """Write the form to the cache's drafts (never sent), off the event loop."""
        store = self.fk.store
        with self._draft_lock:
            if store is None or self._visit_over:
                return
            store.save_draft(self.visit_id, self.inst_id, started_at, fields)

    def _stop_drafting(self) -> None:
        """Ended or discarded: no draft is written after this."""
        if self._draft_timer is not None:
            self._draft_timer.stop()
            self._draft_timer = None
        with self._draft_lock:
            self._visit_over = True

    @work(thread=True, group="draft-discard", exit_on_error=False)
    def discard_draft(self) -> None:
        """Forget the draft of a discarded visit."""
        if self.fk.store is not None:
            self.fk.store.discard_draft(self.visit_id)
