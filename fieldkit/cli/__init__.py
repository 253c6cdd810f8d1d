"""The `fieldkit` command line: parses every command here, runs each in the module that owns it."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from fieldkit import __version__

# command name -> (module, function). Each function takes the parsed args and returns an exit code.
HANDLERS: dict[str, tuple[str, str]] = {
    "app": ("screens.app", "run_from_cli"),
    "demo": ("fieldkit.demo", "cmd_demo"),
    "login": ("fieldkit.cli.client", "cmd_login"),
    "sync": ("fieldkit.cli.client", "cmd_sync"),
    "status": ("fieldkit.cli.client", "cmd_status"),
    "export-visits": ("fieldkit.cli.client", "cmd_export_visits"),
    "qr": ("fieldkit.cli.payment", "cmd_qr"),
    "posters": ("fieldkit.cli.payment", "cmd_posters"),
    "check-code": ("fieldkit.cli.payment", "cmd_check_code"),
    "notice": ("fieldkit.cli.payment", "cmd_notice"),
    "serve": ("fieldkit.cli.server", "cmd_serve"),
    "server-init": ("fieldkit.cli.server", "cmd_init"),
    "server-seed-demo": ("fieldkit.cli.server", "cmd_seed_demo"),
    "server-import-institutions": ("fieldkit.cli.server", "cmd_import_institutions"),
    "server-add-technician": ("fieldkit.cli.server", "cmd_add_technician"),
    "server-assign": ("fieldkit.cli.server", "cmd_assign"),
    "server-import-bank-results": ("fieldkit.cli.server", "cmd_import_bank_results"),
}

DEFAULT_DB = "office.sqlite"


def _db_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--db",
        default=os.environ.get("FIELDKIT_DB", DEFAULT_DB),
        help="office store: a file path or a database URL "
        "(sqlite:///… or postgresql://…); default %(default)s",
    )


def build_parser() -> argparse.ArgumentParser:
    """The whole command line, so `--help` works for every command without importing it."""
    parser = argparse.ArgumentParser(
        prog="fieldkit",
        description="fieldkit — 校外培训机构资金监管下沉式指导工具 / "
        "field tool for fund-supervision onboarding",
    )
    parser.add_argument("--version", action="version", version=f"fieldkit {__version__}")
    parser.add_argument(
        "--profile",
        default=os.environ.get("FIELDKIT_PROFILE", "default"),
        help="which profile (server, token, cache) to use; default %(default)s",
    )
    parser.set_defaults(command="app")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    demo = sub.add_parser(
        "demo",
        help="office server on loopback with the generated province, "
        "and the app logged in as a technician",
    )
    demo.add_argument(
        "--as",
        dest="as_role",
        choices=["technician", "supervisor"],
        default="technician",
        help="whom to log in as",
    )
    demo.add_argument("--offline", action="store_true", help="start with the connection cut")
    demo.add_argument(
        "--reset", action="store_true", help="throw the demo data away and start over"
    )

    login = sub.add_parser(
        "login",
        allow_abbrev=False,  # `--token X` must not be read as `--token-file X`
        help="check the token with the server, pin its key, save",
    )
    login.add_argument("url", help="the office server, e.g. https://office.example:8400")
    login.add_argument(
        "--token-file", help="read the token from this file ('-' for stdin) instead of asking"
    )
    login.add_argument("--ca", help="the office's own CA certificate (PEM) to trust")

    sync = sub.add_parser("sync", help="push then pull, with progress; exit 0 only if done")
    sync.add_argument("--quiet", action="store_true", help="no progress lines")

    status = sub.add_parser("status", help="server, last sync, unsent and rejected ops, counts")
    status.add_argument("--json", action="store_true", help="machine-readable output")

    export = sub.add_parser("export", help="export local records")
    export_sub = export.add_subparsers(dest="what", metavar="WHAT", required=True)
    visits = export_sub.add_parser("visits", help="every visit in the cache")
    visits.add_argument("--csv", required=True, metavar="F", help="write CSV (UTF-8 with BOM) here")
    visits.set_defaults(command="export-visits")

    qr = sub.add_parser("qr", help="an institution's payment code as a PNG or PDF poster")
    qr.add_argument("institution_id", metavar="ID")
    target = qr.add_mutually_exclusive_group(required=True)
    target.add_argument("--png", metavar="F")
    target.add_argument("--pdf", metavar="F")
    qr.add_argument("--size", choices=["a4", "a6", "strip"], default="a4")
    qr.add_argument(
        "--print",
        dest="send_to_printer",
        action="store_true",
        help="also send it to the system printer (lp)",
    )

    posters = sub.add_parser("posters", help="all printable codes of a zone in one PDF")
    posters.add_argument("--division", required=True, metavar="CODE")
    posters.add_argument("--pdf", required=True, metavar="F")
    posters.add_argument("--size", choices=["a4", "a6", "strip"], default="a4")

    check = sub.add_parser("check-code", help="say what a code found on site is")
    check.add_argument("institution_id", metavar="ID")
    source = check.add_mutually_exclusive_group(required=True)
    source.add_argument("--text", help="the code's content, as typed, pasted or scanned")
    source.add_argument("--image", metavar="F", help="a photo or screenshot of the code")

    notice = sub.add_parser(
        "notice", help="a visit's rectification notice (整改通知书) as an A4 PDF"
    )
    notice.add_argument("visit_id", metavar="VISIT_ID", help="the visit (its first characters do)")
    notice.add_argument("--pdf", required=True, metavar="F")
    notice.add_argument(
        "--print",
        dest="send_to_printer",
        action="store_true",
        help="also send it to the system printer (lp)",
    )

    serve = sub.add_parser("serve", help="run the office server")
    _db_option(serve)
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8400)
    serve.add_argument("--certfile", metavar="F", help="serve HTTPS with this certificate (PEM)")
    serve.add_argument("--keyfile", metavar="F", help="the certificate's private key (PEM)")

    server = sub.add_parser("server", help="office administration")
    server_sub = server.add_subparsers(dest="server_command", metavar="ACTION", required=True)
    init = server_sub.add_parser("init", help="create the store and the office's signing key")
    init.add_argument("--name", default="湖南省校外培训监管办公室", help="the office's name")
    seed = server_sub.add_parser("seed-demo", help="load the generated Hunan province")
    imp = server_sub.add_parser("import-institutions", help="import or update institutions")
    imp.add_argument("file", metavar="FILE.csv")
    add = server_sub.add_parser("add-technician", help="add a technician; prints the token once")
    add.add_argument("name", metavar="NAME")
    add.add_argument("--zone", required=True, metavar="CODE", help="division code of their zone")
    add.add_argument("--supervisor", action="store_true")
    assign = server_sub.add_parser("assign", help="assign institutions to a technician")
    assign.add_argument("--technician", required=True, metavar="ID")
    what = assign.add_mutually_exclusive_group(required=True)
    what.add_argument("--division", metavar="CODE")
    what.add_argument("--institution", nargs="+", metavar="ID")
    bank = server_sub.add_parser("import-bank-results", help="the bank's verification answers")
    bank.add_argument("file", metavar="FILE.csv")
    for action in (init, seed, imp, add, assign, bank):
        _db_option(action)
    return parser


def _utf8_output() -> None:
    """Write UTF-8 even where the console or a redirect defaults to a legacy code page (Windows)."""
    for stream in (sys.stdout, sys.stderr):
        encoding = (getattr(stream, "encoding", None) or "").lower().replace("-", "")
        if encoding != "utf8" and hasattr(stream, "reconfigure"):
            stream.reconfigure(encoding="utf-8", errors="replace")


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the command line and run the command; returns the exit status."""
    _utf8_output()
    args = build_parser().parse_args(argv)
    command = args.command or "app"  # no command: the subparsers leave None, not the default
    if command == "server":
        command = f"server-{args.server_command}"
    module_name, function_name = HANDLERS[command]
    handler = getattr(importlib.import_module(module_name), function_name)
    try:
        return int(handler(args) or 0)
    except KeyboardInterrupt:
        print("中断 / interrupted", file=sys.stderr)
        return 130
