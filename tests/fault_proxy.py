"""A fault-injecting HTTP proxy on 127.0.0.1: drops, truncates, fails, delays and repeats, from a seed."""

from __future__ import annotations

import asyncio
import random
import ssl
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Self
from urllib.parse import urlsplit

HEAD_LIMIT = 64 * 1024
FAULTS = ("drop_before", "drop_after", "truncate", "bad_gateway", "delay", "repeat")


@dataclass
class Faults:
    """Probability of each fault per request (the rest pass through), and their bounds."""

    drop_before: float = 0.0  # close the connection before the request reaches the server
    drop_after: float = 0.0  # the server answered (and applied), the client never hears
    truncate: float = 0.0  # only part of the answer arrives
    bad_gateway: float = 0.0  # answer 502 or 503 without asking the server
    delay: float = 0.0  # wait up to max_delay before forwarding
    repeat: float = 0.0  # send the request to the server twice
    max_delay: float = 0.05
    fixed_delay: float = 0.0  # every request waits this long first (a slow network)
    answer_delay: float = 0.0  # every answer waits this long after the server gave it
    max_faults: int = 10_000  # after this many faults, everything passes

    def pick(self, rng: random.Random) -> str:
        """One fault name, or "pass"."""
        roll = rng.random()
        for name in FAULTS:
            roll -= getattr(self, name)
            if roll < 0:
                return name
        return "pass"


@dataclass
class Event:
    """One request the proxy saw and what it did with it."""

    fault: str
    method: str
    path: str


@dataclass
class _Request:
    head: bytes
    body: bytes
    method: str
    path: str


@dataclass
class FaultProxy:
    """Run as a context manager: a proxy thread in front of `upstream` (http://127.0.0.1:PORT)."""

    upstream: str
    seed: int = 0
    faults: Faults = field(default_factory=Faults)
    enabled: bool = True
    events: list[Event] = field(default_factory=list)
    on_request: Callable[[str, str], None] | None = None  # (method, path), in the proxy's thread
    on_forwarded: Callable[[str, str], None] | None = None  # the server answered, not yet relayed

    def __post_init__(self) -> None:
        parts = urlsplit(self.upstream)
        self._target = (parts.hostname or "127.0.0.1", parts.port or 80)
        self.rng = random.Random(self.seed)
        self.port = 0
        self._faults_done = 0
        self._lock = threading.Lock()
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._stop: asyncio.Event | None = None
        self.answered: Counter[str] = Counter()  # path -> answers delivered whole
        self.forwarded: Counter[str] = Counter()  # path -> answers the server gave
        self.bytes_up = 0  # request bytes (head and body) the proxy received from clients
        self.bytes_down = 0  # answer bytes it relayed back

    @property
    def url(self) -> str:
        scheme = "https" if getattr(self, "tls", None) else "http"
        return f"{scheme}://127.0.0.1:{self.port}"

    def __enter__(self) -> Self:
        self._thread = threading.Thread(target=self._serve, name="fault-proxy", daemon=True)
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("fault proxy did not start")
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        if self._thread is not None:
            self._thread.join(10)

    def counts(self) -> Counter[str]:
        """How many times each fault (and "pass") happened."""
        with self._lock:
            return Counter(e.fault for e in self.events)

    def _serve(self) -> None:
        asyncio.run(self._main())

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        server = await asyncio.start_server(
            self._handle, "127.0.0.1", 0, limit=HEAD_LIMIT, ssl=getattr(self, "tls", None)
        )
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        async with server:
            await self._stop.wait()
            server.close()

    def _choose(self) -> str:
        with self._lock:
            if not self.enabled or self._faults_done >= self.faults.max_faults:
                return "pass"
            fault = self.faults.pick(self.rng)
            if fault != "pass":
                self._faults_done += 1
            return fault

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            request = await _read_request(reader)
            if request is not None:
                await self._answer(request, writer)
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError):
            pass
        finally:
            writer.close()

    async def _answer(self, request: _Request, writer: asyncio.StreamWriter) -> None:
        if self.on_request is not None:
            self.on_request(request.method, request.path)
        fault = self._choose()
        with self._lock:
            self.bytes_up += len(request.head) + len(request.body)
            self.events.append(Event(fault, request.method, request.path))
            delay = self.faults.fixed_delay
            if fault == "delay":
                delay += self.rng.uniform(0, self.faults.max_delay)
            cut = self.rng.random()
            code = self.rng.choice((502, 503))
        if delay:
            await asyncio.sleep(delay)
        if fault == "drop_before":
            return
        if fault == "bad_gateway":
            writer.write(_error_page(code))
            await writer.drain()
            return
        response = await self._forward(request)
        if fault == "repeat":
            response = await self._forward(request)
        with self._lock:
            self.forwarded[request.path.split("?")[0]] += 1
        if self.on_forwarded is not None:
            self.on_forwarded(request.method, request.path)
        if self.faults.answer_delay:
            await asyncio.sleep(self.faults.answer_delay)
        if fault == "drop_after":
            return
        if fault == "truncate":
            response = response[: max(1, int(len(response) * cut * 0.9))]
            writer.write(response)
        else:
            writer.write(response)
            with self._lock:
                self.answered[request.path.split("?")[0]] += 1
        with self._lock:
            self.bytes_down += len(response)
        await writer.drain()

    async def _forward(self, request: _Request) -> bytes:
        """Send the request to the server on a fresh connection; the whole answer."""
        reader, writer = await asyncio.open_connection(*self._target)
        try:
            writer.write(request.head + request.body)
            await writer.drain()
            response = await reader.read()
        finally:
            writer.close()
        return _close_after(response)


async def _read_request(reader: asyncio.StreamReader) -> _Request | None:
    """One HTTP/1.1 request with a Content-Length body, forced to `Connection: close`."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError:
        return None
    lines = head.decode("latin-1").split("\r\n")
    method, path, _ = lines[0].split(" ", 2)
    kept, length = [lines[0]], 0
    for line in lines[1:]:
        if not line:
            continue
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            length = int(value.strip())
        if name.strip().lower() in ("connection", "keep-alive"):
            continue
        kept.append(line)
    kept.append("Connection: close")
    body = await reader.readexactly(length) if length else b""
    return _Request(("\r\n".join(kept) + "\r\n\r\n").encode("latin-1"), body, method, path)


def _close_after(response: bytes) -> bytes:
    """The server's answer with `Connection: close`, so each request gets its own connection."""
    head, sep, body = response.partition(b"\r\n\r\n")
    if not sep:
        return response
    lines = [
        line
        for line in head.split(b"\r\n")
        if not line.lower().startswith((b"connection:", b"keep-alive:"))
    ]
    lines.append(b"Connection: close")
    return b"\r\n".join(lines) + sep + body


def _error_page(code: int) -> bytes:
    """A gateway's HTML error page, as a real one would send."""
    reason = {502: "Bad Gateway", 503: "Service Unavailable"}[code]
    body = f"<html><body><h1>{code} {reason}</h1></body></html>".encode()
    return (
        f"HTTP/1.1 {code} {reason}\r\nContent-Type: text/html\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    ).encode() + body


@dataclass
class Reply:
    """A scripted answer: status, body bytes, content type, and optionally a lying Content-Length."""

    status: int = 200
    body: bytes = b""
    content_type: str = "application/json"
    content_length: int | None = None
    headers: dict[str, str] = field(default_factory=dict)

    def encode(self) -> bytes:
        length = len(self.body) if self.content_length is None else self.content_length
        extra = "".join(f"{k}: {v}\r\n" for k, v in self.headers.items())
        return (
            f"HTTP/1.1 {self.status} X\r\nContent-Type: {self.content_type}\r\n"
            f"Content-Length: {length}\r\n{extra}Connection: close\r\n\r\n"
        ).encode() + self.body


Script = dict[str, Callable[[str, bytes], Reply]]


class ScriptedServer(FaultProxy):
    """A tiny HTTP server on 127.0.0.1 answering from `routes` (path without query -> fn(query, body))."""

    def __init__(self, routes: Script, tls: ssl.SSLContext | None = None) -> None:
        super().__init__(upstream="http://127.0.0.1:1")
        self.routes = routes
        self.tls = tls
        self.requests: list[tuple[str, str]] = []

    async def _answer(self, request: _Request, writer: asyncio.StreamWriter) -> None:
        path, _, query = request.path.partition("?")
        with self._lock:
            self.requests.append((request.method, request.path))
        route = self.routes.get(path)
        reply = route(query, request.body) if route else Reply(404, b'{"error":"not_found"}')
        writer.write(reply.encode())
        await writer.drain()
