"""The `fieldkit` command line: parses every command here, runs each in the module that owns it."""

from __future__ import annotations

import argparse
import gc
import importlib
import logging
import os
import sys
from collections.abc import Sequence

from fieldkit import __version__, config, logs, profiles
from fieldkit.cli import exits
from fieldkit.cli.exits import CommandFailed, ExitCode
from fieldkit.cli.office_parser import add_office_commands
from fieldkit.cli.options import (
    LANGS,
    FieldkitParser,
    add_global_options_everywhere,
    bi,
    localise,
    prescan,
    profile_name,
)

# command name -> (module, function). Each function takes the parsed args and returns an exit code.
HANDLERS: dict[str, tuple[str, str]] = {
    "app": ("screens.start", "run_from_cli"),
    "demo": ("fieldkit.demo", "cmd_demo"),
    "login": ("fieldkit.cli.client", "cmd_login"),
    "sync": ("fieldkit.cli.client", "cmd_sync"),
    "status": ("fieldkit.cli.client", "cmd_status"),
    "export-visits": ("fieldkit.cli.client", "cmd_export_visits"),
    "qr": ("fieldkit.cli.payment", "cmd_qr"),
    "posters": ("fieldkit.cli.payment", "cmd_posters"),
    "check-code": ("fieldkit.cli.payment", "cmd_check_code"),
    "notice": ("fieldkit.cli.payment", "cmd_notice"),
    "attach": ("fieldkit.cli.attach", "cmd_attach"),
    "serve": ("fieldkit.cli.server", "cmd_serve"),
    "server-init": ("fieldkit.cli.server", "cmd_init"),
    "server-seed-demo": ("fieldkit.cli.server", "cmd_seed_demo"),
    "server-import-institutions": ("fieldkit.cli.server", "cmd_import_institutions"),
    "server-add-technician": ("fieldkit.cli.server", "cmd_add_technician"),
    "server-assign": ("fieldkit.cli.server", "cmd_assign"),
    "server-import-bank-results": ("fieldkit.cli.server", "cmd_import_bank_results"),
    # --- issue 16 ---
    "server-cases": ("fieldkit.cli.cases", "cmd_cases"),
    "server-campaign": ("fieldkit.cli.cases", "cmd_campaign"),
    # --- issue 11: the office's tokens and backups ---
    "server-technicians": ("fieldkit.cli.server", "cmd_technicians"),
    "server-revoke": ("fieldkit.cli.server", "cmd_revoke"),
    "server-rotate": ("fieldkit.cli.server", "cmd_rotate"),
    "server-backup": ("fieldkit.cli.server", "cmd_backup"),
    "server-restore": ("fieldkit.cli.server", "cmd_restore"),
    # --- issue 12: the platform's exports, the course list, the office's report ---
    "server-import-platform": ("fieldkit.cli.platform", "cmd_import_platform"),
    "server-import-courses": ("fieldkit.cli.platform", "cmd_import_courses"),
    "server-report": ("fieldkit.cli.platform", "cmd_report"),
}

log = logging.getLogger("fieldkit.cli")
SIZES = ["a4", "a6", "strip"]
SIZE_HELP = bi(
    "版式：a4 海报、a6 桌牌、strip 58毫米热敏小票；默认 %(default)s",
    "layout: a4 poster, a6 desk card, strip 58 mm thermal; default %(default)s",
)
PRINT_HELP = bi("同时发送到系统打印机（lp）", "also send it to the system printer (lp)")


def build_parser(lang: str = "en") -> argparse.ArgumentParser:
    """The whole command line in the interface language, so `--help` needs no command's import.

    Add a command as a block below: `sub.add_parser(name, help=bi(zh, en))`, every argument with
    `help=bi(zh, en)`; `--profile` and `--lang` reach it by themselves (fieldkit.cli.options).
    """
    parser = FieldkitParser(
        prog="fieldkit",
        description=bi(
            "fieldkit — 校外培训机构资金监管下沉式指导工具。--profile 与 --lang 可写在命令前或命令后。",
            "fieldkit — field tool for fund-supervision onboarding. "
            "--profile and --lang go before or after the command.",
        ),
        epilog=bi(exits.table("zh"), exits.table("en")),
    )
    parser.add_argument(
        "--version",
        action="version",
        version=f"fieldkit {__version__}",
        help=bi("显示版本号并退出", "show the version and exit"),
    )
    parser.set_defaults(command="app")
    sub = parser.add_subparsers(
        dest="command",
        metavar="COMMAND",
        help=bi("命令（不写则打开应用）", "command (none: open the app)"),
    )

    demo = sub.add_parser(
        "demo",
        help=bi(
            "在本机启动办公室服务器（生成的湖南省数据），并以技术人员身份打开应用",
            "office server on loopback with the generated province, "
            "and the app logged in as a technician",
        ),
    )
    demo.add_argument(
        "--as",
        dest="as_role",
        choices=["technician", "supervisor"],
        default="technician",
        help=bi("以谁的身份登录：technician 技术员 或 supervisor 督导", "whom to log in as"),
    )
    demo.add_argument(
        "--offline",
        action="store_true",
        help=bi("启动时断开网络（应用中按 F9 切换）", "start with the connection cut (F9 toggles)"),
    )
    demo.add_argument(
        "--reset",
        action="store_true",
        help=bi("丢弃演示数据，重新开始", "throw the demo data away and start over"),
    )

    login = sub.add_parser(
        "login",
        allow_abbrev=False,  # `--token X` must not be read as `--token-file X`
        help=bi(
            "向服务器核对令牌，记录办公室公钥并保存",
            "check the token with the server, pin its key, save",
        ),
    )
    login.add_argument(
        "url",
        metavar="URL",
        help=bi(
            "办公室服务器地址，例如 https://office.example:8400",
            "the office server, e.g. https://office.example:8400",
        ),
    )
    login.add_argument(
        "--token-file",
        metavar="F",
        help=bi(
            "从此文件读取令牌（'-' 表示标准输入），不再询问",
            "read the token from this file ('-' for stdin) instead of asking",
        ),
    )
    login.add_argument(
        "--ca",
        metavar="FILE",
        help=bi(
            "信任办公室自己的 CA 证书（PEM）", "the office's own CA certificate (PEM) to trust"
        ),
    )

    sync = sub.add_parser(
        "sync",
        help=bi(
            "先发送再接收，显示进度；全部完成才返回 0",
            "push then pull, with progress; exit 0 only if done",
        ),
    )
    sync.add_argument("--quiet", action="store_true", help=bi("不显示进度", "no progress lines"))

    status = sub.add_parser(
        "status",
        help=bi(
            "服务器、上次同步、未发送和被拒绝的更改、数量、日志文件",
            "server, last sync, unsent and rejected ops, counts, the log file",
        ),
    )
    status.add_argument(
        "--json", action="store_true", help=bi("输出 JSON（供脚本使用）", "machine-readable output")
    )

    export = sub.add_parser("export", help=bi("导出本地记录", "export local records"))
    export_sub = export.add_subparsers(
        dest="what", metavar="WHAT", required=True, help=bi("导出什么", "what to export")
    )
    visits = export_sub.add_parser(
        "visits", help=bi("缓存中的全部走访", "every visit in the cache")
    )
    visits.add_argument(
        "--csv",
        required=True,
        metavar="F",
        help=bi(
            "写入此 CSV 文件（UTF-8 带 BOM，Excel 可直接打开）", "write CSV (UTF-8 with BOM) here"
        ),
    )
    visits.set_defaults(command="export-visits")

    qr = sub.add_parser(
        "qr",
        help=bi(
            "机构的监管收款码，导出 PNG 或 PDF 海报",
            "an institution's payment code as a PNG or PDF poster",
        ),
    )
    qr.add_argument(
        "institution_id",
        metavar="ID",
        help=bi("机构编号，例如 JG4307020001", "the institution, e.g. JG4307020001"),
    )
    target = qr.add_mutually_exclusive_group(required=True)
    target.add_argument("--png", metavar="F", help=bi("写入 PNG 图片", "write a PNG image here"))
    target.add_argument("--pdf", metavar="F", help=bi("写入 PDF 文件", "write a PDF here"))
    qr.add_argument("--size", choices=SIZES, default="a4", help=SIZE_HELP)
    qr.add_argument("--print", dest="send_to_printer", action="store_true", help=PRINT_HELP)

    posters = sub.add_parser(
        "posters",
        help=bi(
            "一个片区全部可打印的收款码，合成一个 PDF", "all printable codes of a zone in one PDF"
        ),
    )
    posters.add_argument(
        "--division",
        required=True,
        metavar="CODE",
        help=bi(
            "行政区划代码，例如 430702（武陵区）或 430700（常德市）",
            "division code, e.g. 430702 or 430700",
        ),
    )
    posters.add_argument(
        "--pdf", required=True, metavar="F", help=bi("写入 PDF 文件", "write a PDF here")
    )
    posters.add_argument("--size", choices=SIZES, default="a4", help=SIZE_HELP)

    check = sub.add_parser(
        "check-code", help=bi("判断现场发现的二维码是什么", "say what a code found on site is")
    )
    check.add_argument(
        "institution_id",
        metavar="ID",
        help=bi("应张贴该码的机构编号", "the institution whose code it should be"),
    )
    source = check.add_mutually_exclusive_group(required=True)
    source.add_argument(
        "--text",
        help=bi(
            "码的内容（键入、粘贴或扫码枪扫入）", "the code's content, as typed, pasted or scanned"
        ),
    )
    source.add_argument(
        "--image", metavar="F", help=bi("码的照片或截图", "a photo or screenshot of the code")
    )

    notice = sub.add_parser(
        "notice",
        help=bi(
            "走访的整改通知书（A4 PDF）", "a visit's rectification notice (整改通知书) as an A4 PDF"
        ),
    )
    notice.add_argument(
        "visit_id",
        metavar="VISIT_ID",
        help=bi("走访编号（写前几位即可）", "the visit (its first characters do)"),
    )
    notice.add_argument(
        "--pdf", required=True, metavar="F", help=bi("写入 PDF 文件", "write a PDF here")
    )
    notice.add_argument("--print", dest="send_to_printer", action="store_true", help=PRINT_HELP)

    # --- issue 13 ---
    attach = sub.add_parser(
        "attach",
        help=bi(
            "把照片（JPEG、PNG、HEIC）或 PDF 附在走访、核码或整改事项上",
            "attach photos (JPEG, PNG, HEIC) or PDFs to a visit, a code check or a case item",
        ),
        description=bi(
            "照片缩小（长边 2048 像素，按拍摄方向摆正），保留 EXIF 时间和位置，随记录保存，"
            "记录同步后上传。文件夹代表其中的照片。",
            "Images are reduced (long side 2048 px, orientation applied), keep their EXIF time "
            "and place, and are saved with the record; they upload after the record syncs. A "
            "folder stands for the photos in it.",
        ),
    )
    record = attach.add_mutually_exclusive_group(required=True)
    record.add_argument(
        "--visit",
        metavar="ID",
        help=bi("走访（输入前几位即可）", "the visit (its first characters do)"),
    )
    record.add_argument("--check", metavar="ID", help=bi("现场核码记录", "the on-site code check"))
    record.add_argument(
        "--case",
        metavar="ID[:ITEM]",
        help=bi("整改案件（开出通知书的走访）", "a case (the visit whose notice opened it)"),
    )
    attach.add_argument(
        "--item",
        type=int,
        metavar="N",
        help=bi("整改事项序号，从 1 开始（或 ID:N）", "the case item, counted from 1 (or ID:N)"),
    )
    attach.add_argument(
        "files",
        nargs="+",
        metavar="FILE",
        help=bi("文件或照片文件夹", "files or folders of photos"),
    )

    add_office_commands(sub)

    add_global_options_everywhere(parser)
    localise(parser, lang)
    return parser


def interface_language(argv: Sequence[str]) -> str:
    """--lang if given, else the saved language of the profile the command will act on (named,
    else FIELDKIT_PROFILE, else the one the app last opened), else the system's ('zh' or 'en')."""
    lang = prescan(argv, "--lang")
    if lang in LANGS:
        return lang
    profile = prescan(argv, "--profile") or profiles.current()
    try:
        saved = config.load(profile).language
    except config.ConfigError:
        saved = config.system_language()
    return saved if saved in LANGS else "en"


def parse_command_line(words: list[str]) -> argparse.Namespace:
    """The parsed command line; plain `fieldkit` (the app) without building every command's
    parser, which would add ~20 ms to each start (benchmarks/bench_app.py)."""
    if not words:
        try:
            return argparse.Namespace(
                command=None, profile=profile_name(profiles.current()), lang=None
            )
        except argparse.ArgumentTypeError:
            pass  # a bad FIELDKIT_PROFILE: the parser says so, as for any other command line
    return build_parser(interface_language(words)).parse_args(words)


def _utf8_output() -> None:
    """Write UTF-8 even where the console or a redirect defaults to a legacy code page (Windows)."""
    for stream in (sys.stdout, sys.stderr):
        encoding = (getattr(stream, "encoding", None) or "").lower().replace("-", "")
        if encoding != "utf8" and hasattr(stream, "reconfigure"):
            stream.reconfigure(encoding="utf-8", errors="replace")


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the command line and run the command; returns the exit status."""
    _utf8_output()
    words = list(sys.argv[1:] if argv is None else argv)
    try:
        args = parse_command_line(words)
    except SystemExit as exc:  # --help, --version (0) or a wrong command line (2)
        gc.enable()
        return int(exc.code or 0) if not isinstance(exc.code, str) else int(ExitCode.USAGE)
    if args.lang:
        os.environ["FIELDKIT_LANG"] = args.lang  # for whatever this command starts
    log_file = logs.setup_client()
    command = args.command or "app"  # no command: the subparsers leave None, not the default
    if command == "server":
        command = f"server-{args.server_command}"
    module_name, function_name = HANDLERS[command]
    log.info("fieldkit %s: %s (profile %s)", __version__, command, args.profile)
    try:
        handler = getattr(importlib.import_module(module_name), function_name)
        if command != "app":
            gc.enable()  # paused while loading (fieldkit.command); the app resumes it once drawn
        code = int(handler(args) or 0)
    except CommandFailed as failed:
        print(f"错误：{failed.zh} / Error: {failed.en}", file=sys.stderr)
        code = failed.exit_code
    except KeyboardInterrupt:
        print("中断 / interrupted", file=sys.stderr)
        code = ExitCode.INTERRUPTED
    except Exception as exc:  # a bug: its traceback goes to the log, not over the user's screen
        log.exception("%s failed unexpectedly", command)
        where = log_file or "（无日志 / no log）"
        print(
            f"意外错误（{type(exc).__name__}），未完成；已保存的数据不受影响。详情见日志 {where}，"
            f"请将该文件发给维护人员。 / Unexpected error ({type(exc).__name__}); the command did "
            f"not finish, nothing saved was lost. The details are in {where}: send that file "
            "to your maintainer.",
            file=sys.stderr,
        )
        code = ExitCode.FAILED
    log.info("%s exited with %d", command, code)
    return code
