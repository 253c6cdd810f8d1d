"""What a terminal would show: every frame Textual writes, applied to a grid of cells.

Headless apps (Pilot) skip writing their frames; `PaintedScreen.watch(app)` makes each frame's
terminal output be read back (cursor moves and text; colours ignored) into `lines()`, so a test
sees what a technician's terminal would show, stale cells included, not what widgets would draw
if asked now.
"""

from __future__ import annotations

import re
from typing import Any

from rich.cells import get_character_cell_size
from textual._compositor import CompositorUpdate

CSI = re.compile(r"\x1b\[([0-9;?]*)([@-~])")


class PaintedScreen:
    """A terminal's cells, fed with the frames an app writes."""

    def __init__(self, width: int, height: int) -> None:
        self.width, self.height = width, height
        self.cells = [[" "] * width for _ in range(height)]
        self.frames: list[list[str]] = []  # the screen after each frame, in order

    @classmethod
    def watch(cls, app: Any) -> PaintedScreen:
        """Follow every frame `app` paints from now on (call inside `run_test`), starting from
        the screen as it stands."""
        screen = cls(*app.size)
        screen.cells = [list(line) for line in cls._cells_of(app)]
        display = app._display

        def _display(target: Any, renderable: Any) -> None:
            display(target, renderable)
            if isinstance(renderable, CompositorUpdate) and not app._batch_count:
                screen.feed(renderable.render_segments(app.console))

        app._display = _display
        return screen

    @classmethod
    def repainted(cls, app: Any) -> list[str]:
        """What the screen would show if all of it were painted afresh now (every widget's
        drawn lines forgotten first, so a line Textual kept from an older state shows up as a
        difference against what was painted)."""
        for widget in app.screen.walk_children(with_self=True):
            widget.refresh()
        return ["".join(row) for row in cls._cells_of(app)]

    @classmethod
    def _cells_of(cls, app: Any) -> list[list[str]]:
        screen = cls(*app.size)
        update = app.screen._compositor.render_update(full=True, screen_stack=[])
        screen.feed(update.render_segments(app.console))
        return screen.cells

    def feed(self, data: str) -> None:
        """Apply one frame's output."""
        x = y = 0
        at = 0
        for match in CSI.finditer(data + "\x1b[0m"):
            for char in data[at : match.start()]:
                if char == "\n":
                    continue
                size = get_character_cell_size(char)
                if 0 <= y < self.height and 0 <= x < self.width:
                    self.cells[y][x] = char
                    if size == 2 and x + 1 < self.width:
                        self.cells[y][x + 1] = ""
                x += size
            at = match.end()
            if match.group(2) == "H":
                row, _, col = match.group(1).partition(";")
                y, x = int(row or 1) - 1, int(col or 1) - 1
        self.frames.append(self.lines())

    def lines(self) -> list[str]:
        """The text of every line, as shown."""
        return ["".join(row) for row in self.cells]
