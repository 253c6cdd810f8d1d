"""A row of choices shown all at once (filters, sorts): click one, or cycle with a key."""

from __future__ import annotations

from textual.content import Content
from textual.message import Message
from textual.reactive import reactive
from textual.widgets import Static


class ChoiceBar(Static):
    """'筛选 全部 未开始 …' with the chosen one highlighted; every word is clickable."""

    DEFAULT_CSS = """
    ChoiceBar { width: auto; height: 1; padding: 0 1 0 0; }
    """
    value: reactive[str] = reactive("", init=False)

    class Changed(Message):
        """Another choice was picked."""

        def __init__(self, bar: ChoiceBar, value: str) -> None:
            super().__init__()
            self.bar, self.value = bar, value

        @property
        def control(self) -> ChoiceBar:
            """The bar that changed (for @on selectors)."""
            return self.bar

    def __init__(
        self, title: str, choices: list[tuple[str, str]], value: str, *, id: str | None = None
    ) -> None:
        super().__init__(id=id)
        self.title_text = title
        self.choices = choices
        self.set_reactive(ChoiceBar.value, value)

    def on_mount(self) -> None:
        """Draw the choices."""
        self._draw()

    def _draw(self) -> None:
        parts = [Content.styled(self.title_text, "dim")]
        for index, (label, value) in enumerate(self.choices):
            style = "reverse bold" if value == self.value else "underline"
            parts.append(Content.styled(label, f"{style} @click=choose({index})"))
        self.update(Content(" ").join(parts))

    def watch_value(self) -> None:
        """Show the new choice and tell the screen."""
        self._draw()
        self.post_message(self.Changed(self, self.value))

    def action_choose(self, index: int) -> None:
        """Pick a choice (by a click)."""
        self.value = self.choices[index][1]

    def cycle(self) -> None:
        """Pick the next choice (by a key)."""
        values = [v for _, v in self.choices]
        self.value = values[(values.index(self.value) + 1) % len(values)]
