"""`fieldkit login | sync | status | export visits`: the sync client from the command line."""

from __future__ import annotations

import argparse
import asyncio
import csv
import getpass
import json
import logging
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from cache.errors import CacheDamaged, CacheError, NotAFieldkitCache
from cache.salvage import SalvageReport, open_or_salvage, salvage
from cache.store import Store
from fieldkit import config, domain, logs, profiles
from fieldkit.cli.exits import ExitCode
from fieldkit.config import ConfigError, NotLoggedIn, Settings
from fieldkit.sync import SyncClient, SyncError, login
from fieldkit.sync.http import normalise_url, tls_context

EXIT_OK = ExitCode.OK
EXIT_FAILED = ExitCode.FAILED

VISIT_COLUMNS = (
    "visit_id",
    "institution_id",
    "institution_name",
    "technician_id",
    "kind",
    "started_at",
    "ended_at",
    "outcome",
    "steps_advanced",
    "issues",
    "rectification_items",
    "rectification_deadline",
    "interview_recommended",
    "next_visit_on",
    "notes",
    "sync_state",
    "evidence",  # the visit's files: name (state, first characters of the SHA-256); …
)

log = logging.getLogger(__name__)
SHOWN_REJECTED = 20
REPAIR_HINT = (
    "运行 fieldkit sync 可修复：把该文件改名保留（不会删除），抢救其中未发送的更改，再从办公室重新下载。 / "
    "`fieldkit sync` repairs this: it keeps the file aside (renamed, never deleted), rescues the "
    "unsent changes it can read, and downloads the rest from the office again."
)
PHASES = {"push": ("发送", "sending"), "pull": ("接收", "receiving")}
UPLOAD_PHASE = ("上传文件", "uploading files")


def _err(text: str) -> None:
    print(text, file=sys.stderr)


def exit_code_for(exc: Exception) -> ExitCode:
    """The exit status that tells a script what kind of failure this was."""
    if isinstance(exc, NotLoggedIn):
        return ExitCode.NOT_LOGGED_IN
    if isinstance(exc, CacheError):
        return ExitCode.CACHE_UNUSABLE
    if isinstance(exc, SyncError):
        by_kind = {"offline": ExitCode.OFFLINE, "auth": ExitCode.NOT_LOGGED_IN}
        return by_kind.get(exc.kind, ExitCode.FAILED)
    return ExitCode.FAILED


def _read_token(token_file: str | None) -> str:
    """The token from a file, from stdin ('-'), or asked for without echo; none is an error."""
    if token_file == "-":
        token = sys.stdin.readline().strip()
    elif token_file:
        try:
            token = Path(token_file).read_text("utf-8").strip()
        except OSError as exc:
            raise ConfigError(
                f"无法读取令牌文件 {token_file}（{exc}） / "
                f"Cannot read the token file {token_file} ({exc})"
            ) from None
    else:
        try:
            token = (
                getpass.getpass("令牌 / Token: ")
                if sys.stdin is not None and sys.stdin.isatty()
                else sys.stdin.readline()  # piped in (`… | fieldkit login URL`), or nothing at all
            ).strip()
        except EOFError:
            token = ""
    if not token:
        raise ConfigError(
            "没有收到令牌。请在终端中运行并粘贴令牌，或用 --token-file 文件（'-' 表示标准输入）。 / "
            "No token was given: run this in a terminal and paste it, or use --token-file F "
            "('-' reads standard input)."
        )
    return token


def cmd_login(args: argparse.Namespace) -> int:
    """Check the token with the office, pin its key and save the profile."""
    profile = profiles.for_login(args.profile)  # a real office's login never lands in a demo
    try:  # what the user gave, checked before the office is asked: refused values exit 5
        normalise_url(args.url)  # a mistyped address is said before the token is asked for
        if args.ca:
            tls_context(args.ca)
        token = _read_token(args.token_file)
    except (SyncError, ConfigError) as exc:
        _err(f"登录失败 / Login failed: {exc}")
        return ExitCode.BAD_INPUT
    try:
        settings = asyncio.run(login(args.url, token, profile, args.ca))
    except (SyncError, ConfigError) as exc:
        _err(f"登录失败 / Login failed: {exc}")
        return exit_code_for(exc)
    # Only the app opening a profile makes it the one later commands use (fieldkit.profiles).
    _say_how_to_use(settings.profile)
    tech = settings.technician
    assert tech is not None
    role = "督导" if tech.role == "supervisor" else "技术员"
    print(
        f"已登录 {settings.office_name}：{tech.name}（{role}，{tech.id}，片区 {tech.zone}），"
        f"配置 {settings.profile} / Logged in to {settings.server_url} as {tech.name} "
        f"({tech.role}, zone {tech.zone}), profile {settings.profile}"
    )
    print(f"办公室公钥已记录 / Office key pinned: {settings.office_public_key}")
    return EXIT_OK


def _say_how_to_use(profile: str) -> None:
    """When commands without --profile would act on another profile, say how to reach this one."""
    current = profiles.current()  # read once: the message names the profile it compared
    if current == profile:
        return
    print(
        f"未写 --profile 的命令仍使用配置 {current}；要使用刚登录的配置，请打开应用："
        f"fieldkit --profile {profile}（之后的命令随之使用它），或在命令中写 --profile {profile} / "
        f"Commands without --profile still use profile {current}; to use this one, open "
        f"the app with `fieldkit --profile {profile}` (later commands follow it), or add "
        f"--profile {profile} to a command.",
        file=sys.stderr,
    )


@contextmanager
def _open_store(settings: Settings) -> Iterator[Store]:
    """The profile's cache, closed afterwards."""
    store = Store.open(settings.cache_path)
    try:
        yield store
    finally:
        store.close()


def _logged_in(profile: str) -> tuple[Settings, str]:
    """The profile's settings and token, or NotLoggedIn saying which profile and what to do."""
    profiles.tell_if_chosen(profile)
    return profiles.logged_in(profile), config.load_token(profile)


def cmd_sync(args: argparse.Namespace) -> int:
    """Push then pull with progress; 0 only when everything was sent and pulled.

    A damaged cache is repaired on the way: kept aside (renamed), its readable unsent changes
    rescued into a fresh cache, which this round fills again from the office. A cache from a
    newer fieldkit is left untouched.
    """
    try:
        settings, token = _logged_in(args.profile)
        try:
            return _sync_repairing(settings, token, args.quiet)
        except CacheDamaged as exc:  # found during the round, not at opening
            _explain_salvage(salvage(settings.cache_path, exc.detail))
            return _sync_repairing(settings, token, args.quiet)
    except (ConfigError, CacheError) as exc:
        _err(str(exc))
        return exit_code_for(exc)
    except OSError as exc:  # the damaged file could not be set aside (Windows: still open)
        _err(
            f"无法处理本地缓存文件（{exc}）。文件未被改动。请关闭所有正在使用它的 fieldkit"
            "（包括应用）后再次运行 fieldkit sync。 / "
            f"Cannot handle the local cache file ({exc}); it was left as it was. Close every "
            "fieldkit using it (the app too) and run `fieldkit sync` again."
        )
        return ExitCode.CACHE_UNUSABLE


def _sync_repairing(settings: Settings, token: str, quiet: bool) -> int:
    """Open the cache (salvaging a damaged one) and run one round."""
    store, report = open_or_salvage(settings.cache_path)
    try:
        if report is not None:
            _explain_salvage(report)
        return asyncio.run(_sync(settings, store, token, quiet=quiet))
    finally:
        store.close()


def _explain_salvage(report: SalvageReport) -> None:
    """Tell the technician what happened to a damaged cache, in both languages."""
    _err(report.message("zh"))
    _err(report.message("en"))


def _progress(quiet: bool) -> Any:
    """A progress callback printing each phase in both languages (silent with --quiet)."""

    shown = {"upload": -1}

    def report(phase: str, done: int, total: int) -> None:
        """One line per step: sending done/total, receiving done, uploads every tenth."""
        if quiet or (phase == "push" and not total):
            return
        if phase == "upload":
            tenth = done * 10 // total if total else 10
            if tenth != shown["upload"]:
                shown["upload"] = tenth
                zh, en = UPLOAD_PHASE
                amount = f"{done / 1048576:.1f}/{total / 1048576:.1f} MiB"
                print(f"{zh} {amount} / {en} {amount}", flush=True)
            return
        zh, en = PHASES.get(phase, (phase, phase))
        of = f"/{total}" if total else ""
        print(f"{zh} {done}{of} / {en} {done}{of}", flush=True)

    return report


async def _sync(settings: Settings, store: Store, token: str, *, quiet: bool) -> int:
    """One round, its outcome in words."""
    client: SyncClient | None = None
    try:
        client = SyncClient(settings, store, token)
        result = await client.run_round(_progress(quiet))
    except SyncError as exc:
        unsent = store.counts().get("unsent", 0)
        log.warning("sync not finished (%s), %d unsent: %s", exc.kind, unsent, exc.en)
        _err(f"同步未完成 / Sync not finished ({exc.kind}): {exc}")
        _err(f"未发送 / unsent: {unsent}")
        return exit_code_for(exc)
    finally:
        if client is not None:
            await client.aclose()
    for lang in ("zh", "en"):
        warning = client.clock_warning(lang)
        if warning:
            _err(warning)
    counts = store.counts()
    print(
        f"完成：发送 {result.pushed}（新 {result.applied}，重复 {result.duplicate}，拒绝 "
        f"{result.rejected}），接收 {result.pulled} / Done: sent {result.pushed} (applied "
        f"{result.applied}, duplicate {result.duplicate}, rejected {result.rejected}), "
        f"received {result.pulled}"
    )
    code = _report_uploads(store, result.uploads)
    if counts.get("rejected"):
        _err(
            f"有 {counts['rejected']} 项更改被服务器拒绝，请在应用中处理（修改后重做或丢弃） / "
            f"{counts['rejected']} changes were rejected by the server; settle them in the app "
            "(redo them differently, or discard them)"
        )
        for op in store.rejected_ops()[:SHOWN_REJECTED]:
            _err(f"  {op['institution_id']} {op['kind']}: {op.get('message') or op.get('reason')}")
    if counts.get("unsent"):
        _err(
            f"仍有 {counts['unsent']} 项未发送，请再次同步 / "
            f"{counts['unsent']} changes are still unsent; sync again"
        )
        return EXIT_FAILED
    return code


def _report_uploads(store: Store, uploads: Any) -> int:
    """Say what the file uploads did; EXIT_FAILED while files still wait or were refused."""
    if uploads.files:
        print(
            f"文件：{uploads.files} 个已在办公室（其中 {uploads.skipped} 个办公室已有，未重复发送）"
            f" / files: {uploads.files} now at the office ({uploads.skipped} it already had, "
            "not sent again)"
        )
    usage = store.evidence_usage()
    if usage["waiting"]:
        _err(
            f"仍有 {usage['waiting']} 个文件未上传（{usage['waiting_bytes'] / 1048576:.1f} MiB），"
            f"请再次同步 / {usage['waiting']} files are not uploaded yet "
            f"({usage['waiting_bytes'] / 1048576:.1f} MiB): sync again"
        )
        for row in store.attachments():
            if row["upload_error"] and not row["at_office"]:
                _err(f"  {row['name']}: {row['upload_error']}")
        return EXIT_FAILED
    return EXIT_OK


def status_report(settings: Settings, store: Store | None) -> dict[str, Any]:
    """What `fieldkit status` shows, as a dict (the --json shape)."""
    tech = settings.technician
    report: dict[str, Any] = {
        "profile": settings.profile,
        "server": settings.server_url,
        "office": settings.office_name,
        "technician": (
            {"id": tech.id, "name": tech.name, "role": tech.role, "zone": tech.zone}
            if tech
            else None
        ),
        "last_sync": None,
        "unsent": 0,
        "rejected": 0,
        "counts": {},
        "rejected_ops": [],
        "log_file": str(logs.client_log()),
    }
    if store is not None:
        counts = store.counts()
        report.update(
            last_sync=store.get_meta("last_sync"),
            unsent=counts.get("unsent", 0),
            rejected=counts.get("rejected", 0),
            counts=counts,
            rejected_ops=[
                {k: op.get(k) for k in ("op_id", "kind", "institution_id", "reason", "message")}
                for op in store.rejected_ops()
            ],
            evidence=store.evidence_usage(),
        )
    return report


def cmd_status(args: argparse.Namespace) -> int:
    """Server, technician, last sync, unsent and rejected ops, counts (no network needed).

    A profile without a login is shown as such and exits 3 with the sentence saying what to do.
    """
    try:
        settings = config.load(args.profile)
        if settings.cache_path.exists():
            with _open_store(settings) as store:
                problem = store.quick_check()
                if problem is not None:
                    raise CacheDamaged(settings.cache_path, problem)
                report = status_report(settings, store)
        else:
            report = status_report(settings, None)
    except NotAFieldkitCache as exc:  # damaged (or not a cache): say how `sync` repairs it
        _err(str(exc))
        if not isinstance(exc, CacheDamaged):
            _err(REPAIR_HINT)
        return ExitCode.CACHE_UNUSABLE
    except (ConfigError, CacheError) as exc:
        _err(str(exc))
        return exit_code_for(exc)
    report["profile_chosen_by"] = getattr(args.profile, "chosen_by", profiles.GIVEN)
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=2))
    else:
        _print_status(report)
    if not settings.logged_in:
        _err(str(profiles.not_logged_in(settings.profile)))
        return ExitCode.NOT_LOGGED_IN
    return EXIT_OK


def _print_status(report: dict[str, Any]) -> None:
    tech = report["technician"]
    how = {
        profiles.LAST_OPENED: ("应用上次打开的配置", "the one the app last opened"),
        profiles.ENVIRONMENT: ("环境变量 FIELDKIT_PROFILE", "from FIELDKIT_PROFILE"),
    }.get(report["profile_chosen_by"])
    line = f"配置 / Profile: {report['profile']}"
    if how:
        line += f" （{how[0]}；用 --profile 名称 选择其他） / ({how[1]}; --profile NAME chooses another)"
    print(line)
    print(f"服务器 / Server: {report['server'] or '（未登录 / not logged in）'}")
    if tech:
        print(f"技术员 / Technician: {tech['name']} ({tech['id']}, {tech['role']}, {tech['zone']})")
    print(f"上次同步 / Last sync: {_local_time(report['last_sync']) or '从未 / never'}")
    print(f"未发送 / Unsent: {report['unsent']}")
    print(f"被拒绝 / Rejected: {report['rejected']}")
    files = report.get("evidence") or {}
    if files.get("files"):
        print(
            f"证据文件 / Evidence files: {files['files']}（{files['bytes'] / 1048576:.1f} MiB），"
            f"待上传 / to upload: {files['waiting']}（{files['waiting_bytes'] / 1048576:.1f} MiB）"
        )
    for op in report["rejected_ops"]:
        print(f"  {op['institution_id']} {op['kind']}: {op['message']} ({op['reason']})")
    counts = report["counts"]
    if counts:
        print(
            f"机构 / Institutions: {counts.get('institutions', 0)}  "
            f"走访 / Visits: {counts.get('visits', 0)}"
        )
    print(f"日志 / Log: {report['log_file']}")


def _local_time(stamp: str | None) -> str | None:
    """An ISO timestamp in this computer's time zone, to the second (as the technician reads it)."""
    if not stamp:
        return None
    try:
        moment = datetime.fromisoformat(stamp)
    except ValueError:
        return stamp
    if moment.tzinfo is not None:
        moment = moment.astimezone()
    return moment.isoformat(sep=" ", timespec="seconds")


def cmd_export_visits(args: argparse.Namespace) -> int:
    """Every visit in the cache as CSV (UTF-8 with BOM, so Excel reads the Chinese)."""
    try:
        profiles.tell_if_chosen(args.profile)
        settings = profiles.logged_in(args.profile)
        rows: list[dict[str, Any]] = []
        if settings.cache_path.exists():  # (no cache yet: nothing to export, and none is made)
            with _open_store(settings) as store:
                rows = [_visit_row(store, v) for v in store.visits()]
    except (ConfigError, CacheError) as exc:
        _err(str(exc))
        return exit_code_for(exc)
    target = Path(args.csv)
    try:
        with target.open("w", encoding="utf-8-sig", newline="") as out:
            writer = csv.DictWriter(out, fieldnames=VISIT_COLUMNS)
            writer.writeheader()
            writer.writerows(rows)
    except OSError as exc:
        _err(f"无法写入 {target}（{exc}） / Cannot write {target} ({exc})")
        return EXIT_FAILED
    visits = "1 visit" if len(rows) == 1 else f"{len(rows)} visits"
    print(f"已导出 {len(rows)} 条走访记录到 {target} / Exported {visits} to {target}")
    return EXIT_OK


def _visit_row(store: Store, visit: dict[str, Any]) -> dict[str, Any]:
    """One CSV row: lists joined with '；', the institution's name alongside its id, the steps
    named in both languages (as the yes/no cells are)."""
    inst = store.institution(visit.get("institution_id") or "") or {}
    rect = visit.get("rectification") or {}
    row = {key: visit.get(key) for key in VISIT_COLUMNS}
    row.update(
        institution_name=inst.get("name", ""),
        steps_advanced="；".join(_step_names(visit.get("steps_advanced") or ())),
        issues="；".join(visit.get("issues") or ()),
        rectification_items="；".join(rect.get("items") or ()),
        rectification_deadline=rect.get("deadline") or "",
        interview_recommended="是 yes" if visit.get("interview_recommended") else "否 no",
        evidence="；".join(
            f"{a['name']}（{a['state']}，{a['sha256'][:12]}）"
            for a in store.attachments(institution_id=visit.get("institution_id") or "")
            if a["record_id"] == visit.get("visit_id")
        ),
    )
    return {k: "" if v is None else _cell(v) for k, v in row.items()}


def _step_names(keys: Iterable[str]) -> list[str]:
    """'平台注册 Platform registration' for each step key (an unknown key as it is)."""
    steps = domain.STEPS_BY_KEY
    return [f"{steps[k].zh} {steps[k].en}" if k in steps else k for k in keys]


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: Any) -> Any:
    """A CSV cell Excel shows as typed: text that would start a formula gets a leading '."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return f"'{value}"
    return value
