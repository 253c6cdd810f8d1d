"""A progress bar drawn in one table cell: steps done of eleven."""

from __future__ import annotations

from rich.text import Text

BLOCKS = " ▏▎▍▌▋▊▉█"


def bar(value: float, total: float, width: int, style: str = "green") -> Text:
    """A horizontal bar `width` cells wide filled to value/total, with eighth-block precision."""
    fraction = 0.0 if total <= 0 else max(0.0, min(1.0, value / total))
    eighths = round(fraction * width * 8)
    full, rest = divmod(eighths, 8)
    text = Text(no_wrap=True)
    text.append("█" * full, style)
    if rest:
        text.append(BLOCKS[rest], style)
    text.append("·" * (width - full - (1 if rest else 0)), "dim")
    return text


def progress_cell(done: int, total: int = 11, width: int = 11, blocked: bool = False) -> Text:
    """'█████······ 5/11' as a table cell; red when a step is blocked."""
    style = "red" if blocked else ("bold green" if done >= total else "green")
    text = bar(done, total, width, style)
    text.append(f" {done:>2}/{total}")
    return text
