"""A verdict or error that wraps whole at any width, Chinese included: never cut at the edge.

Textual (and Rich) wrap at spaces and fold what is left, so a Chinese sentence, which has no
spaces, is pushed whole onto the next line after a short word and then cut in mid-word
("✗" alone on a line, "编号" alone on the next). Here lines break between Latin words or between
any two Chinese characters, never before closing punctuation, and a word longer than the line
(a long link) is folded.
"""

from __future__ import annotations

import re

from rich.cells import cell_len
from rich.text import Text
from textual.geometry import Size
from textual.widget import Widget

# A run of spaces, a Latin word, or one wide character with the punctuation that must follow it.
TOKENS = re.compile(
    r"\s+|[\x21-\x7e]+[，。、；：！？）》」』]*|[^\s\x21-\x7e][，。、；：！？）》」』%]*"
)


def wrap_text(text: Text, width: int) -> list[Text]:
    """The lines of `text` (styles kept), each at most `width` cells wide."""
    width = max(1, width)
    lines: list[Text] = []
    for paragraph in text.split("\n", allow_blank=True):
        line = Text()
        for match in TOKENS.finditer(paragraph.plain):
            piece = paragraph[match.start() : match.end()]
            used, needed = cell_len(line.plain), cell_len(match.group())
            if match.group().isspace():
                if line.plain and used + needed < width:
                    line.append_text(piece)
                elif line.plain:
                    lines.append(line)
                    line = Text()
                continue
            if line.plain and used + needed > width:
                line.rstrip()
                lines.append(line)
                line, used = Text(), 0
            while needed > width - used:  # longer than a whole line: fold it
                cut = _fits(piece.plain, width - used)
                line.append_text(piece[:cut])
                lines.append(line)
                line, used, piece = Text(), 0, piece[cut:]
                needed = cell_len(piece.plain)
            line.append_text(piece)
        line.rstrip()
        lines.append(line)
    return lines


def _fits(plain: str, room: int) -> int:
    """How many characters of `plain` fit in `room` cells (at least one)."""
    used = 0
    for index, char in enumerate(plain):
        used += cell_len(char)
        if used > room:
            return max(1, index)
    return len(plain)


class WrappedText(Widget):
    """Text (a verdict, a refusal) shown in full: as many lines as it needs at this width."""

    DEFAULT_CSS = """
    WrappedText { width: 1fr; height: auto; }
    """

    def __init__(
        self, text: Text | str = "", *, id: str | None = None, classes: str | None = None
    ) -> None:
        super().__init__(id=id, classes=classes)
        self.text = Text(text) if isinstance(text, str) else text

    def update(self, text: Text | str) -> None:
        """Show other text (and take as many lines as it needs)."""
        self.text = Text(text) if isinstance(text, str) else text
        self.refresh(layout=True)

    @property
    def plain(self) -> str:
        """What it says, without styles (for tests and the clipboard)."""
        return self.text.plain

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return len(wrap_text(self.text, width)) if self.text.plain else 0

    def render(self) -> Text:
        lines = wrap_text(self.text, self.content_size.width)
        return Text("\n").join(lines) if self.text.plain else Text()
