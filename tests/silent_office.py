"""Offices that answer badly, on 127.0.0.1: one that accepts and never answers, one that answers
a fixed HTTP reply to everything (a web server that is not fieldkit, an office failing with 500).

Both are bounded: they stop when the `with` block ends, and by themselves after `lifetime`
seconds even if a test forgets them."""

from __future__ import annotations

import socket
import threading
import time
from types import TracebackType
from typing import Self


class _Listener:
    """A socket on a free port of 127.0.0.1, served on a thread until closed or `lifetime` ends."""

    def __init__(self, lifetime: float = 60.0) -> None:
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(16)
        self._sock.settimeout(0.1)
        self.port = int(self._sock.getsockname()[1])
        self.url = f"http://127.0.0.1:{self.port}"
        self.accepted = 0
        self._deadline = time.monotonic() + lifetime
        self._stop = threading.Event()
        self._held: list[socket.socket] = []
        self._thread = threading.Thread(target=self._serve, daemon=True, name=f"bad-{self.port}")

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Stop serving and close every connection."""
        self._stop.set()
        if self._thread.is_alive() and threading.current_thread() is not self._thread:
            self._thread.join(timeout=5)

    def _running(self) -> bool:
        return not self._stop.is_set() and time.monotonic() < self._deadline

    def _serve(self) -> None:
        try:
            while self._running():
                try:
                    conn, _ = self._sock.accept()
                except TimeoutError:
                    continue
                self.accepted += 1
                self.handle(conn)
        finally:
            for conn in self._held:
                conn.close()
            self._sock.close()

    def handle(self, conn: socket.socket) -> None:
        """What to do with one accepted connection (subclasses)."""
        raise NotImplementedError


class SilentOffice(_Listener):
    """Accepts every connection and never says a word (a frozen server, a wrong port on a box
    that swallows connections); connections are held open until the office stops."""

    def handle(self, conn: socket.socket) -> None:
        self._held.append(conn)


class FixedAnswer(_Listener):
    """Answers every request with the same HTTP status, content type and body, then closes."""

    def __init__(
        self, status: int, body: str, content_type: str = "text/html", lifetime: float = 60.0
    ) -> None:
        super().__init__(lifetime)
        self.status, self.body, self.content_type = status, body.encode(), content_type

    def handle(self, conn: socket.socket) -> None:
        with conn:
            conn.settimeout(2)
            try:
                conn.recv(65536)  # the request head (small: a GET without a body)
                reason = {404: "Not Found", 500: "Internal Server Error"}.get(self.status, "OK")
                head = (
                    f"HTTP/1.1 {self.status} {reason}\r\nContent-Type: {self.content_type}\r\n"
                    f"Content-Length: {len(self.body)}\r\nConnection: close\r\n\r\n"
                )
                conn.sendall(head.encode() + self.body)
            except OSError:
                pass
