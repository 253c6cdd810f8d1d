"""`fieldkit demo`: a generated province on a loopback office server, and the app logged in to it."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import socket
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import config, paths
from .demo_data import DEMO_CITY, DEMO_TECH_COUNTY

PROFILES = {"technician": "demo-technician", "supervisor": "demo-supervisor"}
PEOPLE = {
    "technician": ("张伟（演示）", DEMO_TECH_COUNTY, False),
    "supervisor": ("李娜（演示主管）", DEMO_CITY, True),
}


class DemoError(Exception):
    """The demo cannot start; the message says why and what to do (zh / en)."""

    def __init__(self, zh: str, en: str) -> None:
        super().__init__(f"{zh} / {en}")


@dataclass
class DemoOffice:
    """The demo's office store and the people in it."""

    db: Path
    tokens: dict[str, str]  # role -> token
    ids: dict[str, str]  # role -> technician id


def _say(zh: str, en: str) -> None:
    print(f"{zh} / {en}", flush=True)


def prepare_office(folder: Path) -> DemoOffice:
    """Create (or reuse) the demo office: the seeded province, a technician and a supervisor."""
    from .server import office
    from .server.seed import seed_demo
    from .server.store import Store

    folder.mkdir(parents=True, exist_ok=True)
    db = folder / "office.sqlite"
    people_file = folder / "people.json"
    saved = _saved_people(people_file) if db.exists() else None
    if saved is not None:
        return DemoOffice(db, *saved)
    for leftover in (db, *(Path(f"{db}{suffix}") for suffix in ("-wal", "-shm", "-journal"))):
        leftover.unlink(missing_ok=True)  # a stale -wal would be replayed into the new file
    store = Store(db)
    try:
        store.initialize("湖南省校外培训监管办公室（演示）")
        _say(
            "正在生成湖南省演示数据（7750 家机构）…",
            "generating the Hunan demo province (7,750 institutions)…",
        )
        seed_demo(store)
        tokens: dict[str, str] = {}
        ids: dict[str, str] = {}
        with store.writing() as conn:
            for role, (name, zone, supervisor) in PEOPLE.items():
                person = office.add_technician(conn, name, zone, supervisor)
                tokens[role], ids[role] = person.token, person.id
            office.assign(conn, ids["technician"], office.institutions_in(conn, DEMO_TECH_COUNTY))
    finally:
        store.close()
    scratch = people_file.with_suffix(".tmp")
    scratch.write_text(json.dumps({"tokens": tokens, "ids": ids}), "utf-8")
    config._restrict(scratch)
    os.replace(
        scratch, people_file
    )  # written last and whole: its presence means the office is ready
    return DemoOffice(db, tokens, ids)


def _saved_people(path: Path) -> tuple[dict[str, str], dict[str, str]] | None:
    """The demo people's tokens and ids from a finished earlier run, or None (none, or unreadable)."""
    try:
        saved = json.loads(path.read_text("utf-8"))
        tokens, ids = dict(saved["tokens"]), dict(saved["ids"])
    except (OSError, ValueError, TypeError, KeyError):
        return None
    return (tokens, ids) if set(PEOPLE) <= set(tokens) and set(PEOPLE) <= set(ids) else None


class Relay:
    """A TCP relay between the app and the office that the demo can cut, to practise offline work."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.online = True
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(64)
        self.port = int(self._sock.getsockname()[1])
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._closed = False
        threading.Thread(target=self._accept, daemon=True, name="demo-relay").start()

    def set_online(self, online: bool) -> None:
        """Cut (False) or restore (True) the connection; cutting drops connections in flight."""
        self.online = online
        if not online:
            with self._lock:
                for conn in list(self._open):
                    _close(conn)
                self._open.clear()

    def close(self) -> None:
        """Stop relaying."""
        self._closed = True
        self.set_online(False)
        _close(self._sock)

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._sock.accept()
            except OSError:
                return
            if not self.online:
                _close(client)
                continue
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target_port), timeout=5)
            except OSError:
                _close(client)
                continue
            with self._lock:
                self._open.update((client, upstream))
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    def _pipe(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for conn in (source, sink):
                _close(conn)
                with self._lock:
                    self._open.discard(conn)


def _close(conn: socket.socket) -> None:
    with contextlib.suppress(OSError):
        conn.shutdown(socket.SHUT_RDWR)
    with contextlib.suppress(OSError):
        conn.close()


@contextlib.contextmanager
def office_server(db: Path) -> Iterator[int]:
    """Run the office API under uvicorn on a free loopback port, in a thread, until the block ends."""
    import uvicorn

    from .logs import office_log, uvicorn_log_config
    from .server.app import create_app

    app = create_app(db)
    quiet = uvicorn_log_config(office_log(), "warning", console=False, own_process=False)
    server = uvicorn.Server(  # its log goes to office.log, never over the app's screen
        uvicorn.Config(
            app, host="127.0.0.1", port=0, log_level="warning", lifespan="off", log_config=quiet
        )
    )
    thread = threading.Thread(target=server.run, daemon=True, name="demo-office")
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise DemoError("演示服务器未能启动", "the demo office server did not start")
        time.sleep(0.02)
    port = int(server.servers[0].sockets[0].getsockname()[1])
    try:
        yield port
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        app.state.store.close()


def _reset(folder: Path) -> None:
    """Throw away the demo office and the demo profiles."""
    shutil.rmtree(folder, ignore_errors=True)
    for profile in PROFILES.values():
        shutil.rmtree(paths.profile_dir(profile), ignore_errors=True)


def _login(url: str, token: str, profile: str) -> config.Settings:
    from .sync import login

    return asyncio.run(login(url, token, profile))


def cmd_demo(args: argparse.Namespace) -> int:
    """Run the demo: office on loopback, app logged in as the demo technician or supervisor."""
    from cache.errors import CacheError

    from .sync.errors import SyncError

    folder = paths.demo_dir()
    if args.reset:
        _reset(folder)
    role = args.as_role
    try:
        demo = prepare_office(folder)
        with office_server(demo.db) as port:
            relay = Relay(port)
            state = {"port": port, "relay_port": relay.port, "role": role}
            (folder / "server.json").write_text(json.dumps(state), "utf-8")
            try:
                settings = _login(
                    f"http://127.0.0.1:{relay.port}", demo.tokens[role], PROFILES[role]
                )
                if getattr(args, "lang", None):
                    settings.language = args.lang  # --lang: this run's interface language
                relay.set_online(not args.offline)
                if args.offline:
                    _say(
                        "演示已断网：在应用中按 F9 恢复连接",
                        "demo is offline: press F9 in the app to restore the connection",
                    )
                return _run_app(settings, relay)
            finally:
                relay.close()
    except (DemoError, SyncError, CacheError, config.ConfigError, OSError) as exc:
        print(f"演示无法启动 / the demo cannot start: {exc}", file=sys.stderr)
        return 1


def _run_app(settings: config.Settings, relay: Relay) -> int:
    from screens.app import make_app, services_for

    store, sync, notice = services_for(settings)
    app = make_app(settings, store, sync, notice=notice, demo_network=relay)
    try:
        app.run()
    finally:
        store.close()
    return 0


def demo_state() -> dict[str, Any] | None:
    """The ports of the last demo run (for tests and troubleshooting)."""
    path = paths.demo_dir() / "server.json"
    return json.loads(path.read_text("utf-8")) if path.exists() else None
