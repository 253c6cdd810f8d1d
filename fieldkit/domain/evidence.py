"""Evidence attached to records: what it can be attached to, and the counts both ends enforce."""

from __future__ import annotations

RECORD_KINDS = ("visit", "check", "case")  # a visit, an on-site code check, an item of a case
RECORD_NAMES = {
    "visit": ("走访", "visit"),
    "check": ("核码", "code check"),
    "case": ("整改事项", "case item"),
}
# What is kept of a stored file, on the laptop and at the office alike.
FILE_FIELDS = (
    "sha256",
    "size",
    "mime",
    "name",
    "width",
    "height",
    "taken_at",
    "lat",
    "lon",
    "original_size",
    "original_sha256",
)
MAX_FILES_PER_RECORD = 30
DISK_RESERVE = (
    200 * 1024 * 1024
)  # an attach never leaves the laptop's disk with less free than this
DISK_WARN = (
    1024 * 1024 * 1024
)  # below this much free space after an attach, the technician is warned


def sha256_hex(data: bytes) -> str:
    """The SHA-256 of bytes, as 64 lower-case hex digits (what `sha256` fields hold).

    (hashlib is imported at the first hash: loading OpenSSL costs ~3 ms, which the app's start,
    whose first paint hashes nothing, would otherwise pay.)"""
    import hashlib

    return hashlib.sha256(data).hexdigest()
