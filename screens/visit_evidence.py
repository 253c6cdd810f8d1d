"""The files kept with a visit: paths typed, pasted or dropped, and the watched folder's new
photos, reduced and hashed off the event loop (a base of the visit screen)."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import on, work
from textual.widgets import Input, Label

from fieldkit import domain

from .i18n import listed
from .visit_draft import DraftedVisit


class VisitEvidence(DraftedVisit):
    """The visit screen's evidence; VisitScreen sets `evidence` in its __init__."""

    # files kept with the visit when it is saved: (prepared file, index of its code check)
    evidence: list[tuple[Any, int | None]]

    @on(Input.Submitted, "#evidence-path")
    def _evidence_given(self, event: Input.Submitted) -> None:
        """Paths typed, pasted or dropped: reduced now, saved with the visit."""
        from .widgets.evidence import dropped_paths

        paths = dropped_paths(event.value)
        event.input.value = ""
        if paths:
            self.prepare_evidence(paths, None)

    def action_take_photos(self) -> None:
        """Add the watched folder's new photos to this visit (saved with it)."""
        files = list(self.fk.photo_inbox)
        if not files:
            self.notify(self.t("inbox.empty"))
            return
        self.fk.photo_inbox = ()  # taken: the inbox forgets them (kept so in the cache below)
        self.notify(self.t("inbox.taking", n=len(files)))
        self.prepare_evidence(files, None)
        self._photos_taken(files)

    @work(thread=True, group="evidence", exit_on_error=False)
    def _photos_taken(self, files: list[Any]) -> None:
        from fieldkit.evidence import inbox

        store = self.fk.store
        if store is not None:
            inbox.taken(store, files)

    @work(thread=True, group="evidence", exit_on_error=False)
    def prepare_evidence(self, paths: list[Any], check: int | None) -> None:
        """Reduce, read and hash files off the event loop; refusals are said in words."""
        from fieldkit.evidence import prepare

        kept, refused = [], []
        for path in paths:
            try:
                kept.append(prepare(path))
            except domain.DomainError as exc:
                refused.append(f"{path.name}: {exc.message(self.fk.language)}")
        self.app.call_from_thread(self._evidence_ready, kept, refused, check)

    def _evidence_ready(self, kept: list[Any], refused: list[str], check: int | None) -> None:
        self.evidence += [(k, check) for k in kept]
        names = listed((k.name for k, _ in self.evidence), self.fk.language)
        text = Text(self.t("visit.evidence_added", names=names) if names else "")
        for why in refused:
            text.append("\n✗ " + why, "bold red")
        self.query_one("#evidence-list", Label).update(text)
        if refused:
            self.notify("\n".join(refused), severity="error")
