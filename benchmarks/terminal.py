"""A program run in a pseudo-terminal, as a technician's terminal runs it: what it paints, and when.

A reader thread takes every chunk the program writes, stamped with the time it arrived; waiting
for a text means waiting until the chunks since a moment, escape sequences removed, contain it.
POSIX only (pty).
"""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import struct
import subprocess
import termios
import threading
import time
from collections.abc import Sequence
from pathlib import Path

ANSI = re.compile(
    rb"\x1b\[[0-9;?<=>!]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[()][0-9A-Za-z]|\x1b[=>78]"
)


class Terminal:
    """One program in a pty of `size` (columns, lines)."""

    def __init__(
        self, argv: Sequence[str], env: dict[str, str], size: tuple[int, int] = (120, 40)
    ) -> None:
        master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", size[1], size[0], 0, 0))
        env = {**env, "TERM": "xterm-256color", "COLUMNS": str(size[0]), "LINES": str(size[1])}
        self.started = time.perf_counter()
        self.proc = subprocess.Popen(
            list(argv), stdin=slave, stdout=slave, stderr=slave, env=env, start_new_session=True
        )
        os.close(slave)
        self.fd = master
        self.chunks: list[tuple[float, bytes]] = []
        self._lock = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        while True:
            try:
                ready, _, _ = select.select([self.fd], [], [], 0.5)
                if not ready:
                    if self.proc.poll() is not None:
                        break
                    continue
                chunk = os.read(self.fd, 1 << 16)
            except OSError:
                break
            if not chunk:
                break
            with self._lock:
                self.chunks.append((time.perf_counter(), chunk))
                self._lock.notify_all()
        with self._lock:
            self._lock.notify_all()

    def mark(self) -> int:
        """A point in the output: later waits look only at what came after it."""
        with self._lock:
            return len(self.chunks)

    def wait_for(self, texts: Sequence[str], since: int = 0, timeout: float = 60.0) -> float:
        """When (perf_counter) the output after `since` first held every one of `texts`."""
        wanted = [t.encode() for t in texts]
        deadline = time.monotonic() + timeout
        seen = b""
        at = since
        with self._lock:
            while True:
                while at < len(self.chunks):
                    stamp, chunk = self.chunks[at]
                    at += 1
                    seen += chunk
                    plain = ANSI.sub(b"", seen)
                    if all(w in plain for w in wanted):
                        return stamp
                left = deadline - time.monotonic()
                if left <= 0 or (self.proc.poll() is not None and not self._reader.is_alive()):
                    tail = ANSI.sub(b"", seen)[-2000:].decode("utf-8", "replace")
                    raise TimeoutError(f"never painted {texts!r}; last output:\n{tail}")
                self._lock.wait(min(left, 0.5))

    def wait_for_output(self, since: int, timeout: float = 30.0) -> float:
        """When the program first wrote anything after `since`."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while len(self.chunks) <= since:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError("the program wrote nothing")
                self._lock.wait(min(left, 0.5))
            return self.chunks[since][0]

    def settle(self, quiet: float = 0.5, timeout: float = 30.0) -> None:
        """Wait until the program has written nothing for `quiet` seconds (start has finished)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                last = self.chunks[-1][0] if self.chunks else self.started
            if time.perf_counter() - last >= quiet:
                return
            time.sleep(quiet / 5)

    def send(self, data: str | bytes) -> float:
        """Type into the terminal; when it was sent."""
        os.write(self.fd, data.encode() if isinstance(data, str) else data)
        return time.perf_counter()

    def quit(self, keys: bytes = b"\x11", timeout: float = 30.0) -> int:
        """Press ctrl+q (by default) and wait for the program to end; its exit status."""
        try:
            self.send(keys)
            return self.proc.wait(timeout=timeout)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
            self._reader.join(timeout=5)
            os.close(self.fd)


BARE_APP = """
from textual.app import App
from textual.widgets import Static


class Bare(App):
    def compose(self):
        yield Static("bare textual ready")


Bare().run()
"""


def bare_app(folder: Path) -> list[str]:
    """The argv of a bare Textual app showing one Static ('bare textual ready')."""
    script = folder / "bare_app.py"
    script.write_text(BARE_APP, encoding="utf-8")
    import sys

    return [sys.executable, str(script)]
