"""When to read the whole cache file with SQLite's quick check: not at every start (it reads every
page, so start would grow with the cache), but after an unclean shutdown or once a week, as SQLite's
own guidance allows (https://sqlite.org/pragma.html#pragma_quick_check; a killed process never
damages a WAL database, a failing disk or a copied half-file does).

A clean shutdown is known by a small file beside the cache (`cache.sqlite.clean`), written when the
last process that had the cache open closes it, and removed as soon as one opens it. Each process
keeps its own `cache.sqlite.open-<pid>` while it has the file open. A kill, a crash or a flat
battery leaves its mark behind and no clean file, so the next start checks. Where the folder
cannot be written, every start checks, as before.
"""

from __future__ import annotations

import os
import sys
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Protocol

CHECKED_KEY = "integrity_checked_at"
EVERY = timedelta(days=7)
_open: dict[Path, int] = {}  # this process's open watched stores, per file
_distrusted: set[Path] = set()  # files this process saw damaged while they were open
_lock = threading.Lock()


class Meta(Protocol):
    """What this module needs of a store: its meta values."""

    def get_meta(self, key: str, default: str | None = None) -> str | None: ...

    def set_meta(self, key: str, value: str | None) -> None: ...


def clean_file(path: Path) -> Path:
    """The file saying the cache was closed cleanly."""
    return path.with_name(path.name + ".clean")


def open_file(path: Path, pid: int | None = None) -> Path:
    """The file saying process `pid` has the cache open."""
    return path.with_name(f"{path.name}.open-{pid or os.getpid()}")


def shut_down_cleanly(path: Path) -> bool:
    """Whether every process that had the cache open closed it (or one still has it open)."""
    marks = _marks(path)
    if any(not _alive(pid) for pid in marks):
        return False  # a killed process's mark
    return clean_file(path).exists() or any(pid != os.getpid() for pid in marks)


def check_due(path: Path, store: Meta, clean: bool, now: datetime | None = None) -> bool:
    """Whether this start should check the whole file: after an unclean shutdown, or when the
    last check is a week old (or unknown)."""
    if not clean:
        return True
    last = store.get_meta(CHECKED_KEY)
    try:
        when = datetime.fromisoformat(last) if last else None
    except ValueError:
        return True
    return when is None or (now or datetime.now(UTC)) - when > EVERY


def checked(store: Meta, now: datetime | None = None) -> None:
    """Record that the whole file was found sound now."""
    store.set_meta(CHECKED_KEY, (now or datetime.now(UTC)).isoformat())


def opened(path: Path) -> None:
    """This process has the cache open: not known clean until the last process closes it."""
    path = Path(path)
    with _lock:
        if not _open.get(path):
            _distrusted.discard(path)  # checked (or salvaged) before it was opened again
        _open[path] = _open.get(path, 0) + 1
        try:
            clean_file(path).unlink(missing_ok=True)
            for pid in _marks(path):
                if not _alive(pid):
                    open_file(path, pid).unlink(missing_ok=True)  # it never comes back
            open_file(path).touch()
        except OSError:
            pass  # a read-only folder: every start then checks


def closed(path: Path) -> None:
    """A normal close: drop this process's mark; the last one out says the cache is clean."""
    path = Path(path)
    with _lock:
        held = _open.get(path, 0) - 1
        if held > 0:
            _open[path] = held
            return
        _open.pop(path, None)
        try:
            open_file(path).unlink(missing_ok=True)
            if path in _distrusted:
                _distrusted.discard(path)  # damage was seen: not clean, the next start checks
            elif not any(_alive(pid) for pid in _marks(path)):
                clean_file(path).touch()
        except OSError:
            pass


def distrust(path: Path) -> None:
    """Damage was seen: the next start checks (and salvages) the file, however it is closed."""
    path = Path(path)
    with _lock:
        _distrusted.add(path)
        try:
            clean_file(path).unlink(missing_ok=True)
        except OSError:
            pass


def _marks(path: Path) -> list[int]:
    """The processes that left an open mark beside the cache."""
    try:
        names = [p.name for p in path.parent.glob(f"{path.name}.open-*")]
    except OSError:
        return []
    pids = (name.rsplit("-", 1)[-1] for name in names)
    return [int(pid) for pid in pids if pid.isdigit()]


def _alive(pid: int) -> bool:
    """Whether the process that left a mark still runs (assumed so where that cannot be told)."""
    if pid == os.getpid():
        return True
    if sys.platform == "win32":
        return _alive_on_windows(pid)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


def _alive_on_windows(pid: int) -> bool:
    """Whether a Windows process runs (os.kill(pid, 0) would end it there)."""
    if sys.platform != "win32":
        return True
    import ctypes

    kernel32 = ctypes.windll.kernel32
    handle = kernel32.OpenProcess(0x1000, False, pid)  # PROCESS_QUERY_LIMITED_INFORMATION
    if not handle:
        return bool(kernel32.GetLastError() == 5)  # access denied: it runs, as another user
    try:
        code = ctypes.c_ulong()
        if not kernel32.GetExitCodeProcess(handle, ctypes.byref(code)):
            return True
        return code.value == 259  # STILL_ACTIVE
    finally:
        kernel32.CloseHandle(handle)
