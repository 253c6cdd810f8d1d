"""The sync round (push the outbox, then pull pages) and login, on httpx.AsyncClient."""

from __future__ import annotations

import asyncio
import json
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import httpx

from fieldkit import config
from fieldkit.config import Settings, Technician

from . import wire
from .errors import SyncError, config_problem, key_changed, offline, protocol
from .http import TIMEOUT, make_client, normalise_url, request_json
from .pulling import MARK, Pull, newer
from .uploads import Uploader, UploadResult

log = logging.getLogger(__name__)

if TYPE_CHECKING:
    from cache.store import Store

ME = "/api/v1/me"
OFFICE = "/api/v1/office"
PUSH = "/api/v1/sync/push"
HEALTH = "/healthz"
REPULL = "sync_repull"  # meta: set when the next pull must start from 0 (see _pull)
CLOCK_TOLERANCE = 300  # seconds; beyond this a wrong laptop clock is worth a word
REJECTED = "sync_rejected"  # meta: the rejected op ids seen at the end of the last round
KEEP_SYNCED_DAYS = 90  # synced ops kept this long, to re-send to an office restored from a backup

Progress = Callable[[str, int, int], None]
T = TypeVar("T")


@dataclass
class SyncStatus:
    """What the app shows about sync: reachable or not, busy or not, what waits, what went wrong."""

    online: bool | None = None
    sending: bool = False
    unsent: int = 0
    rejected: int = 0
    last_success: str | None = None
    last_error: str | None = None
    clock_warning: str | None = None  # this computer's clock is far from the office's
    files_waiting: int = 0  # evidence files still to upload
    uploading: tuple[int, int] | None = None  # (bytes sent, bytes to send) while uploading


@dataclass
class RoundResult:
    """What one round did: ops pushed and their answers, changes pulled."""

    pushed: int = 0
    applied: int = 0
    duplicate: int = 0
    rejected: int = 0
    pulled: int = 0
    uploads: UploadResult = field(default_factory=UploadResult)


def utc_now() -> str:
    """Now, as ISO 8601 UTC to the second."""
    return datetime.now(UTC).replace(microsecond=0).isoformat()


async def login(
    url: str,
    token: str,
    profile: str = "default",
    ca_file: str | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    within: float | None = None,
) -> Settings:
    """Check the token with the office, pin its public key, save the profile and the token.

    `within`: the seconds the whole check may take (the app's connect screen answers in a few
    seconds); past them, an "offline" SyncError with reason "timeout". Nothing is saved then."""
    url = normalise_url(url)
    token = token.strip()
    if not token:
        raise config_problem(
            "令牌为空。请粘贴办公室发给您的令牌。",
            "The token is empty; paste the token the office gave you.",
        )
    ca_path = str(Path(ca_file).expanduser().resolve()) if ca_file else None
    previous = config.load(profile)
    limits = httpx.Timeout(within) if within is not None else TIMEOUT
    async with make_client(url, token, ca_path, transport, limits) as http:
        try:
            async with asyncio.timeout(within):
                _, me_body = await request_json(http, "GET", ME)
                me = wire.check_me(me_body)
                _, office_body = await request_json(http, "GET", OFFICE)
                office_name, public_key = wire.check_office(office_body)
        except TimeoutError:  # each request was quick enough, the two together were not
            if within is None:
                raise
            raise offline(f"no answer within {within:g} s", "timeout") from None
    if previous.office_public_key and previous.office_public_key != public_key:
        raise key_changed(url)
    settings = replace(
        previous,
        server_url=url,
        office_name=office_name,
        office_public_key=public_key,
        ca_file=ca_path,
        technician=Technician(**me),
    )
    if previous.technician is None or previous.technician.id != me["id"]:
        _hand_over_cache(previous, settings)
    config.save(settings)
    config.save_token(profile, token)
    return settings


def _hand_over_cache(previous: Settings, settings: Settings) -> None:
    """Someone else logs in on this profile: refuse if the last person's work is unsent, else
    make the next sync pull everything afresh (what the cache holds was the last person's view)."""
    from cache.errors import CacheError
    from cache.store import Store

    if not settings.cache_path.exists():
        return
    try:
        with Store.open(settings.cache_path) as store:
            counts = store.counts()
            waiting = counts.get("unsent", 0) + counts.get("rejected", 0)
            if waiting and previous.technician is not None:
                who = previous.technician
                raise config_problem(
                    f"此配置（{settings.profile}）中还有 {who.name}（{who.id}）的 {waiting} 项"
                    "未发送或被拒绝的更改，不能换人登录。请先用其令牌同步并处理，"
                    "或用 fieldkit --profile 新名称 login 另建配置。",
                    f"This profile ({settings.profile}) still holds {waiting} unsent or rejected "
                    f"changes by {who.name} ({who.id}); another person cannot log in on it. Sync "
                    "and settle them with their token first, or log in on a new profile with "
                    "`fieldkit --profile NAME login`.",
                )
            store.reset_for_full_pull()
            store.forget_synced()  # the last person's ops are never re-sent under this token
            store.set_meta("epoch", None)
            store.set_meta(MARK, None)
    except CacheError as exc:
        raise config_problem(exc.zh, exc.en) from None


class SyncClient:
    """Runs sync rounds for one profile's store against its office."""

    def __init__(
        self,
        settings: Settings,
        store: Store,
        token: str,
        *,
        batch_size: int = 200,
        transport: httpx.AsyncBaseTransport | None = None,
        page_limit: int = 5000,
        max_pages: int = 1000,
    ) -> None:
        if not settings.server_url or not settings.office_public_key:
            raise config_problem(
                "尚未登录：请先运行 fieldkit login 服务器地址",
                "Not logged in: run `fieldkit login URL` first.",
            )
        self.settings = settings
        self.store = store
        self.batch_size = max(1, min(batch_size, 500))
        self.page_limit = page_limit
        self.max_pages = max_pages
        self.requests = 0
        self._http = make_client(settings.server_url, token, settings.ca_file, transport)
        self._http.event_hooks["request"].append(self._count)
        self._http.event_hooks["response"].append(self._read_clock)
        self.clock_skew: float | None = None  # seconds this computer runs ahead of the office
        self._office_checked = False
        self._restarted = False
        self._resend = False  # ops were queued again for a restored office
        self._answered: set[str] = set()  # ops the office accepted in this round
        self._lock: asyncio.Lock | None = None

    async def _count(self, request: httpx.Request) -> None:
        self.requests += 1

    async def _read_clock(self, response: httpx.Response) -> None:
        """Compare this computer's clock with the office's (its Date header)."""
        said = response.headers.get("date")
        if said:
            try:
                office = parsedate_to_datetime(said)
            except (TypeError, ValueError):
                return
            self.clock_skew = time.time() - office.timestamp()

    def clock_warning(self, lang: str = "zh") -> str | None:
        """Words for a clock far from the office's (edits are ordered by it), or None."""
        if self.clock_skew is None or abs(self.clock_skew) < CLOCK_TOLERANCE:
            return None
        minutes = round(abs(self.clock_skew) / 60)
        if lang.startswith("zh"):
            way = "快" if self.clock_skew > 0 else "慢"
            return f"本机时钟比办公室{way}约 {minutes} 分钟，请校准系统时间，否则修改的先后可能判断错误。"
        way = "ahead of" if self.clock_skew > 0 else "behind"
        return (
            f"This computer's clock is about {minutes} minutes {way} the office's; set the "
            "system time right, or the order of edits may be judged wrongly."
        )

    async def _db(self, fn: Callable[..., T], *args: Any) -> T:
        """Run a store call in a thread, so the app's event loop never waits on the disk."""
        return await asyncio.to_thread(fn, *args)

    async def fetch_file(self, sha256: str) -> bytes:
        """An evidence file, from this laptop or else fetched from the office (and kept here)."""
        from .uploads import fetch

        return await fetch(self.store, self._http, sha256)

    async def aclose(self) -> None:
        """Close the connections."""
        await self._http.aclose()

    async def probe(self) -> bool:
        """Whether the office answers at all (GET /healthz)."""
        try:
            status, _ = await request_json(self._http, "GET", HEALTH)
        except SyncError:
            return False
        return status == 200

    async def check_office(self) -> None:
        """Refuse an office whose public key is not the one pinned at login."""
        _, body = await request_json(self._http, "GET", OFFICE)
        _, public_key = wire.check_office(body)
        if public_key != self.settings.office_public_key:
            raise key_changed(str(self.settings.server_url))
        self._office_checked = True

    async def run_round(self, progress: Progress | None = None) -> RoundResult:
        """Push every unsent op, then pull every change; raises SyncError, keeping all unsent work."""
        if self._lock is None:
            self._lock = asyncio.Lock()
        report: Progress = progress or (lambda phase, done, total: None)
        async with self._lock:
            started = time.monotonic()
            log.info("sync round started for %s (profile %s)", self.settings.server_url,
                     self.settings.profile)  # fmt: skip
            result = RoundResult()
            self._answered.clear()
            if not self._office_checked:
                await self.check_office()
            await self._note_discards()
            try:
                await self._push(result, report)
            except _OfficeDiverged:  # the office lost what this computer had seen: start over
                await self._restart(None)
                await self._push(result, report)
            await self._pull(result, report)
            if self._resend:  # the office was restored from a backup: send what it lost, then
                self._resend = False  # pull what those ops changed there
                await self._push(result, report)
                await self._pull(result, report)
            result.uploads = await Uploader(self.store, self._http).run(report)  # after the ops
            cutoff = (datetime.now(UTC) - timedelta(days=KEEP_SYNCED_DAYS)).isoformat()
            await self._db(self.store.forget_synced, cutoff)
            rejected = sorted(op["op_id"] for op in await self._db(self.store.rejected_ops))
            await self._db(self.store.set_meta, REJECTED, json.dumps(rejected))
            await self._db(self.store.set_meta, "last_sync", utc_now())
            log.info(
                "sync round done in %.1f s: sent %d (applied %d, duplicate %d, rejected %d), "
                "received %d",
                time.monotonic() - started,
                result.pushed,
                result.applied,
                result.duplicate,
                result.rejected,
                result.pulled,
            )
            return result

    async def _note_discards(self) -> None:
        """A rejected op discarded since the last round means its register needs the office's value."""
        seen: str | None = await self._db(self.store.get_meta, REJECTED)
        known = set(json.loads(seen or "[]"))
        still = {op["op_id"] for op in await self._db(self.store.rejected_ops)}
        if known - still:
            await self._db(self.store.set_meta, REPULL, "discarded")

    async def _push(self, result: RoundResult, report: Progress) -> None:
        """Send the outbox in bounded batches and record each op's answer."""
        total = int((await self._db(self.store.counts)).get("unsent", 0))
        report("push", 0, total)
        answered: set[str] = set()
        for _ in range(math.ceil(total / self.batch_size) + 10):
            batch = [
                op
                for op in await self._db(self.store.pending_ops, self.batch_size)
                if op["op_id"] not in answered
            ]
            if not batch:
                return
            await self._send(batch, result)
            answered.update(op["op_id"] for op in batch)
            report("push", result.pushed, max(total, result.pushed))

    async def _send(self, batch: list[dict[str, Any]], result: RoundResult) -> None:
        """One push request; an oversized or refused batch is split until the culprit is alone."""
        ids = [op["op_id"] for op in batch]
        await self._db(self.store.mark_sending, ids)
        body = {"client_id": self.store.client_id, "ops": [wire.wire_op(op) for op in batch]}
        proof = await self._db(self.store.get_meta, MARK)
        if proof:
            body["mark"] = proof
        status, answer = await request_json(self._http, "POST", PUSH, body=body)
        if status == 410 and proof:  # nothing of the batch was applied
            raise _OfficeDiverged
        if status in (413, 422):
            if len(batch) > 1:
                half = len(batch) // 2
                await self._send(batch[:half], result)
                await self._send(batch[half:], result)
                return
            if status == 422 and not _about_the_op(answer):
                raise protocol(
                    f"服务器拒绝了整批推送（{_said(answer)}）",
                    f"the server refused the push itself ({_said(answer)})",
                )
            results = [_refused_alone(ids[0], status, answer)]
        elif status != 200:
            raise protocol(f"推送返回了 HTTP {status}", f"push answered HTTP {status}")
        else:
            results = wire.check_push(answer, ids)
        if any(item.get("superseded") or item.get("conflict") for item in results):
            await self._db(self.store.set_meta, REPULL, "superseded")
        # the office's mark goes with the results it proves, in one transaction
        keep = await self._newer_mark(wire.mark_of(answer) if status == 200 else None)
        await self._db(self.store.record_results, results, keep)
        self._answered.update(
            str(item["op_id"]) for item in results if item["status"] in ("applied", "duplicate")
        )
        result.pushed += len(results)
        for item in results:
            setattr(result, item["status"], getattr(result, item["status"]) + 1)

    async def _pull(self, result: RoundResult, report: Progress) -> None:
        """Pull every page; after a nonsense page the cursor goes back to where the round began.

        Going back is always safe: a change pulled again is applied again, to the same effect.
        When a local edit lost to a newer one, clashed with another writer's, or was rejected and
        then discarded, the pull starts from 0 instead: the winner may have arrived while the
        edit was unsent, and been skipped.
        """
        start = int(await self._db(self.store.get_meta, "cursor") or 0)
        rewind = await self._db(self.store.get_meta, REPULL) is not None
        self._restarted = False
        try:
            await Pull(self, result, report).run(0 if rewind else start)
        except SyncError as exc:
            if exc.kind == "protocol" and not self._restarted:
                await self._db(self.store.set_meta, "cursor", str(start))
            raise
        if rewind:
            await self._db(self.store.set_meta, REPULL, None)

    async def _restart(self, epoch: str | None) -> None:
        """Start the pull over from scratch, keeping unsent ops (after re-checking the office).

        The office lost changes (a backup restored: unknown cursor or new epoch), so every synced
        op still kept goes again; ops it still has answer "duplicate".
        """
        await self.check_office()
        requeued = await self._db(self.store.requeue_synced, set(self._answered))
        self._resend = requeued > 0 or self._resend
        await self._db(self.store.reset_for_full_pull)
        await self._db(self.store.set_meta, "epoch", epoch)
        await self._db(self.store.set_meta, MARK, None)

    async def _newer_mark(self, mark: str | None) -> dict[str, str]:
        """The meta to keep for an office's mark: it, if it stands for a later change than the
        one kept; nothing otherwise."""
        if mark is None:
            return {}
        kept = await self._db(self.store.get_meta, MARK)
        return {MARK: mark} if newer(mark, kept) else {}


class _OfficeDiverged(Exception):
    """The office answered a push 410: it no longer holds what this computer saw."""


def _said(answer: Any) -> str:
    """The server's message in an error answer."""
    return str(answer.get("message") or answer.get("error")) if isinstance(answer, dict) else "?"


def _about_the_op(answer: Any) -> bool:
    """Whether a 422 names a field of an op (not of the batch around it)."""
    field = answer.get("field") if isinstance(answer, dict) else None
    return isinstance(field, str) and field.startswith("ops")


def _refused_alone(op_id: str, status: int, answer: Any) -> dict[str, Any]:
    """A single op the server refuses outright (too large, invalid): kept as rejected, with why."""
    detail = answer.get("message") if isinstance(answer, dict) else None
    if status == 413:
        return {
            "op_id": op_id,
            "status": "rejected",
            "reason": "too_large",
            "message": "此更改过大，服务器无法接收 / This change is too large for the server"
            + (f" ({detail})" if detail else ""),
        }
    return {
        "op_id": op_id,
        "status": "rejected",
        "reason": "invalid",
        "message": str(detail or "服务器认为此更改无效 / The server finds this change invalid"),
    }
