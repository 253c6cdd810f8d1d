"""Errors of the domain: each names the field and the rule, in Chinese and English."""

from __future__ import annotations


class DomainError(ValueError):
    """A rule of the domain was broken; `code` is stable, the messages are for people."""

    def __init__(self, code: str, zh: str, en: str, field: str | None = None) -> None:
        super().__init__(en)
        self.code = code
        self.zh = zh
        self.en = en
        self.field = field

    def message(self, lang: str = "zh") -> str:
        """The message in the user's language ('zh' or 'en')."""
        return self.zh if lang.startswith("zh") else self.en

    def __str__(self) -> str:
        return f"{self.en} ({self.zh})"


class ValidationError(DomainError):
    """A value entered by a person or a file does not satisfy its rule."""


class TransitionError(DomainError):
    """A checklist step cannot move to the asked status."""
