"""A row of labels and choice bars that goes onto more lines, each part whole, when the terminal is
too narrow to hold them side by side (English at 80 columns), instead of cutting the last one."""

from __future__ import annotations

from textual.containers import Horizontal
from textual.geometry import Size
from textual.widget import Widget


def natural_width(widget: Widget, room: Size) -> int:
    """The columns `widget` takes when nothing squeezes it: its text, padding, border, margins
    (a row's: its parts' together)."""
    if isinstance(widget, Horizontal):
        inner = sum(natural_width(child, room) for child in widget.children if child.display)
    else:
        inner = widget.get_content_width(room, room)
    return inner + widget.styles.gutter.width + widget.styles.margin.width


class FitRow(Horizontal):
    """Its parts side by side when they fit, else one under another (class -stacked)."""

    DEFAULT_CSS = """
    FitRow { height: auto; }
    FitRow.-stacked { layout: vertical; }
    FitRow.-stacked > * { width: 100%; }
    """

    def on_resize(self) -> None:
        """Fit the parts to the new width."""
        self.refit()

    def refit(self) -> None:
        """Stack the parts when their text (changed, or in another language) no longer fits."""
        room = self.size.width  # (the content's: inside padding and border)
        if room <= 0:
            return
        space = Size(self.app.size.width, self.app.size.height)
        needed = sum(natural_width(child, space) for child in self.children if child.display)
        self.set_class(needed > room, "-stacked")
