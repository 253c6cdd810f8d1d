"""Why a file was refused as evidence, in Chinese and English."""

from __future__ import annotations

from fieldkit.domain.errors import ValidationError


class EvidenceError(ValidationError):
    """A file refused as evidence (not an image, truncated, too large...); nothing else changed."""

    def __init__(self, code: str, zh: str, en: str, field: str | None = "file") -> None:
        super().__init__(code, zh, en, field)
