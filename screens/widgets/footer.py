"""The key bar at the bottom of every screen: each key and what it does, in the user's language.

One widget drawing one line (instead of a widget per key), so screens start fast; every label
is clickable and runs its action, as Textual's Footer does. Keys are shown whole, most important
first (the palette, help, the screen's own keys, then the app's), as many as fit the width: the
others are in the help screen (F1, ?) and the palette, never cut mid-word."""

from __future__ import annotations

from typing import Any

from rich.cells import cell_len
from textual.binding import Binding
from textual.content import Content
from textual.style import Style
from textual.widgets import Static

from ..i18n import MESSAGES, tr


def binding_label(binding_id: str | None, fallback: str, lang: str) -> str:
    """The translated description of a binding: by its id, else (Textual's own widgets' keys,
    such as a dropdown's Esc) by its description, else the description itself."""
    key = f"key.{binding_id}" if binding_id else f"key.textual.{fallback}"
    return tr(key, lang) if key in MESSAGES else fallback


class TranslatedFooter(Static):
    """'^p 命令  / 搜索  f 筛选  …': the command palette, then the screen's shown keys."""

    DEFAULT_CSS = """
    TranslatedFooter { dock: bottom; height: 1; background: $footer-background;
                       color: $footer-description-foreground;
                       link-style: none; link-color: $footer-description-foreground;
                       link-style-hover: reverse; }
    TranslatedFooter > .key-bar--key { color: $footer-key-foreground; text-style: bold; }
    """
    COMPONENT_CLASSES = {"key-bar--key"}

    def __init__(self) -> None:
        super().__init__()
        self.entries: list[tuple[Any, Binding, str]] = []  # the keys shown, in order
        self.hidden: list[str] = []  # what the keys left out for want of room do (in help)

    def on_mount(self) -> None:
        """Redraw whenever the screen's keys change (focus moves, actions enabled)."""
        self.screen.bindings_updated_signal.subscribe(self, self._redraw)
        self._redraw()

    def on_resize(self) -> None:
        """Show as many keys as the new width holds."""
        self._redraw()

    def on_unmount(self) -> None:
        """Stop following the screen."""
        self.screen.bindings_updated_signal.unsubscribe(self)

    def _redraw(self, *_: object) -> None:
        lang = getattr(self.app, "language", "en")
        seen: set[str] = set()
        entries: list[tuple[Any, Binding, str]] = []
        palette_key = self.app.COMMAND_PALETTE_BINDING
        for key, (node, binding, enabled, _tip) in self.screen.active_bindings.items():
            if binding.show and enabled and binding.action not in seen and key != palette_key:
                seen.add(binding.action)
                label = binding_label(binding.id, binding.description, lang)
                entries.append((node, binding, label))
        # help next to the palette, so a narrow terminal still shows the way to every key
        entries.sort(key=lambda entry: entry[1].action != "help")
        palette = self.screen.active_bindings.get(palette_key)
        if self.app.ENABLE_COMMAND_PALETTE and palette is not None:
            # first, so a narrow terminal still shows the way to every action
            entries.insert(0, (palette[0], palette[1], tr("key.palette", lang)))
        room = self.size.width or self.app.size.width
        self.entries, self.hidden = [], []
        for entry in entries:
            width = cell_len(self._entry_text(entry[1], entry[2]))
            if self.hidden or width - 1 > room:  # (the last key's trailing space may go)
                self.hidden.append(entry[2])  # (and every key after it: the order is kept)
                continue
            room -= width
            self.entries.append(entry)
        key_style = Style.from_rich_style(self.get_component_rich_style("key-bar--key"))
        parts: list[Content] = []
        for index, (_node, binding, label) in enumerate(self.entries):
            key_text = Content.styled(self.app.get_key_display(binding), key_style)
            parts.append(
                Content.assemble(" ", key_text, " ", label, " ").stylize(
                    f"@click=run_entry({index})"
                )
            )
        self.update(Content("").join(parts))

    def _entry_text(self, binding: Binding, label: str) -> str:
        """' f5 立即同步 ': one key as the bar shows it."""
        return f" {self.app.get_key_display(binding)} {label} "

    @property
    def descriptions(self) -> list[str]:
        """What the bar says each key does, the keys shown (for tests)."""
        return [label for _node, _binding, label in self.entries]

    async def action_run_entry(self, index: int) -> None:
        """A click on a key: run its action where it is bound."""
        node, binding, _label = self.entries[index]
        await self.app.run_action(binding.action, node)
