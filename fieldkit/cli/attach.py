"""`fieldkit attach (--visit ID | --check ID | --case ID) FILE...`: evidence, as the app attaches it."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from cache.errors import CacheError
from cache.store import Store
from fieldkit import config, domain
from fieldkit.domain.evidence import RECORD_NAMES
from fieldkit.evidence import limits, prepare
from fieldkit.evidence.inbox import SUFFIXES

EXIT_OK, EXIT_REFUSED, EXIT_ERROR = 0, 1, 2


def cmd_attach(args: argparse.Namespace) -> int:
    """Attach each file (or each photo of a folder) to the record; 0 only if all were kept."""
    kind, record_id, item = target_of(args)
    try:
        settings = config.load(args.profile)
        store = Store.open(settings.cache_path)
    except (CacheError, config.ConfigError) as exc:
        _err(str(exc))
        return EXIT_ERROR
    by = settings.technician.id if settings.technician else ""
    refused = 0
    with store:
        for path in expand(args.files):
            try:
                row = attach_file(store, kind, record_id, item, path, by)
            except domain.DomainError as exc:
                refused += 1
                _err(f"✗ {path.name}: {exc.zh}\n  {exc.en}")
                continue
            except CacheError as exc:
                _err(f"✗ {path.name}: {exc}")
                return EXIT_ERROR
            print(describe(row, kind))
            if row.get("warning"):
                _err(f"! {row['warning']}")
    if refused:
        _err(
            f"{refused} 个文件未附上，其余已保存 / {refused} files were not attached; "
            "the others are saved"
        )
    return EXIT_REFUSED if refused else EXIT_OK


def target_of(args: argparse.Namespace) -> tuple[str, str, int | None]:
    """(record kind, record id, case item index or None) from --visit / --check / --case."""
    if args.visit:
        return "visit", args.visit, None
    if args.check:
        return "check", args.check, None
    text, _, number = str(args.case).partition(":")
    item = args.item if args.item is not None else (int(number) if number.isdigit() else None)
    return "case", text, None if item is None else item - 1  # people count items from 1


def expand(files: list[str]) -> list[Path]:
    """The files given, a folder standing for the photos and PDFs in it (by name)."""
    found: list[Path] = []
    for name in files:
        path = Path(name).expanduser()
        if path.is_dir():
            found += sorted(p for p in path.iterdir() if p.suffix.lower() in SUFFIXES)
        else:
            found.append(path)
    return found


def attach_file(
    store: Store, kind: str, record_id: str, item: int | None, path: Path, by: str
) -> dict:
    """Prepare one file (reduce, read EXIF, hash) and keep it with its record."""
    prepared = prepare(path)
    return store.attach(kind, record_id, prepared.data, prepared.wire(), item=item, by=by)


def describe(row: dict, kind: str) -> str:
    """One line for an attached file, in both languages."""
    zh, en = RECORD_NAMES[kind]
    target = row["record_id"][:8] + (f" #{row['item'] + 1}" if row.get("item") is not None else "")
    size = limits.mib(int(row["size"]))
    shape = f"{row['width']}×{row['height']}, " if row.get("width") else ""
    taken = f", {row['taken_at']}" if row.get("taken_at") else ""
    place = f", {row['lat']:.5f},{row['lon']:.5f}" if row.get("lat") is not None else ""
    if row.get("already"):
        return f"= {row['name']}: 已附在{zh} {target} / already on {en} {target}"
    return (
        f"✓ {row['name']} → {zh} {target}（{shape}{size}{taken}{place}，sha256 "
        f"{row['sha256'][:12]}，未发送） / attached to {en} {target} ({shape}{size}{taken}"
        f"{place}), unsent"
    )


def _err(text: str) -> None:
    print(text, file=sys.stderr)
