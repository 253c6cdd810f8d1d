"""Sending evidence files to the office after their records: resumable, hash-checked, never twice.

For each file whose `attachment.add` op the office has applied: ask what the office holds
(`GET /api/v1/uploads/{sha256}`), send the rest in bounded pieces (`PUT ...?offset=N`), and
after any failure ask again before sending more, so a dropped hotspot costs at most one piece.
A file the office already holds (the same photo on another visit) is not sent at all.

Pieces adapt to the link: 512 KiB while pieces go through, a quarter of that after one is lost
(down to 64 KiB), doubling again with each piece that arrives, so a weak spell of the hotspot
loses small pieces rather than large ones.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx

from fieldkit.evidence import limits

from .errors import SyncError, offline, protocol
from .http import _parse, _transport_error

if TYPE_CHECKING:
    from cache.store import Store

UPLOADS = "/api/v1/uploads/"
FILES = "/api/v1/files/"
PIECE = limits.UPLOAD_PIECE
SMALLEST_PIECE = 64 * 1024  # after lost pieces: smaller, never smaller than this
RETRIES = 8  # failures in a row on one file before the round gives up (the next round resumes)
Progress = Callable[[str, int, int], None]


@dataclass
class UploadResult:
    """What the uploads of one round did."""

    files: int = 0  # files the office now holds whole
    skipped: int = 0  # of which the office already held (nothing sent)
    bytes_sent: int = 0  # file bytes put on the wire (pieces resent after a drop count again)
    waiting: int = 0  # files still to send after the round
    failed: int = 0  # files refused by the office (kept here, with the reason)


class Uploader:
    """Uploads one store's waiting files over one office's httpx client."""

    def __init__(
        self,
        store: Store,
        http: httpx.AsyncClient,
        *,
        piece: int = PIECE,
        smallest: int = SMALLEST_PIECE,
        budget: float = 600.0,
        pause: float = 0.2,
    ) -> None:
        self.store = store
        self.http = http
        self.largest = max(1024, piece)
        self.smallest = min(self.largest, max(1024, smallest))
        self.piece = self.largest  # the size of the next piece: shrinks on a loss, grows back
        self.budget = budget  # seconds of uploading per round; the rest waits for the next
        self.pause = pause  # first wait after a failure (doubles each time)

    async def run(self, report: Progress | None = None) -> UploadResult:
        """Upload every waiting file (SyncError when the office stays unreachable)."""
        say: Progress = report or (lambda phase, done, total: None)
        result = UploadResult()
        waiting = await asyncio.to_thread(self.store.uploads_waiting)
        total = sum(int(f["size"]) for f in waiting)
        done = sum(int(f["sent"]) for f in waiting)
        if waiting:
            say("upload", done, total)
        started = time.monotonic()
        for index, entry in enumerate(waiting):
            if time.monotonic() - started > self.budget:
                result.waiting = len(waiting) - index
                break
            await self._one(entry, result, _mover(say, done, total))
            done += int(entry["size"]) - int(entry["sent"])
            say("upload", done, total)
        return result

    async def _one(
        self, entry: dict[str, Any], result: UploadResult, moved: Callable[[int], None]
    ) -> None:
        """Send one file from where the office's copy ends."""
        sha256, size = str(entry["sha256"]), int(entry["size"])
        data = await asyncio.to_thread(self._read, sha256, size)
        if data is None:
            return
        failures = 0
        restarts = 0
        first = True
        sending = False
        while True:
            try:
                state = await self._state(sha256)
                if state is None:
                    return
                if state["complete"]:
                    await asyncio.to_thread(self.store.note_upload, sha256, size, True)
                    result.files += 1
                    if first:
                        result.skipped += 1
                    return
                first = False
                received = int(state["received"])
                while received < size:
                    chunk = data[received : received + self.piece]
                    sending = True
                    answer = await self._put(sha256, received, chunk)
                    sending = False
                    result.bytes_sent += len(chunk)
                    if answer is None:  # the office holds something else: ask again
                        break
                    received = int(answer["received"])
                    self.piece = min(self.largest, self.piece * 2)
                    moved(received - int(entry["sent"]))
                    await asyncio.to_thread(
                        self.store.note_upload, sha256, received, bool(answer["complete"])
                    )
                    failures = 0
                    if answer["complete"]:
                        result.files += 1
                        return
            except _Mismatch:
                restarts += 1
                if restarts > 2:
                    await self._refused(sha256, _MISMATCH_WORDS, result)
                    return
            except _Refused as exc:
                await self._refused(sha256, exc.words, result)
                return
            except SyncError as exc:
                if not exc.retry_soon or isinstance(exc, OfficeFull):
                    raise
                if sending:  # the piece (or its answer) was lost: send smaller ones a while
                    self.piece = max(self.smallest, self.piece // 4)
                    sending = False
                failures += 1
                if failures >= RETRIES:
                    result.waiting += 1
                    raise
                # at once after one failure (a lost answer), then backing off (a dead link)
                await asyncio.sleep(
                    0 if failures == 1 else min(5.0, self.pause * 2 ** (failures - 2))
                )

    def _read(self, sha256: str, size: int) -> bytes | None:
        """The file's bytes, checked against its hash (None, with the reason noted, if damaged)."""
        path = self.store.file_path(sha256)
        try:
            data = path.read_bytes()
        except OSError as exc:
            self.store.note_upload_error(
                sha256, f"本机文件无法读取（{exc}） / the file cannot be read here ({exc})"
            )
            return None
        if len(data) != size or hashlib.sha256(data).hexdigest() != sha256:
            self.store.note_upload_error(
                sha256,
                "本机文件已损坏（与摘要不符），未上传；请重新附上原照片 / the file here is "
                "damaged (does not match its hash) and was not sent: attach the photo again",
            )
            return None
        return data

    async def _state(self, sha256: str) -> dict[str, Any] | None:
        """What the office holds of the file (None: it knows no attachment of it for us yet)."""
        try:
            response = await self.http.get(UPLOADS + sha256)
        except httpx.TransportError as exc:
            raise _transport_error(self.http, exc) from None
        except httpx.DecodingError as exc:
            raise offline(str(exc)) from None
        if response.status_code == 404:
            return None  # the attachment op is not applied there yet: next round
        body = _parse(response, UPLOADS)
        return _checked(body)

    async def _put(self, sha256: str, offset: int, chunk: bytes) -> dict[str, Any] | None:
        """Send one piece; the office's state after it, or None when it holds another offset."""
        try:
            response = await self.http.put(
                UPLOADS + sha256,
                params={"offset": offset},
                content=chunk,
                headers={"Content-Type": "application/octet-stream"},
            )
        except httpx.TransportError as exc:
            raise _transport_error(self.http, exc) from None
        except httpx.DecodingError as exc:
            raise offline(str(exc)) from None
        status = response.status_code
        if status == 409:
            return None
        if status == 404:
            raise _Refused(_said(response) or "办公室不再有此附件 / the office no longer has it")
        if status == 507:  # trying again at once cannot help: the next round will
            raise OfficeFull("server", *_halves(_said(response)))
        if status == 422 and _error_code(response) == "hash_mismatch":
            raise _Mismatch()
        if status in (413, 422):
            raise _Refused(_said(response))
        return _checked(_parse(response, UPLOADS))

    async def _refused(self, sha256: str, words: str, result: UploadResult) -> None:
        result.failed += 1
        await asyncio.to_thread(self.store.note_upload_error, sha256, words)


async def fetch(store: Store, http: httpx.AsyncClient, sha256: str) -> bytes:
    """A file from the office (a supervisor opening a technician's photo), kept here, checked."""
    local = await asyncio.to_thread(store.local_file, sha256)
    if local is not None:
        return await asyncio.to_thread(local.read_bytes)
    try:
        response = await http.get(FILES + sha256)
    except httpx.TransportError as exc:
        raise _transport_error(http, exc) from None
    if response.status_code == 404:
        raise SyncError(
            "protocol",
            "办公室还没有收到这个文件（拍摄者的电脑可能尚未上传），请稍后再试。",
            "The office does not have this file yet (the laptop that took it may not have "
            "uploaded it); try again later.",
        )
    if response.status_code != 200:
        _parse(response, FILES)
        raise protocol(
            f"取文件返回了 HTTP {response.status_code}",
            f"fetching the file answered HTTP {response.status_code}",
        )
    data = response.content
    await asyncio.to_thread(store.keep_fetched, sha256, data)
    return data


# ---- helpers -------------------------------------------------------------------------------------
def _mover(say: Progress, base: int, total: int) -> Callable[[int], None]:
    """Progress of one file's bytes, as bytes of the whole round."""

    def moved(sent: int) -> None:
        say("upload", base + sent, total)

    return moved


_MISMATCH_WORDS = (
    "办公室三次收到的内容都与摘要不符，已停止上传；请检查网络设备或重新附上 / the office found "
    "the bytes did not match the hash three times; upload stopped: check the network or "
    "attach the photo again"
)


class OfficeFull(SyncError):
    """The office's file storage is full: the file stays here and goes in a later round."""


class _Mismatch(Exception):
    """The office found the whole file did not match its hash (it threw the pieces away)."""


class _Refused(Exception):
    """The office refuses this file for good (too large, not ours): kept here with the words."""

    def __init__(self, words: str) -> None:
        super().__init__(words)
        self.words = words


def _checked(body: Any) -> dict[str, Any]:
    if (
        not isinstance(body, dict)
        or not isinstance(body.get("received"), int)
        or not isinstance(body.get("complete"), bool)
    ):
        raise protocol("上传状态的回答无效", "the upload state answer is not valid")
    return body


def _said(response: httpx.Response) -> str:
    try:
        body = json.loads(response.content)
    except ValueError:
        return ""
    return str(body.get("message") or body.get("error") or "") if isinstance(body, dict) else ""


def _error_code(response: httpx.Response) -> str:
    try:
        body = json.loads(response.content)
    except ValueError:
        return ""
    return str(body.get("error") or "") if isinstance(body, dict) else ""


def _halves(text: str) -> tuple[str, str]:
    zh, _, en = text.partition(" / ")
    return zh or text, en or text
