"""What every screen of the app shares: the status bar, the translated footer, `t()`, relabelling."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual.screen import Screen

from .i18n import tr
from .widgets.status_bar import StatusView

if TYPE_CHECKING:
    from .app import FieldkitApp


class FieldkitScreen(Screen[Any]):
    """A screen that speaks the app's language and redraws itself when it changes."""

    @property
    def fk(self) -> FieldkitApp:
        """The app, typed."""
        return self.app  # type: ignore[return-value]

    def t(self, key: str, **values: object) -> str:
        """A message in the app's language."""
        return tr(key, self.fk.language, **values)

    async def relabel(self) -> None:
        """Redraw every label in the new language, then reload the data."""
        await self.recompose()
        self.after_compose()

    def after_compose(self) -> None:
        """Set up what compose cannot (columns, focus) and load the data; also after relabel."""
        self.reload()

    def reload(self) -> None:
        """Fetch this screen's data again (screens override)."""

    def follow_sync(self) -> None:
        """Reload whenever a sync round finishes (new data pulled, ops sent or refused)."""
        self._last_round: tuple[object, ...] = ()
        self.watch(self.app, "status_view", self._round_done, init=False)

    def _round_done(self, view: StatusView) -> None:
        key = (view.last_success, view.rejected, view.unsent)
        if not view.sending and key != self._last_round:
            self._last_round = key
            if self.is_current:
                self.reload()
