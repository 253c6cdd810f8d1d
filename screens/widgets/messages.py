"""Messages that several widgets post."""

from __future__ import annotations

from textual.message import Message


class BilingualFailure(Message):
    """Something a widget was asked to do failed; `zh` and `en` say why."""

    def __init__(self, zh: str, en: str) -> None:
        super().__init__()
        self.zh = zh
        self.en = en

    def text(self, lang: str) -> str:
        """The reason in the user's language."""
        return self.zh if lang.startswith("zh") else self.en
