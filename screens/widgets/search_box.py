"""The list's search box, and the hold that paints a keystroke's echo and its list in one frame.

A keystroke in the search box used to cost two frames: Textual painted the typed character (after
laying the screen out again, because the box's text grew), then, when the cache answered, the
list. Each frame renders, composes and writes; on a busy two-core machine each took 10-30 ms.
Now the box never asks for a layout (its size is fixed by the style sheet; only its scrolled
text changes), and the screen holds the frame back while the cache answers the new query (a few
ms, in a worker thread, so the event loop keeps taking keys) and paints the echo and the list
together. A slow answer never hides the typing: the hold gives up after `HOLD_LIMIT`.

Python's cycle collector waits while a keystroke is answered: a frame makes thousands of short-
lived objects, so a few collections (each 0.3-4 ms on a busy two-core machine, and now and then
a whole-heap one) would land inside the key. It runs again shortly after the frame is painted
and written, in the pause before the next key.
"""

from __future__ import annotations

import asyncio
import gc
from contextlib import AbstractContextManager
from typing import Any

from textual.dom import DOMNode
from textual.geometry import Size
from textual.reactive import Reactive
from textual.widgets import Input

HOLD_LIMIT = 0.05  # seconds a keystroke's echo may wait for its list (then it is painted alone)
COLLECT_AGAIN = 0.5  # seconds after a release the collector runs again, painted or not
# seconds after its frame is painted the collector runs again: Textual's output thread writes the
# frame meanwhile (a collection right after the frame, 0.2-2 ms holding the interpreter, held
# that write back)
COLLECT_AFTER = 0.02


class SearchBox(Input):
    """An Input whose typing repaints only itself (no layout of the screen at each key), and
    holds `frame` from the moment its text changes (before Textual hears of its new look, so the
    echo cannot slip out in a frame of its own while the Changed message bubbles up)."""

    # Input sets its virtual size (the text's width, for its horizontal scroll) at each change;
    # Textual's Widget declares that a layout. The box's own size never depends on it.
    virtual_size: Reactive[Size] = Reactive(Size(0, 0), layout=False)

    def __init__(self, frame: FrameHold | None = None, **kwargs: Any) -> None:
        self.frame = frame  # first: Input's own __init__ sets the value, which watch_value reads
        super().__init__(**kwargs)

    def watch_value(self, value: str) -> None:
        """Typed (or pasted, or cleared) by the user: hold the frame for the answer."""
        if self.frame is not None and self.has_focus:
            self.frame.hold()


class FrameHold:
    """Holds the app's painting back from `hold()` until `release()` (or `limit` seconds), and
    the cycle collector until that frame is painted."""

    def __init__(self, owner: DOMNode, limit: float = HOLD_LIMIT) -> None:
        self.owner = owner
        self.limit = limit
        self._batch: AbstractContextManager[None] | None = None
        # (asyncio's own timers: a Textual Timer is a task of its own, made and cancelled at
        # every keystroke)
        self._timer: asyncio.TimerHandle | None = None
        self._collector_paused = False  # the collector was on, and the hold turned it off

    @property
    def held(self) -> bool:
        """Whether a frame is being held."""
        return self._batch is not None

    def hold(self) -> None:
        """Hold the next frame (a hold already running keeps its deadline)."""
        if self._batch is None:
            if gc.isenabled():  # (off already: start-up or a sync's pull, which turn it on)
                gc.disable()
                self._collector_paused = True
            self._batch = self.owner.app.batch_update()
            self._batch.__enter__()
            self._timer = asyncio.get_running_loop().call_later(self.limit, self.release)

    def release(self) -> None:
        """Paint what changed meanwhile, in one frame; collect again once it is painted."""
        batch, self._batch = self._batch, None
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if batch is not None:
            batch.__exit__(None, None, None)
            screen = self.owner.app.screen
            screen.check_idle()  # its idle handler paints the widgets that changed
            if self._collector_paused:
                # after the screen's next refresh; a screen left before it refreshes never
                # calls back, so a timer turns the collector on in any case
                screen.call_after_refresh(self._collect_soon)
                asyncio.get_running_loop().call_later(COLLECT_AGAIN, self._collect_again)

    def _collect_soon(self) -> None:
        """(The frame is painted) The collector on again once the frame is written too."""
        asyncio.get_running_loop().call_later(COLLECT_AFTER, self._collect_again)

    def _collect_again(self) -> None:
        """The collector on again, unless another keystroke holds it meanwhile."""
        if self._collector_paused and not self.held:
            self._collector_paused = False
            gc.enable()
