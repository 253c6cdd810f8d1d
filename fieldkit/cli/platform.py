"""`fieldkit server import-platform | import-courses | report`: the platform's side of the office."""

from __future__ import annotations

import argparse
from pathlib import Path

from .exits import ExitCode
from .server import _fail, _open, _run_import, _say


def cmd_import_platform(args: argparse.Namespace) -> int:
    """Import the platform's export: each step's platform reading and the trade."""
    from fieldkit.server.platform import import_platform

    return _run_import(args, import_platform)


def cmd_import_courses(args: argparse.Namespace) -> int:
    """Import the platform's course list, each course checked by the prepaid-fee rules."""
    from fieldkit.server.courses import import_courses

    return _run_import(args, import_courses)


def cmd_report(args: argparse.Namespace) -> int:
    """Write the office's report of a division as .xlsx."""
    from fieldkit import domain
    from fieldkit.server.report import ReportError, write_report

    store = _open(args)
    try:
        rows = write_report(store, args.division, Path(args.xlsx))
    except ReportError as exc:
        return _fail(exc.zh, exc.en, code=ExitCode(exc.code))
    finally:
        store.close()
    _say(
        f"已写入 {domain.full_name(args.division)} 的报表：{rows} 个下级区划，文件 {args.xlsx}",
        f"wrote the report of {args.division}: {rows} divisions, file {args.xlsx}",
    )
    return ExitCode.OK
