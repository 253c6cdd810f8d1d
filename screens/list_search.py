"""The list's search thread: one long-lived thread answers the list's queries, the latest first.

A Textual thread worker per keystroke cost the event loop ~0.5 ms a key (measured: a Worker, an
asyncio task, the executor, and three state messages each dispatched to the screen and the app)
inside the time a technician waits for the list. Here a keystroke only sets the request and
wakes the thread; the answer comes back as the screen's own message. The cache is never queried
on the event loop, and an answer overtaken by a newer request is never delivered.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Generic, TypeVar

Answer = TypeVar("Answer")


class ListSearch(Generic[Answer]):
    """Answers `ask(offset)` in its own thread with `answer(offset)`, hands each answer to
    `deliver` (any thread) unless a newer request came meanwhile, and an error to `failed`."""

    def __init__(
        self,
        answer: Callable[[int], Answer | None],
        deliver: Callable[[Answer], object],
        failed: Callable[[BaseException], None],
    ) -> None:
        self._answer, self._deliver, self._failed = answer, deliver, failed
        self._wake = threading.Condition()
        self._pending: int | None = None  # the offset asked for and not yet taken
        self._stopped = False
        self._idle = threading.Event()
        self._idle.set()
        self._thread: threading.Thread | None = None

    def ask(self, offset: int) -> None:
        """Answer the current query from `offset` (0: a new list; a new list asked for while a
        next page waits replaces it, never the other way round)."""
        with self._wake:
            if self._stopped:
                return
            self._pending = 0 if offset == 0 or self._pending == 0 else offset
            self._idle.clear()
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="list-search", daemon=True)
                self._thread.start()
            self._wake.notify()

    @property
    def busy(self) -> bool:
        """Whether a request waits or is being answered."""
        return not self._idle.is_set()

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Block until every request is answered (tests, benchmarks); whether it was."""
        return self._idle.wait(timeout)

    def stop(self) -> None:
        """No more answers; the thread ends once the request it runs (if any) is done."""
        with self._wake:
            self._stopped = True
            self._pending = None
            self._idle.set()
            self._wake.notify()

    def _run(self) -> None:
        while True:
            with self._wake:
                while self._pending is None and not self._stopped:
                    self._idle.set()
                    self._wake.wait()
                if self._stopped or self._pending is None:
                    return
                offset, self._pending = self._pending, None
            try:
                result = self._answer(offset)
            except Exception as error:  # (the cache's own errors, said in words by `failed`)
                self._failed(error)
                continue
            with self._wake:
                overtaken = self._pending is not None or self._stopped
            if result is not None and not overtaken:
                self._deliver(result)
