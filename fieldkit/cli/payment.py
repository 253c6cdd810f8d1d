"""`fieldkit qr`, `fieldkit posters` and `fieldkit check-code`: payment codes from the profile's cache."""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path

from cache import CacheError, Store
from fieldkit import config, domain, paths, profiles
from fieldkit.cli.exits import ExitCode
from fieldkit.documents import DocumentError
from fieldkit.evidence.annex import AnnexFile, add_annex, read_local
from fieldkit.notices import render_rectification_notice
from fieldkit.payment.fonts import FontMissing
from fieldkit.payment.posters import (
    Page,
    Poster,
    PosterError,
    render_poster,
    save_pdf,
    save_png,
)
from fieldkit.payment.qr import (
    PaymentCodeRefused,
    QRDecodeError,
    classify,
    decode_image,
    verified_payload,
)

EXIT_OK, EXIT_ERROR, EXIT_MISMATCH = ExitCode.OK, ExitCode.FAILED, ExitCode.MISMATCH
# Refusals that mean the local copy cannot be trusted: nothing is compared against it.
UNTRUSTED = ("tampered", "unsigned", "no_office_key")


class CommandError(Exception):
    """A command cannot go on; .zh/.en say what to do, .exit_code what kind of failure it is."""

    def __init__(self, zh: str, en: str, exit_code: ExitCode = ExitCode.FAILED) -> None:
        super().__init__(f"{zh} / {en}")
        self.zh = zh
        self.en = en
        self.exit_code = exit_code


KNOWN_ERRORS = (
    CommandError,
    PaymentCodeRefused,
    PosterError,
    FontMissing,
    QRDecodeError,
    CacheError,
    config.ConfigError,
    domain.DomainError,
)


def _fail(exc: Exception) -> int:
    """Print an expected failure in both languages, without a traceback."""
    zh, en = getattr(exc, "zh", None), getattr(exc, "en", None)
    print(f"{zh}\n{en}" if zh and en else str(exc), file=sys.stderr)
    return _exit_code(exc)


def _exit_code(exc: Exception) -> ExitCode:
    """What kind of failure an expected error is, for the exit status."""
    if isinstance(exc, CommandError):
        return exc.exit_code
    if isinstance(exc, config.NotLoggedIn):
        return ExitCode.NOT_LOGGED_IN
    if isinstance(exc, CacheError):
        return ExitCode.CACHE_UNUSABLE
    if isinstance(exc, QRDecodeError | domain.DomainError):
        return ExitCode.BAD_INPUT
    return ExitCode.FAILED


def _run(body: Callable[[], int]) -> int:
    """Run a command body, turning expected failures into messages and an exit status."""
    try:
        return body()
    except KNOWN_ERRORS as exc:
        return _fail(exc)


def open_profile(profile: str) -> tuple[config.Settings, Store]:
    """The profile's settings and its cache; a profile without a login is refused (exit 3)."""
    profiles.tell_if_chosen(profile)
    settings = profiles.logged_in(profile)
    return settings, Store.open(settings.cache_path)


def cached_institution(store: Store, inst_id: str) -> dict:
    """An institution of the cache, or a CommandError saying how to get it."""
    inst = store.institution(inst_id.strip().upper())
    if inst is None:
        raise CommandError(
            f"本机缓存中没有机构 {inst_id}。请核对平台编号，或先同步（fieldkit sync）。",
            f"Institution {inst_id} is not in this device's cache. Check the "
            "platform id, or sync first (fieldkit sync).",
            ExitCode.NOT_FOUND,
        )
    return inst


def default_export_path(inst_id: str, size: str, suffix: str, today: date | None = None) -> Path:
    """Where the app puts an exported poster: the fieldkit home's posters folder."""
    stamp = (today or date.today()).isoformat()
    return paths.home() / "posters" / f"{inst_id}-{size}-{stamp}.{suffix}"


def export_poster(
    store: Store,
    institution: dict,
    public_key: str | None,
    size: str,
    path: Path,
    office_name: str | None = None,
    copies: int = 1,
) -> Poster:
    """Render, write (PNG or PDF by suffix) and record one institution's poster."""
    as_pdf = path.suffix.lower() == ".pdf"
    poster = render_poster(institution, public_key, size, issuer=office_name, raster=not as_pdf)
    path.parent.mkdir(parents=True, exist_ok=True)
    if as_pdf:
        save_pdf([poster], path)
    else:
        save_png(poster, path)
    store.record_poster(institution["id"], size, poster.payload_sha256, copies)
    return poster


def send_to_printer(path: Path) -> tuple[bool, str]:
    """Hand a file to the system printer; (done, message in both languages)."""
    try:
        return _print_file(path)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return False, _print_failed(path, str(exc))


def _print_file(path: Path) -> tuple[bool, str]:
    """Send to lp/lpr, or to Windows' print verb; (done, message)."""
    command = shutil.which("lp") or shutil.which("lpr")
    if command:
        done = subprocess.run(
            [command, str(path)], capture_output=True, text=True, timeout=60, check=False
        )
        if done.returncode == 0:
            return True, f"已发送到打印机 / sent to the printer ({Path(command).name})"
        return False, _print_failed(path, (done.stderr or done.stdout).strip())
    if sys.platform == "win32" and hasattr(os, "startfile"):
        os.startfile(str(path), "print")
        return True, "已交给 Windows 打印 / handed to Windows for printing"
    return False, (
        f"本机没有打印命令（lp）。文件已保存在 {path}，请用其他程序打开并打印。\n"
        f"This machine has no print command (lp). The file is saved at {path}; "
        "open it in another program to print."
    )


def _print_failed(path: Path, detail: str) -> str:
    """Why printing failed, and that the file is kept."""
    return (
        f"打印失败：{detail}。文件已保存在 {path}，可用其他程序打印。\n"
        f"Printing failed: {detail}. The file is saved at {path}; print it from another program."
    )


# ---------------------------------------------------------------- fieldkit qr


def cmd_qr(args: argparse.Namespace) -> int:
    """fieldkit qr ID --png F | --pdf F [--size] [--print]."""
    return _run(lambda: _qr(args))


def _qr(args: argparse.Namespace) -> int:
    settings, store = open_profile(args.profile)
    with store:
        inst = cached_institution(store, args.institution_id)
        path = Path(args.pdf or args.png)
        named = (
            f"{inst['name']}，{inst['id']}，{args.size}",
            f"{inst['name']}, {inst['id']}, {args.size}",
        )
        verified_payload(inst, settings.office_public_key)  # a refusal comes before "writing"
        if sys.stderr is not None and sys.stderr.isatty():  # a second or two with nothing shown
            print(f"正在生成 {path}（{named[0]}）… / writing {path} ({named[1]})…", file=sys.stderr)
        export_poster(
            store, inst, settings.office_public_key, args.size, path, settings.office_name
        )
    print(f"已保存 {path}（{named[0]}）/ saved {path} ({named[1]})")
    if args.send_to_printer:
        done, message = send_to_printer(path)
        print(message, file=sys.stdout if done else sys.stderr)
        return EXIT_OK if done else EXIT_ERROR
    return EXIT_OK


# ---------------------------------------------------------------- fieldkit posters


def division_institutions(store: Store, division: str) -> list[dict]:
    """Every cached institution inside a division, in county then name order."""
    found: list[dict] = []
    offset, page = 0, 500
    while True:
        rows = store.assignments(sort="county", limit=page, offset=offset)
        for row in rows:
            if domain.contains(division, row.division_code):
                inst = store.institution(row.id)
                if inst is not None:
                    found.append(inst)
        if len(rows) < page:
            return found
        offset += page


def cmd_posters(args: argparse.Namespace) -> int:
    """fieldkit posters --division CODE --pdf F [--size]: every printable code of a zone."""
    return _run(lambda: _posters(args))


def _posters(args: argparse.Namespace) -> int:
    division = args.division.strip()
    if division not in domain.DIVISIONS:
        raise CommandError(
            f"行政区划代码 {division} 不在湖南省的区划表中（如 430702 或 430700）。",
            f"Division code {division} is not a Hunan division (e.g. 430702 or 430700).",
            ExitCode.BAD_INPUT,
        )
    settings, store = open_profile(args.profile)
    with store:
        institutions = division_institutions(store, division)
        if not institutions:
            raise CommandError(
                f"本机缓存中没有 {domain.full_name(division)} 的机构。请先同步。",
                f"No institutions of {division} in this device's cache. Sync first.",
                ExitCode.NOT_FOUND,
            )
        made: list[tuple[str, str]] = []  # (institution, payload hash): posters are not kept
        skipped: list[tuple[dict, PaymentCodeRefused]] = []
        pages = _printable(institutions, settings, args.size, made, skipped)
        path = Path(args.pdf)
        count = save_pdf(pages, path) if _peek_any(institutions, settings) else 0
        if count == 0:
            raise CommandError(
                f"{domain.full_name(division)} 没有可打印的收款码，未生成文件。",
                f"No printable payment code in {division}; no file written.",
            )
        for institution_id, payload_sha256 in made:
            store.record_poster(institution_id, args.size, payload_sha256)
    print(
        f"已写入 {count} 页到 {path}；跳过 {len(skipped)} 家 / wrote {count} pages to {path}; "
        f"skipped {len(skipped)}"
    )
    for inst, refused in skipped:
        print(f"  跳过 skipped {inst['id']} {inst['name']}: {refused.zh} / {refused.en}")
    return EXIT_OK


def _peek_any(institutions: list[dict], settings: config.Settings) -> bool:
    """Whether at least one institution has a verified payload (so a file is worth starting)."""
    for inst in institutions:
        try:
            verified_payload(inst, settings.office_public_key)
        except PaymentCodeRefused:
            continue
        return True
    return False


def _printable(
    institutions: list[dict],
    settings: config.Settings,
    size: str,
    made: list[tuple[str, str]],
    skipped: list[tuple[dict, PaymentCodeRefused]],
) -> Iterator[Page]:
    """Render posters one at a time with a progress line each, noting the refused ones."""
    total = len(institutions)
    for number, inst in enumerate(institutions, 1):
        try:
            poster = render_poster(
                inst, settings.office_public_key, size, issuer=settings.office_name, raster=False
            )
        except PaymentCodeRefused as refused:
            skipped.append((inst, refused))
            print(
                f"[{number}/{total}] {inst['id']} {inst['name']} — 跳过 skipped: {refused.zh}",
                flush=True,
            )
            continue
        made.append((poster.institution_id, poster.payload_sha256))
        print(f"[{number}/{total}] {inst['id']} {inst['name']} ✓", flush=True)
        yield poster


# ---------------------------------------------------------------- fieldkit check-code


def cmd_check_code(args: argparse.Namespace) -> int:
    """fieldkit check-code ID --text T | --image F: exit 0 for the supervised code, 8 otherwise."""
    return _run(lambda: _check_code(args))


def _check_code(args: argparse.Namespace) -> int:
    settings, store = open_profile(args.profile)
    with store:
        inst = cached_institution(store, args.institution_id)
        expected, note = expected_payload(inst, settings.office_public_key)
        text = decode_image(args.image) if args.image else args.text
        check = classify(text, expected, inst["id"])
        store.record_qr_check(inst["id"], None, check.result, check.found, check.content_sha256)
    if note:
        print(f"{note.zh}\n{note.en}")
    print(f"{check.zh}\n{check.en}")
    return EXIT_OK if check.is_match else EXIT_MISMATCH


def expected_payload(
    inst: dict, public_key: str | None
) -> tuple[str | None, PaymentCodeRefused | None]:
    """The verified payload to compare with, or None with the reason; an untrusted copy raises."""
    try:
        return verified_payload(inst, public_key), None
    except PaymentCodeRefused as refused:
        if refused.code in UNTRUSTED:
            raise
        return None, refused


# ---------------------------------------------------------------- fieldkit notice


def find_visit(store: Store, visit_id: str) -> dict:
    """The cached visit whose id is (or starts with) visit_id; a CommandError if none or several."""
    wanted = domain.typed_id(visit_id).lower()  # `#F51194C5`, as the app shows it, too
    found = [v for v in store.visits() if str(v["visit_id"]).lower().startswith(wanted)]
    if not wanted or len(found) != 1:
        many = bool(wanted) and len(found) > 1
        shown = f"#{wanted.upper()}" if wanted else "“”"
        raise CommandError(
            f"{'有多次走访' if many else '本机没有走访'}以 {shown} 开头。"
            "请给出更完整的走访编号（走访页每条走访前的 #编号）。",
            f"{'Several visits' if many else 'No visit'} on this device "
            f"{'start' if many else 'starts'} with {shown}. "
            "Give more of the visit id (the #number before each visit on the Visits tab).",
            ExitCode.BAD_INPUT if many else ExitCode.NOT_FOUND,
        )
    return found[0]


def export_notice(
    store: Store, settings: config.Settings, visit: dict, path: Path, today: date | None = None
) -> int:
    """Write a visit's rectification notice as an A4 PDF; returns the page count."""
    inst = store.institution(visit["institution_id"]) or {"id": visit["institution_id"]}
    tech = settings.technician
    technician = (
        tech.name
        if tech and tech.id == visit.get("technician_id")
        else str(visit.get("technician_id") or "")
    )
    notice = render_rectification_notice(inst, visit, technician, today, settings.office_name)
    add_annex(notice, *evidence_of(store, visit))
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        return notice.save(path)
    except DocumentError as exc:
        raise CommandError(exc.zh, exc.en) from exc


def evidence_of(store: Store, visit: dict) -> tuple[list[AnnexFile], str, list[str]]:
    """The files of a visit, its code checks and its case items, for the notice's annex."""
    visit_id = visit["visit_id"]
    checks = {
        e["event_id"]
        for e in store.events(visit["institution_id"])
        if e["kind"] == "qr.checked" and e.get("visit_id") == visit_id
    }
    rows = [
        r
        for r in store.attachments(institution_id=visit["institution_id"])
        if (r["record_kind"] in ("visit", "case") and r["record_id"] == visit_id)
        or (r["record_kind"] == "check" and r["record_id"] in checks)
    ]
    files = [AnnexFile(r, read_local(store.local_file(r["sha256"]))) for r in rows]
    items = list((visit.get("rectification") or {}).get("items") or [])
    return files, str(visit_id)[:8].upper(), items


def cmd_notice(args: argparse.Namespace) -> int:
    """fieldkit notice VISIT_ID --pdf F [--print]: the 整改通知书 to hand over on site."""
    return _run(lambda: _notice(args))


def _notice(args: argparse.Namespace) -> int:
    settings, store = open_profile(args.profile)
    path = Path(args.pdf)
    with store:
        visit = find_visit(store, args.visit_id)
        pages = export_notice(store, settings, visit, path)
    print(
        f"已保存整改通知书 {path}（{pages} 页）/ saved the rectification notice {path} "
        f"({pages} page{'s' if pages > 1 else ''})"
    )
    if args.send_to_printer:
        done, message = send_to_printer(path)
        print(message, file=sys.stdout if done else sys.stderr)
        return EXIT_OK if done else EXIT_ERROR
    return EXIT_OK
