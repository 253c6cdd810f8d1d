"""`fieldkit serve` and `fieldkit server …`: the office's administration commands."""

from __future__ import annotations

import argparse
import logging
import os
import socket
import ssl
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from fieldkit import domain
from fieldkit.cli.exits import CommandFailed, ExitCode
from fieldkit.logs import office_log, uvicorn_log_config
from fieldkit.server import office
from fieldkit.server.store import Store, StoreError, database_url

DEFAULT_OFFICE_NAME = "湖南省校外培训监管办公室"
log = logging.getLogger(__name__)


def _say(zh: str, en: str) -> None:
    print(f"{zh} / {en}")


def _fail(zh: str, en: str, *, code: ExitCode = ExitCode.FAILED) -> int:
    print(f"错误：{zh} / Error: {en}", file=sys.stderr)
    return code


def _reason(exc: Exception) -> str:
    """The driver's own words for a database error, without SQLAlchemy's links."""
    return str(getattr(exc, "orig", None) or exc).split("\n")[0]


def _missing_file(db: str) -> bool:
    """Whether `db` names an SQLite file that does not exist (opening it would create it)."""
    url = make_url(database_url(db))
    return url.get_backend_name() == "sqlite" and not Path(url.database or "").is_file()


def _not_initialised(db: str) -> CommandFailed:
    return CommandFailed(
        f"“{db}”还不是办公室数据库，请先运行 fieldkit server init --db {db}",
        f"'{db}' is not an office store yet: run fieldkit server init --db {db}",
        ExitCode.NOT_FOUND,
    )


def _open(args: argparse.Namespace) -> Store:
    """The store named by --db, initialised; a CommandFailed saying why if it cannot be used."""
    try:
        if _missing_file(args.db):
            raise _not_initialised(args.db)
        store = Store(args.db)
        if not store.initialized():
            store.close()
            raise _not_initialised(args.db)
        return store
    except StoreError as exc:
        raise CommandFailed.from_bilingual(str(exc)) from None
    except (SQLAlchemyError, OSError) as exc:
        raise CommandFailed(
            f"无法打开数据库“{args.db}”：{_reason(exc)}",
            f"cannot open the store '{args.db}': {_reason(exc)}",
        ) from None


def cmd_init(args: argparse.Namespace) -> int:
    """Create the store and the office's signing key."""
    try:
        store = Store(args.db)
        created = store.initialize(getattr(args, "name", DEFAULT_OFFICE_NAME))
    except StoreError as exc:
        return _fail(*str(exc).split(" / ", 1))
    except (SQLAlchemyError, OSError) as exc:
        return _fail(
            f"无法创建数据库“{args.db}”：{_reason(exc)}（请检查目录是否存在、是否可写）",
            f"cannot create the store '{args.db}': {_reason(exc)} (check that the "
            "folder exists and is writable)",
        )
    try:
        if created:
            _say(
                f"已创建办公室数据库 {args.db}，并生成签名密钥",
                f"created the office store {args.db} and its signing key",
            )
        else:
            _say(
                f"数据库 {args.db} 已初始化，保持原有密钥不变",
                f"the store {args.db} was already initialised; its key is unchanged",
            )
        print(f"公钥 / public key: {store.public_key}")
    finally:
        store.close()
    return 0


def _port_refusal(host: str, port: int) -> tuple[str, str] | None:
    """Why the server cannot listen on host:port (zh, en), or None if it can."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn does
            probe.bind(address)
    except OSError as exc:
        return (
            f"无法在 {host}:{port} 上监听（{exc.strerror or exc}），可能已有服务器在运行；"
            "请换一个 --port 或先停止它",
            f"cannot listen on {host}:{port} ({exc.strerror or exc}); another server may be "
            "running: choose another --port or stop it",
        )
    return None


def cmd_serve(args: argparse.Namespace) -> int:
    """Run the office server under uvicorn."""
    import uvicorn

    from fieldkit.evidence.storage import StorageError
    from fieldkit.server.app import APP_FACTORY, SERVE_DB, close_app, create_app

    certfile, keyfile = getattr(args, "certfile", None), getattr(args, "keyfile", None)
    refused = _tls_refusal(certfile, keyfile)
    if refused is not None:
        return _fail(*refused)
    refused = _workers_refusal(args.db, args.workers)
    if refused is not None:
        return _fail(*refused, code=ExitCode.USAGE)
    _open(args).close()  # never serve a fresh store, with a new key, from a mistyped --db
    taken = _port_refusal(args.host, args.port)
    if taken is not None:
        return _fail(*taken)
    try:
        app = create_app(args.db, files=getattr(args, "files", None))
    except StoreError as exc:
        return _fail(*str(exc).split(" / ", 1))
    except StorageError as exc:
        return _fail(exc.zh, exc.en)
    except (SQLAlchemyError, OSError) as exc:
        return _fail(
            f"无法打开数据库“{args.db}”：{_reason(exc)}",
            f"cannot open the store '{args.db}': {_reason(exc)}",
        )
    scheme = "https" if certfile else "http"
    workers = args.workers
    _say(
        f"办公室服务器运行于 {scheme}://{args.host}:{args.port}（{workers} 个进程，Ctrl+C 停止）",
        f"office server on {scheme}://{args.host}:{args.port} ({workers} "
        f"process{'es' if workers > 1 else ''}, Ctrl+C stops it)",
    )
    _say(f"日志同时写入 {office_log()}", f"the log also goes to {office_log()}")
    trusted = args.forwarded_allow_ips
    options: dict[str, Any] = {
        "host": args.host,
        "port": args.port,
        "log_level": "info",
        "log_config": uvicorn_log_config(office_log()),
        "ssl_certfile": certfile,
        "ssl_keyfile": keyfile,
        # X-Forwarded-For is believed only from the proxies the office names, never by default
        "proxy_headers": bool(trusted),
        "forwarded_allow_ips": trusted or None,
    }
    if workers > 1:  # each process builds its own app over the same database
        close_app(app)
        os.environ[SERVE_DB] = args.db
        if getattr(args, "files", None):  # each process keeps evidence in the same place
            os.environ["FIELDKIT_FILES"] = args.files
        uvicorn.run(APP_FACTORY, factory=True, workers=workers, **options)
    else:
        uvicorn.run(app, **options)
    return 0


def _workers_refusal(db: str, workers: int) -> tuple[str, str] | None:
    """Why the store cannot be served by this many processes (zh, en), or None."""
    if workers < 1:
        return ("--workers 至少为 1", "--workers must be at least 1")
    if workers > 1 and make_url(database_url(db)).get_backend_name() == "sqlite":
        return (
            f"SQLite 数据库只能由一个服务器进程使用（收到 --workers {workers}）；多个进程请使用 "
            "PostgreSQL（--db postgresql://…），或去掉 --workers",
            f"an SQLite office store is served by one process only (got --workers {workers}): "
            "use PostgreSQL (--db postgresql://…) for several, or drop --workers",
        )
    return None


def _tls_refusal(certfile: str | None, keyfile: str | None) -> tuple[str, str] | None:
    """Why --certfile/--keyfile cannot be used as given (zh, en), or None when they can."""
    if bool(certfile) != bool(keyfile):
        return (
            "HTTPS 需要同时给出 --certfile 和 --keyfile（或都不给，使用 HTTP）",
            "HTTPS needs both --certfile and --keyfile (or neither, for plain HTTP)",
        )
    for option, path in (("--certfile", certfile), ("--keyfile", keyfile)):
        if path and not Path(path).is_file():
            return (
                f"找不到 {option} 指定的文件“{path}”，请检查路径",
                f"{option} file '{path}' not found: check the path",
            )
    if certfile and keyfile:
        try:
            ssl.create_default_context(ssl.Purpose.CLIENT_AUTH).load_cert_chain(certfile, keyfile)
        except (ssl.SSLError, OSError) as exc:
            return (
                f"证书或私钥无法使用（{exc}），请确认两者是配对的 PEM 文件",
                f"the certificate or key cannot be used ({exc}): check that both are "
                "matching PEM files",
            )
    return None


def cmd_add_technician(args: argparse.Namespace) -> int:
    """Add a technician or supervisor and print their token once."""
    store = _open(args)
    try:
        with store.writing() as conn:
            tech = office.add_technician(conn, args.name, args.zone, args.supervisor)
    except office.OfficeError as exc:
        return _fail(*str(exc).split(" / ", 1))
    finally:
        store.close()
    role = ("主管", "supervisor") if tech.role == "supervisor" else ("技术人员", "technician")
    _say(
        f"已添加{role[0]} {tech.id} {tech.name}，辖区 {tech.zone} {domain.full_name(tech.zone)}",
        f"added {role[1]} {tech.id} {tech.name}, zone {tech.zone}",
    )
    _say(
        "访问令牌只显示这一次，请安全地交给本人",
        "the token is shown this once; hand it over safely",
    )
    print(f"token: {tech.token}")
    return 0


def cmd_assign(args: argparse.Namespace) -> int:
    """Assign institutions, by division or by id, to a technician."""
    store = _open(args)
    try:
        with store.writing() as conn:
            if args.division:
                ids = office.institutions_in(conn, args.division)
                if not ids:
                    raise office.OfficeError(
                        f"区划 {args.division} 下没有机构",
                        f"no institutions in division {args.division}",
                    )
            else:
                ids = list(dict.fromkeys(args.institution))
            moved = office.assign(conn, args.technician, ids)
    except office.OfficeError as exc:
        return _fail(*str(exc).split(" / ", 1))
    finally:
        store.close()
    _say(
        f"已将 {len(ids)} 家机构分配给 {args.technician}（其中 {len(moved)} 家为新分配或改派）",
        f"assigned {len(ids)} institutions to {args.technician} ({len(moved)} new or moved)",
    )
    return 0


def cmd_seed_demo(args: argparse.Namespace) -> int:
    """Load the generated Hunan province into an empty store."""
    from fieldkit.server.seed import SeedError, seed_demo

    store = _open(args)
    started = time.perf_counter()
    try:
        counts = seed_demo(store)
    except SeedError as exc:
        return _fail(*str(exc).split(" / ", 1))
    finally:
        store.close()
    _say(
        f"已载入演示数据：{counts['institutions']} 家机构，{counts['payments']} 个已签名收款码"
        f"（{time.perf_counter() - started:.1f} 秒）",
        f"loaded the demo province: {counts['institutions']} institutions, "
        f"{counts['payments']} signed payment codes",
    )
    return 0


def cmd_import_institutions(args: argparse.Namespace) -> int:
    """Import or update institutions from the office's CSV list."""
    from fieldkit.server.imports import import_institutions

    return _run_import(args, import_institutions)


def cmd_import_bank_results(args: argparse.Namespace) -> int:
    """Record the bank's verification answers and issue payment codes for passes."""
    from fieldkit.server.imports import import_bank_results

    return _run_import(args, import_bank_results)


def _run_import(args: argparse.Namespace, run: object) -> int:
    """Run one CSV import and print its report; non-zero when nothing was imported."""
    from fieldkit.server.imports import ImportReport

    store = _open(args)
    try:
        report: ImportReport = run(store, Path(args.file))  # type: ignore[operator]
    finally:
        store.close()
    for line in report.lines():
        print(line)
    log.info(
        "%s %s: %s (%d rows rejected)",
        args.server_command,
        args.file,
        "imported" if report.ok else "nothing imported",
        len(report.rejected),
    )
    if report.ok:
        return ExitCode.OK
    return ExitCode.BAD_INPUT if Path(args.file).exists() else ExitCode.NOT_FOUND


# --- issue 11: the office's tokens and backups -------------------------------------------------
def cmd_technicians(args: argparse.Namespace) -> int:
    """List every technician: id, name, zone, role, state, last seen, devices."""
    from fieldkit.server import tokens

    store = _open(args)
    try:
        with store.engine.connect() as conn:
            people = tokens.listing(conn)
    finally:
        store.close()
    if not people:
        _say(
            "还没有技术人员；用 fieldkit server add-technician 添加",
            "no technicians yet: add one with fieldkit server add-technician",
        )
        return 0
    print(
        "编号/id  姓名/name  片区/zone  角色/role  状态/state  最近联系/last seen (UTC)  设备/devices"
    )
    for p in people:
        role = "主管/supervisor" if p.role == "supervisor" else "技术人员/technician"
        state = f"已停用/revoked {p.revoked_at[:10]}" if p.revoked_at else "有效/active"
        seen = (p.last_seen or "从未/never").replace("T", " ")[:19]
        print(f"{p.id}  {p.name}  {p.zone} {p.zone_name}  {role}  {state}  {seen}  {p.devices}")
    return 0


def _token_action(args: argparse.Namespace, action: Callable[[Connection, str], str]) -> str | int:
    """Run revoke or rotate on the named technician in one transaction: its answer, or the exit
    code after saying why it could not be done."""
    from fieldkit.server import tokens

    store = _open(args)
    try:
        with store.writing() as conn:
            return action(conn, args.technician)
    except tokens.TokenError as exc:
        return _fail(exc.zh, exc.en, code=ExitCode.NOT_FOUND)
    finally:
        store.close()


def cmd_revoke(args: argparse.Namespace) -> int:
    """End a technician's token."""
    from fieldkit.server import tokens

    name = _token_action(args, tokens.revoke)
    if isinstance(name, int):
        return name
    who = args.technician.strip().upper()
    _say(
        f"已停用 {who} {name} 的令牌；其设备下次连接时会被告知，未发送的更改保留在设备上。"
        "需要时用 fieldkit server rotate 换发新令牌",
        f"revoked the token of {who} {name}; their laptop is told at its next contact and "
        "keeps its unsent work. fieldkit server rotate issues a new token",
    )
    return 0


def cmd_rotate(args: argparse.Namespace) -> int:
    """Issue a technician a new token (printed once); the old one stops working."""
    from fieldkit.server import tokens

    token = _token_action(args, tokens.rotate)
    if isinstance(token, int):
        return token
    who = args.technician.strip().upper()
    _say(
        f"已为 {who} 换发新令牌，旧令牌已停用；新令牌只显示这一次，请安全地交给本人。本人用它运行 "
        "fieldkit login 后，设备上未发送的更改会随之发送",
        f"issued {who} a new token; the old one no longer works. It is shown this once: hand "
        "it over safely; after fieldkit login with it, the laptop's unsent work is sent",
    )
    print(f"token: {token}")
    return 0


def cmd_backup(args: argparse.Namespace) -> int:
    """Write a consistent copy of the office store to a file, also while the server runs."""
    from fieldkit.server import backups

    store = _open(args)
    try:
        summary = backups.backup(store, Path(args.file))
    except backups.BackupError as exc:
        return _fail(*str(exc).split(" / ", 1))
    finally:
        store.close()
    zh, en = summary.words()
    _say(
        f"已备份到 {args.file}（{zh}）；恢复：fieldkit server restore {args.file}",
        f"backed up to {args.file} ({en}); to restore: fieldkit server restore {args.file}",
    )
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    """Replace the office store with a backup, under a new epoch."""
    from fieldkit.server import backups

    try:
        summary = backups.restore(Path(args.file), args.db)
    except backups.ServerRunning as exc:
        return _fail(*str(exc).split(" / ", 1), code=ExitCode.FAILED)
    except (backups.BackupError, StoreError) as exc:
        return _fail(*str(exc).split(" / ", 1), code=ExitCode.BAD_INPUT)
    zh, en = summary.words()
    _say(
        f"已从 {args.file} 恢复办公室数据库（{zh}），并开始新的数据纪元；各设备下次同步时会"
        "重新下载，并补发办公室缺少的更改",
        f"restored the office store from {args.file} ({en}) under a new epoch; every "
        "laptop pulls afresh at its next sync and re-sends what the office lacks",
    )
    return 0
