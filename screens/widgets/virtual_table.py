"""A light table on Textual's Line API: a fixed header, rows drawn only when visible, a row cursor.

Cells are lists of (text, style) parts, fitted to their column in terminal cells, so Chinese
(two cells a character) and Latin text line up. Built for thousands of rows typed-through fast.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import Reactive, reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

GAP = Style(meta={"gap": True})
Part = tuple[str, str]  # text and a Rich style string ("" for none)
Cell = Sequence[Part]
KEPT_STRIPS = 2000  # drawn rows kept (a few pages of each kind; forgotten all at once past it)


@dataclass(frozen=True)
class ColumnSpec:
    """A column's header and width in terminal cells (a `fill` column takes what is left)."""

    label: str
    width: int
    fill: bool = False


def _cut(text: str, room: int) -> str:
    """The longest start of `text` that fits in `room` cells (a wide character is never halved)."""
    cut = set_cell_size(text, max(room, 0))
    if cut.endswith(" ") and cut != text[: len(cut)]:
        return cut[:-1]  # set_cell_size padded a halved wide character with a space
    return cut


def fit(parts: Cell, width: int) -> list[tuple[str, str]]:
    """The parts cut (with an ellipsis) or padded to exactly `width` cells."""
    out: list[tuple[str, str]] = []
    used = 0
    for text, style in parts:
        room = width - used
        if room <= 0:
            break
        size = cell_len(text)
        if size > room:
            text = _cut(text, room - 1) + "…"
            out.append((text, style))
            used += cell_len(text)
            break  # the ellipsis ends the cell; a wide character's half cell is padded after it
        out.append((text, style))
        used += size
    if used < width:
        out.append((" " * (width - used), ""))
    return out


class VirtualTable(ScrollView, can_focus=True):
    """Rows of cells with a header line; only the lines on screen are ever drawn."""

    DEFAULT_CSS = """
    VirtualTable { background: $surface; overflow-y: scroll; }
    VirtualTable > .virtual-table--header { background: $panel; text-style: bold; }
    VirtualTable > .virtual-table--even { background: $surface; }
    VirtualTable > .virtual-table--odd { background: $surface-lighten-1; }
    VirtualTable > .virtual-table--cursor { background: $block-cursor-blurred-background; }
    VirtualTable:focus > .virtual-table--cursor {
        background: $block-cursor-background; color: $block-cursor-foreground;
        text-style: $block-cursor-text-style;
    }
    """
    COMPONENT_CLASSES = {
        "virtual-table--header",
        "virtual-table--even",
        "virtual-table--odd",
        "virtual-table--cursor",
    }
    BINDINGS = [
        Binding("up", "cursor(-1)", "Up", show=False, id="up"),
        Binding("down", "cursor(1)", "Down", show=False, id="down"),
        Binding("pageup", "page(-1)", "Page up", show=False, id="page_up"),
        Binding("pagedown", "page(1)", "Page down", show=False, id="page_down"),
        Binding("home", "cursor_to(0)", "First", show=False, id="first"),
        Binding("end", "cursor_to(-1)", "Last", show=False, id="last"),
        Binding("enter", "select", "Open", show=False, id="open"),
    ]
    cursor: reactive[int] = reactive(0)
    # Textual lays the whole screen out again when a widget's virtual size changes, and a layout
    # repaints every widget whose geometry changed: the whole table, though a keystroke changed
    # a few rows. A new row count needs no layout here (the table's size is the screen's), only
    # the scrollbar told (`_resize_virtual`). The scrollbar is always shown (overflow-y:
    # scroll; the columns leave it its room anyway): Textual lays the screen out when one comes
    # or goes, which made narrowing a search to a few rows the slowest key (56-61 ms).
    virtual_size: Reactive[Size] = Reactive(Size(0, 0), layout=False, repaint=False)

    class Highlighted(Message):
        """The cursor moved to a row."""

        def __init__(self, index: int, key: str) -> None:
            super().__init__()
            self.index, self.key = index, key

    class Selected(Message):
        """A row was chosen (Enter or a click on the highlighted row)."""

        def __init__(self, index: int, key: str) -> None:
            super().__init__()
            self.index, self.key = index, key

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.columns: list[ColumnSpec] = []
        self.widths: list[int] = []
        self.keys: list[str] = []
        self.cells: list[list[Cell]] = []
        # drawn rows by (key, kind): the cells they were drawn from and the line
        self._strips: dict[tuple[str, str], tuple[list[Cell], Strip]] = {}
        self._header: Strip | None = None
        # Rich styles by component ("" the widget's own): computing one walks the DOM (~0.3 ms
        # here), too slow to do for each of 40 lines at every keystroke
        self._styles: dict[str, Style] = {}
        self._view: tuple[int, int, int] | None = None  # scroll x, y and width while rendering

    # data --------------------------------------------------------------------------------------
    @property
    def row_count(self) -> int:
        """How many rows are loaded."""
        return len(self.keys)

    def set_columns(self, columns: list[ColumnSpec]) -> None:
        """New headers and widths."""
        self.columns = columns
        self._changed()

    def set_rows(
        self,
        keys: list[str],
        cells: list[list[Cell]],
        append: bool = False,
        keep_cursor: bool = True,
    ) -> None:
        """Replace (or extend) the rows; strips are built again only for rows that changed."""
        if append:
            self.keys += keys
            self.cells += cells
            self.cursor = max(0, min(self.cursor, len(self.keys) - 1))
            self._changed()
            return
        old_keys, old_cells = self.keys, self.cells
        self.keys, self.cells = list(keys), list(cells)
        if not keep_cursor:
            self.cursor = 0
        self.cursor = max(0, min(self.cursor, len(self.keys) - 1))
        changed = [
            index
            for index in range(max(len(old_keys), len(self.keys)))
            if index >= len(old_keys)
            or index >= len(self.keys)
            or old_keys[index] != self.keys[index]
            or old_cells[index] != self.cells[index]
        ]
        self._fit_widths()
        self._refresh_rows(changed)

    def row_text(self, index: int) -> list[str]:
        """The plain text of a row's cells, as a user reads them."""
        return ["".join(text for text, _ in cell) for cell in self.cells[index]]

    def selected_key(self) -> str | None:
        """The key of the row under the cursor."""
        return self.keys[self.cursor] if 0 <= self.cursor < len(self.keys) else None

    def _changed(self) -> None:
        self._strips.clear()
        self._header = None
        self._fit_widths()
        self.refresh()

    def _refresh_rows(self, indexes: Sequence[int]) -> None:
        """Draw again only the lines of these rows that are on screen (Textual then renders,
        composes and writes those lines alone)."""
        top = self.scroll_offset.y
        height = self.scrollable_content_region.height
        width = max(self.virtual_size.width, self.size.width)
        lines = [index - top + 1 for index in indexes if 1 <= index - top + 1 < height]
        if lines:
            self.refresh(*(Region(0, y, width, 1) for y in lines))

    def _fit_widths(self) -> None:
        """Give the fill column the room the others leave (at least its own width)."""
        # the vertical scrollbar is always reserved: it appears once rows outgrow the height,
        # and the columns must not move when it does
        room = self.size.width - self.styles.scrollbar_size_vertical
        fixed = sum(c.width + 2 for c in self.columns if not c.fill)
        self.widths = [max(c.width, room - fixed - 2) if c.fill else c.width for c in self.columns]
        self._resize_virtual(Size(sum(w + 2 for w in self.widths), len(self.keys) + 1))

    def _resize_virtual(self, size: Size) -> None:
        """A new virtual size, told to the scrollbars as a layout would (Textual's own update:
        the scrollbar shown or hidden, its thumb, the scroll position kept in range)."""
        old = self.virtual_size
        if size == old:
            return
        self.virtual_size = size
        height = self.container_size.height
        if size.width == old.width and old.height and max(size.height, old.height) <= height:
            # all rows fit before and after: the scrollbar shows no thumb either way, and
            # drawing it again costs ~1 ms (a Rich renderable through Textual's pipeline)
            return
        self._scroll_update(size)

    # drawing -----------------------------------------------------------------------------------
    def notify_style_update(self) -> None:
        """Theme or focus changed: draw again."""
        super().notify_style_update()
        self._strips.clear()
        self._header = None
        self._styles.clear()

    def on_focus(self) -> None:
        """The cursor row's colours follow focus."""
        self._strips.clear()
        self._header = None
        self._styles.clear()

    on_blur = on_focus

    def _style(self, component: str = "") -> Style:
        """The widget's Rich style, plus a component's (cached until the style changes)."""
        style = self._styles.get(component)
        if style is None:
            style = self.rich_style
            if component:
                style = style + self.get_component_rich_style(f"virtual-table--{component}")
            self._styles[component] = style
        return style

    def on_resize(self) -> None:
        """Refit the columns to the new width."""
        self._changed()

    def _part_style(self, kind: str, style: str) -> Style:
        """The Rich style of a cell's part on a line of `kind` (cached with the others): the
        cursor's colours over the part's own, which go over the line's."""
        rich = self._styles.get(f"{kind}:{style}")
        if rich is None:
            base = self._style(kind)
            if style == "gap":  # the blanks between cells (no cursor colours over them)
                self._styles[f"{kind}:{style}"] = rich = base + GAP
                return rich
            rich = base + Style.parse(style) if style else base
            if kind == "cursor":
                rich = rich + self.get_component_rich_style("virtual-table--cursor")
            self._styles[f"{kind}:{style}"] = rich
        return rich

    def _line(self, parts_per_cell: list[list[tuple[str, str]]], kind: str) -> Strip:
        segments: list[Segment] = []
        # The blank between two cells' texts (the padding of one, the gaps around the border)
        # is one segment of its own style: every cell's text starts a segment where the terminal
        # puts it (exporters such as SVG snapshots place each segment by its column), and a line
        # has about half the segments that one per part and gap would make (every stage of
        # Textual's drawing, and the bytes written, grow with them).
        gap = self._part_style(kind, "gap")
        part_style = self._part_style
        blank = 0
        for parts in parts_per_cell:
            blank += 1
            for text, style in parts:
                if not text:
                    continue  # (draws nothing; Textual's own pipeline drops it)
                if not style and not text.strip(" "):
                    blank += len(text)
                    continue
                if blank:
                    segments.append(Segment(" " * blank, gap))
                    blank = 0
                segments.append(Segment(text, part_style(kind, style)))
            blank += 1
        if blank:
            segments.append(Segment(" " * blank, gap))
        # every cell was fitted to its width: the length is known (measuring it costs more
        # than building the line, for Chinese text)
        return Strip(segments, sum(self.widths[: len(parts_per_cell)]) + 2 * len(parts_per_cell))

    def _row_strip(self, index: int) -> Strip:
        """A row's line, kept by institution and kind (even, odd, cursor) while its cells stay
        the same: a row that moves up as the search narrows is not built again."""
        kind = "cursor" if index == self.cursor else ("odd" if index % 2 else "even")
        cells = self.cells[index]
        kept = self._strips.get((self.keys[index], kind))
        if kept is not None and kept[0] == cells:
            return kept[1]
        fitted = [fit(cell, width) for cell, width in zip(cells, self.widths, strict=False)]
        strip = self._line(fitted, kind)
        if len(self._strips) >= KEPT_STRIPS:
            self._strips.clear()
        self._strips[(self.keys[index], kind)] = (cells, strip)
        return strip

    def render_lines(self, crop: Region) -> list[Strip]:
        """The lines Textual asks for, with the scroll position and width read once for all.

        A table without border, padding, outline, tint or transparency hands Textual its kept
        lines as they are (with the app's colour filter, which each line keeps too). Textual's
        own pipeline (`Widget.render_lines`, its styles cache) would copy every line it is given
        three times over (fitted to the width with the scrollbar's gutter, filtered, cropped
        again) and cut each copy at the scrollbar: when a keystroke changes every visible row,
        that was most of the frame. The lines stop at the scrollbar's gutter, which the
        scrollbar paints (the compositor fills each cut of a line from the front widget first).
        """
        self._view = (*self.scroll_offset, self.scrollable_content_region.width)
        try:
            if not self._plain_box():
                return super().render_lines(crop)
            _, background = self.background_colors
            filters = self.get_line_filters()
            render_line = self.render_line
            lines = []
            for y in crop.line_range:
                line = render_line(y)
                for line_filter in filters:
                    line = line.apply_filter(line_filter, background)  # (kept by the line)
                lines.append(line)
        finally:
            self._view = None
        start, end = crop.column_span
        return [line.crop(start, end) for line in lines]  # (a line in view is itself)

    def _plain_box(self) -> bool:
        """Whether the table's lines are drawn as they are (no box, effect or transparency)."""
        styles = self.styles
        return (
            not any(styles.gutter)
            and not any(edge for edge, _ in styles.outline)
            and not styles.tint.a
            and styles.text_opacity == 1.0
            and (not styles.has_rule("hatch") or styles.hatch == "none")
            and self.opacity == 1.0
        )

    def render_line(self, y: int) -> Strip:
        """Line 0 is the header; the rest are rows from the scroll position."""
        scroll_x, scroll_y, width = self._view or (
            *self.scroll_offset,
            self.scrollable_content_region.width,
        )
        if y == 0:
            base = self._style("header")
            header = self._header
            if header is None:
                header = self._line(
                    [
                        fit([(c.label, "")], w)
                        for c, w in zip(self.columns, self.widths, strict=False)
                    ],
                    "header",
                )
                self._header = header
            return self._in_view(header, scroll_x, width, base)
        index = scroll_y + y - 1
        if index >= len(self.keys):
            return Strip.blank(width, self._style())
        row = self._row_strip(index)
        return self._in_view(
            row, scroll_x, width, self._style("cursor" if index == self.cursor else "even")
        )

    @staticmethod
    def _in_view(strip: Strip, scroll_x: int, width: int, base: Style) -> Strip:
        """The part of a line in view (the line itself when it fits exactly, as it mostly does)."""
        if scroll_x == 0 and strip.cell_length == width:
            return strip
        return strip.crop_extend(scroll_x, scroll_x + width, base)

    # cursor ------------------------------------------------------------------------------------
    def watch_cursor(self, old: int, new: int) -> None:
        """Redraw the two rows, keep the cursor in view, tell the screen."""
        self._scroll_to_cursor()  # (a scroll draws the whole table again)
        self._refresh_rows((old, new))
        if 0 <= new < len(self.keys):
            self.post_message(self.Highlighted(new, self.keys[new]))

    def _scroll_to_cursor(self) -> None:
        rows_visible = max(1, self.scrollable_content_region.height - 1)
        top = self.scroll_offset.y
        if self.cursor < top:
            self.scroll_to(y=self.cursor, animate=False)
        elif self.cursor >= top + rows_visible:
            self.scroll_to(y=self.cursor - rows_visible + 1, animate=False)

    def action_cursor(self, delta: int) -> None:
        """Move the cursor up or down."""
        if self.keys:
            self.cursor = max(0, min(len(self.keys) - 1, self.cursor + delta))

    def action_page(self, direction: int) -> None:
        """Move the cursor a screenful."""
        self.action_cursor(direction * max(1, self.scrollable_content_region.height - 2))

    def action_cursor_to(self, index: int) -> None:
        """Move the cursor to the first (0) or last (-1) row."""
        if self.keys:
            self.cursor = index if index >= 0 else len(self.keys) - 1

    def action_select(self) -> None:
        """Choose the highlighted row."""
        key = self.selected_key()
        if key is not None:
            self.post_message(self.Selected(self.cursor, key))

    def on_click(self, event: events.Click) -> None:
        """Click highlights a row; clicking the highlighted row (or a double click) chooses it."""
        if event.y < 1:
            return
        index = self.scroll_offset.y + event.y - 1
        if 0 <= index < len(self.keys):
            if index == self.cursor or event.chain > 1:
                self.cursor = index
                self.action_select()
            else:
                self.cursor = index
