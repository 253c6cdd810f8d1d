"""The watched folder, looked at in the background for as long as the app runs.

Every few seconds a thread worker lists what the folder offers (fieldkit.evidence.inbox): the
photos that arrived since it was named, or since photos were last taken from it, that no record
holds. The app keeps them in `photo_inbox`; a visit form that is open lists them and adds them
with Ctrl+A; with no visit open, a notification says once what arrived, and the photos wait.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from textual.timer import Timer

from fieldkit.evidence import inbox

from .i18n import listed

if TYPE_CHECKING:
    from .app import FieldkitApp

EVERY = 3.0  # seconds between looks at the folder


class PhotoWatch:
    """Looks at the watched folder off the event loop and hands the app its inbox."""

    def __init__(self, app: FieldkitApp) -> None:
        self.app = app
        self.timer: Timer | None = None
        self.told: set[Path] = set()  # arrivals already said in a notification

    def start(self) -> None:
        """Look now and every few seconds."""
        if self.timer is None:
            self.timer = self.app.set_interval(EVERY, self.look)
            self.look()

    def look(self) -> None:
        """List the folder in a thread (a slow or network folder never holds up the screen)."""
        self.app.run_worker(
            self._list, thread=True, exclusive=True, group="photo-watch", exit_on_error=False
        )

    def _list(self) -> None:
        store = self.app.store
        if store is None:
            return
        folder, files = inbox.waiting(store)
        self.app.call_from_thread(self._arrived, folder, files)

    def _arrived(self, folder: Path | None, files: list[Path]) -> None:
        """Keep the inbox; say what is new when no visit form is there to offer it to."""
        if tuple(files) != self.app.photo_inbox:
            self.app.photo_inbox = tuple(files)
        new = [f for f in files if f not in self.told]
        self.told = set(files)
        if new and folder is not None and not self._visit_open():
            names = listed((f.name for f in new[:3]), self.app.language) + (
                "…" if len(new) > 3 else ""
            )
            self.app.notify(
                self.app.t("inbox.arrived", n=len(new), names=names, folder=folder.name),
                timeout=10,
            )

    def _visit_open(self) -> bool:
        """Whether a visit form is on the screen stack (it lists the inbox itself)."""
        from .visit import VisitScreen  # here: the visit form imports most of the app

        return any(isinstance(s, VisitScreen) for s in self.app.screen_stack)
