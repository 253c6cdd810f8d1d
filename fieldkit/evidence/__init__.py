"""Evidence: photos and PDFs attached to visits, code checks and case items.

Taking a file in (`intake`), the limits both ends apply (`limits`), the office's file storage
(`storage`) and the notice's annex pages (`annex`). Imports nothing of Textual.
"""

from __future__ import annotations

from .errors import EvidenceError
from .intake import Prepared, prepare, prepare_bytes, sha256_hex

__all__ = ["EvidenceError", "Prepared", "prepare", "prepare_bytes", "sha256_hex"]
