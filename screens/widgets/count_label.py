"""A one-line label for a count that changes at every keystroke: its line drawn from the text alone.

A Label turns its text into a Visual (markup parsed, then laid out and rendered through Textual's
content pipeline) at every update: ~0.25-0.5 ms a keystroke for the list's "共 7,750 家", a tenth
of the frame that paints the typed character and its list. This one keeps the text as it is and
draws its line as the text and its blanks, aligned as its `text-align` style says (a text longer
than the box shows its first words, as a Label's first wrapped line did).
"""

from __future__ import annotations

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip
from textual.widgets import Label


def first_line(text: str, width: int) -> str:
    """What a Label wrapping `text` at `width` cells shows on its first line: whole words while
    they fit, else the first word cut."""
    if cell_len(text) <= width:
        return text
    line = ""
    for word in text.split(" "):
        longer = f"{line} {word}" if line else word
        if cell_len(longer) > width:
            return line or set_cell_size(word, width)
        line = longer
    return line


class CountLabel(Label):
    """A Label of one line of plain text (no markup), drawn without Textual's content pipeline."""

    def __init__(self, text: str = "", *, id: str | None = None) -> None:
        super().__init__(text, markup=False, id=id)
        self._text = text
        self._strip: tuple[str, int, Strip] | None = None  # (text, width, line) last drawn

    @property
    def text(self) -> str:
        """What it shows."""
        return self._text

    def update(self, content: object = "", *, layout: bool = True) -> None:  # type: ignore[override]
        """Show `content` (its plain text), repainting only when it changed."""
        text = str(content)
        if text == self._text:
            return
        self._text = text
        super().update(text, layout=layout)

    def notify_style_update(self) -> None:
        """Colours or alignment changed: draw again."""
        super().notify_style_update()
        self._strip = None

    def render_line(self, y: int) -> Strip:
        """The text on line 0, fitted to the content width and aligned; blank below it."""
        width = self.content_region.width
        style = self.rich_style
        if y:
            return Strip.blank(width, style)
        kept = self._strip
        if kept is not None and kept[0] == self._text and kept[1] == width:
            return kept[2]
        text = first_line(self._text, width)
        size = cell_len(text)
        room = width - size
        align = self.styles.text_align
        left = room if align == "right" else room // 2 if align == "center" else 0
        blank = Style.from_color(bgcolor=style.bgcolor)  # (as a Label pads its text)
        segments = [Segment(text, style)]
        if left:
            segments.insert(0, Segment(" " * left, blank))
        if room - left:
            segments.append(Segment(" " * (room - left), blank))
        strip = Strip(segments, width)
        self._strip = (self._text, width, strip)
        return strip
