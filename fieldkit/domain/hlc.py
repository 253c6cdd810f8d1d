"""A hybrid logical clock: edit stamps that sort as text and survive laptops with wrong clocks."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from .errors import ValidationError

MAX_COUNTER = 0xFFFF
# A remote stamp further ahead than this of our wall clock is not believed: a wrong clock
# on one laptop must not drag every other clock into the future.
MAX_DRIFT_MS = 24 * 3600 * 1000
# Only the exact text str(Stamp) writes, so that text order and Stamp order agree.
_STAMP_TEXT = re.compile(r"([0-9]{15})-([0-9a-f]{4})-([^\s]+)")


@dataclass(frozen=True, order=True)
class Stamp:
    """One HLC reading: wall milliseconds, a counter, and the writer's id for ties."""

    ms: int
    counter: int
    client_id: str

    def __str__(self) -> str:
        return f"{self.ms:015d}-{self.counter:04x}-{self.client_id}"

    @classmethod
    def parse(cls, text: str) -> Stamp:
        """Read a stamp written by str(); raise ValidationError on anything else."""
        match = _STAMP_TEXT.fullmatch(text) if isinstance(text, str) else None
        if match is None:
            raise ValidationError(
                "hlc",
                f"时间戳格式错误：{text!r}（应为“15位毫秒-4位小写十六进制计数-客户端编号”）",
                f"Malformed HLC: {text!r} (expected <15-digit ms>-<4 lowercase hex>-<client id>)",
                "hlc",
            )
        return cls(int(match[1]), int(match[2], 16), match[3])


class HLC:
    """A clock for one writer: `now()` for a local edit, `observe()` for a stamp seen remotely."""

    def __init__(
        self, client_id: str, last: str | None = None, wall: Callable[[], int] | None = None
    ) -> None:
        if not client_id or any(c.isspace() for c in client_id):
            raise ValidationError(
                "client_id",
                f"客户端编号无效：{client_id!r}（不能为空或含空格）",
                f"Invalid client id {client_id!r}: it must be non-empty without spaces",
                "client_id",
            )
        self.client_id = client_id
        self._wall = wall or (lambda: time.time_ns() // 1_000_000)
        self._lock = threading.Lock()
        start = Stamp.parse(last) if last else Stamp(0, 0, client_id)
        self._ms, self._counter = start.ms, start.counter

    def now(self) -> str:
        """A stamp greater than every stamp this clock has issued or observed."""
        with self._lock:
            wall = self._wall()
            if wall > self._ms:
                self._ms, self._counter = wall, 0
            else:
                self._tick()
            return str(Stamp(self._ms, self._counter, self.client_id))

    def observe(self, remote: str | Stamp) -> None:
        """Move past a stamp received from elsewhere (unless it is absurdly far ahead)."""
        stamp = remote if isinstance(remote, Stamp) else Stamp.parse(remote)
        with self._lock:
            if stamp.ms > self._wall() + MAX_DRIFT_MS:
                return
            if (stamp.ms, stamp.counter) > (self._ms, self._counter):
                self._ms, self._counter = stamp.ms, stamp.counter

    def _tick(self) -> None:
        """Advance the counter, carrying into the milliseconds when it is full."""
        if self._counter >= MAX_COUNTER:
            self._ms, self._counter = self._ms + 1, 0
        else:
            self._counter += 1


def newer(a: str | None, b: str | None) -> bool:
    """Whether stamp a wins over stamp b (last writer wins; ties broken by client id in the text)."""
    if b is None:
        return a is not None
    if a is None:
        return False
    return Stamp.parse(a) > Stamp.parse(b)
