"""Bars drawn with block characters: steps done of eleven in a row, figures on the dashboard."""

from __future__ import annotations

from rich.text import Text

BLOCKS = " ▏▎▍▌▋▊▉█"


def bar_parts(
    value: float, total: float, width: int, style: str = "green"
) -> list[tuple[str, str]]:
    """A bar `width` cells wide filled to value/total (eighth-block precision) as (text, style)."""
    fraction = 0.0 if total <= 0 else max(0.0, min(1.0, value / total))
    full, rest = divmod(round(fraction * width * 8), 8)
    parts = [("█" * full, style)]
    if rest:
        parts.append((BLOCKS[rest], style))
    parts.append(("·" * (width - full - (1 if rest else 0)), "dim"))
    return [p for p in parts if p[0]]


def bar(value: float, total: float, width: int, style: str = "green") -> Text:
    """The bar as Rich text."""
    text = Text(no_wrap=True)
    for part, part_style in bar_parts(value, total, width, style):
        text.append(part, part_style)
    return text


def progress_parts(
    done: int, total: int = 11, width: int = 5, blocked: bool = False
) -> list[tuple[str, str]]:
    """'█████······  5/11' as (text, style) parts; red when a step is blocked."""
    style = "red" if blocked else ("bold green" if done >= total else "green")
    return bar_parts(done, total, width, style) + [(f" {done:>2}/{total}", "")]
