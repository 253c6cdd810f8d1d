"""The limits on evidence files, shared by the laptop (on attach) and the office (on upload)."""

from __future__ import annotations

from fieldkit.domain.evidence import DISK_RESERVE, DISK_WARN, MAX_FILES_PER_RECORD

LONG_SIDE = 2048  # px: images are reduced to this long side on attach
JPEG_QUALITY = 85
MAX_INPUT_BYTES = 50 * 1024 * 1024  # a file given to attach (a 200 MP phone photo is ~30 MB)
MAX_PDF_BYTES = 20 * 1024 * 1024  # a PDF is kept as it is
MAX_STORED_BYTES = 20 * 1024 * 1024  # what the office accepts per file (a reduced image is ~1 MB)
MAX_PIXELS = 120_000_000  # more than this is a decompression bomb, not a photo
UPLOAD_PIECE = 512 * 1024  # bytes per upload request: a hotspot that drops gets a piece through

MIME_JPEG = "image/jpeg"
MIME_PNG = "image/png"
MIME_PDF = "application/pdf"
STORED_MIMES = (MIME_JPEG, MIME_PNG, MIME_PDF)


def mib(size: int) -> str:
    """A byte count as MiB with one decimal (what people read)."""
    return f"{size / 1024 / 1024:.1f} MiB"


__all__ = ["DISK_RESERVE", "DISK_WARN", "MAX_FILES_PER_RECORD"]
