"""The watched folder's inbox: photos a phone synced to the laptop that no record holds yet.

A folder is named once (the phone's photo sync folder) and kept in the cache's meta. What it
offers is what arrived there after it was named, or after the photos were last taken from it:
the phone's older photos stay out of the way (the evidence dialog still lists every one of them).
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Protocol

SUFFIXES = (".jpg", ".jpeg", ".png", ".heic", ".heif", ".pdf")
WATCH_KEY = "evidence_watch"  # cache meta: the folder the technician asked to watch
SINCE_KEY = "evidence_watch_since"  # cache meta: photos that arrived before this are not offered


class Meta(Protocol):
    """The part of the cache the inbox needs: its meta values and its attachments."""

    def get_meta(self, key: str) -> str | None: ...

    def set_meta(self, key: str, value: str) -> None: ...

    def attachments(self) -> list[dict[str, Any]]: ...


def arrived(path: Path) -> float:
    """When a file came to this laptop: its change time (a copy that keeps the phone's time
    still gets a new one here) or its modification time, whichever is later."""
    info = path.stat()
    return max(info.st_mtime, info.st_ctime)


def unattached(
    folder: Path, known: Iterable[tuple[str, int | None]], since: float = 0.0
) -> list[Path]:
    """The photos and PDFs in `folder` that arrived after `since` and no attachment holds
    (known by name and size as taken), in name order; [] when the folder cannot be read."""
    held = set(known)
    found = []
    try:
        for path in folder.iterdir():
            if path.suffix.lower() not in SUFFIXES or path.name.startswith("."):
                continue
            size = path.stat().st_size
            if (path.name, size) in held or (since and arrived(path) <= since):
                continue
            found.append(path)
    except OSError:
        return []
    return sorted(found)


def known(store: Meta) -> set[tuple[str, int | None]]:
    """Name and size as taken of every file attached on this laptop."""
    return {(str(a["name"]), a.get("original_size")) for a in store.attachments()}


def watched(store: Meta) -> Path | None:
    """The folder being watched, if one was named."""
    saved = store.get_meta(WATCH_KEY)
    return Path(saved) if saved else None


def watch(store: Meta, folder: Path) -> Path:
    """Watch `folder` from now on (a new folder offers only what arrives from now)."""
    resolved = folder.resolve()
    if store.get_meta(WATCH_KEY) != str(resolved):
        store.set_meta(WATCH_KEY, str(resolved))
        store.set_meta(SINCE_KEY, repr(time.time()))
    return resolved


def waiting(store: Meta) -> tuple[Path | None, list[Path]]:
    """The watched folder and what it offers now (arrived since, not attached)."""
    folder = watched(store)
    if folder is None:
        return None, []
    try:
        since = float(store.get_meta(SINCE_KEY) or 0)
    except ValueError:
        since = 0.0
    return folder, unattached(folder, known(store), since)


def taken(store: Meta, paths: Iterable[Path]) -> None:
    """Photos were taken from the inbox: what arrived before the newest of them is not offered
    again (the ones left were not wanted then)."""
    times = []
    for path in paths:
        try:
            times.append(arrived(path))
        except OSError:
            continue
    if times:
        current = float(store.get_meta(SINCE_KEY) or 0)
        store.set_meta(SINCE_KEY, repr(max(current, *times)))
