"""A real office server for tests: uvicorn on 127.0.0.1 with a free port, plus in-process admin."""

from __future__ import annotations

import contextlib
import io
import socket
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

import uvicorn

from fieldkit import cli, domain
from fieldkit.server.app import close_app, create_app
from fieldkit.server.auth import FailedLogins


def free_port() -> int:
    """A TCP port on 127.0.0.1 nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def admin(db: str | Path, *argv: str) -> tuple[int, str]:
    """Run `fieldkit server ARGV… --db DB` in-process; (exit code, stdout and stderr together)."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        try:
            code = cli.main(["server", *argv, "--db", str(db)])
        except SystemExit as exc:  # argparse refusing the arguments
            code = int(exc.code or 0)
    return code, out.getvalue()


class LiveServer:
    """`with LiveServer(db) as server:` runs the office API on `server.url` until the block ends."""

    def __init__(
        self,
        db: str | Path,
        port: int | None = None,
        failed_logins: FailedLogins | None = None,
        forwarded_allow_ips: str | None = None,
    ) -> None:
        self.db = db
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.app = create_app(db, failed_logins=failed_logins)
        config = uvicorn.Config(
            self.app,
            host="127.0.0.1",
            port=self.port,
            log_level="warning",
            lifespan="off",
            # as `fieldkit serve` does: X-Forwarded-For only from the proxies named
            proxy_headers=bool(forwarded_allow_ips),
            forwarded_allow_ips=forwarded_allow_ips,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, daemon=True, name=f"office-{self.port}"
        )

    def __enter__(self) -> LiveServer:
        self._thread.start()
        deadline = time.monotonic() + 20
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the office server did not start on port {self.port}")
            time.sleep(0.01)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def stop(self) -> None:
        """Stop serving and wait for the server thread (the store stays on disk)."""
        self._server.should_exit = True
        self._thread.join(timeout=20)
        close_app(self.app)


# --- a small office for tests ---------------------------------------------------------------------
INSTITUTION_HEADER = "name,uscc,licence_no,division_code,address,contact_name,contact_phone,kind"


def make_uscc(serial: int, division: str = "430702", kind: str = "52") -> str:
    """A valid unified social credit code (GB 32100 check character) for a test institution."""
    first17 = f"{kind}{division}MJ{serial:07d}"
    return first17 + domain.uscc_check_char(first17)


def institution_line(
    name: str, serial: int, division: str, kind: str = "non_academic", phone: str = "13974212345"
) -> str:
    """One CSV line of the office's institution list."""
    return (
        f"{name},{make_uscc(serial, division)},教民1{division}7{serial:07d}号,{division},"
        f"湖南省{domain.full_name(division)}人民路{serial}号,刘晓燕,{phone},{kind}"
    )


def write_csv(path: Path, lines: list[str], encoding: str = "utf-8-sig") -> Path:
    """Write CSV lines (header first) in the given encoding, with CRLF as Excel does."""
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode(encoding))
    return path


def token_from(output: str) -> str:
    """The token printed by `fieldkit server add-technician`."""
    return output.split("token: ", 1)[1].split()[0]


@dataclass
class SmallOffice:
    """An office store with six institutions, two technicians and two supervisors."""

    db: Path | str
    tokens: dict[str, str]  # "tech_a", "tech_b", "city_supervisor", "other_supervisor"
    wuling: list[str]  # 3 institutions in 430702, assigned to tech_a (T0001)
    dingcheng: list[str]  # 2 institutions in 430703, assigned to tech_b (T0002)
    changsha: list[str]  # 1 institution in 430102, nobody's

    def headers(self, who: str) -> dict[str, str]:
        """The Authorization header of one of the people."""
        return {"Authorization": f"Bearer {self.tokens[who]}"}


SMALL_NAMES = [
    ("常德星辰教育培训学校", "430702"),
    ("武陵区童趣美术培训中心", "430702"),
    ("常德明理书法培训学校", "430702"),
    ("鼎城区音乐舞蹈培训中心", "430703"),
    ("鼎城区启航编程培训学校", "430703"),
    ("长沙芙蓉棋艺培训中心", "430102"),
]


def small_office(tmp: Path, db: Path | str | None = None) -> SmallOffice:
    """Build the small office (in `tmp`, or in the store `db`) through the real admin commands."""
    db = db or tmp / "office.sqlite"
    _check(admin(db, "init"))
    lines = [INSTITUTION_HEADER] + [
        institution_line(n, i + 1, d) for i, (n, d) in enumerate(SMALL_NAMES)
    ]
    _check(admin(db, "import-institutions", str(write_csv(tmp / "institutions.csv", lines))))
    tokens = {}
    for who, argv in (
        ("tech_a", ("李明", "--zone", "430702")),
        ("tech_b", ("王芳", "--zone", "430700")),
        ("city_supervisor", ("常德主管", "--zone", "430700", "--supervisor")),
        ("other_supervisor", ("长沙主管", "--zone", "430100", "--supervisor")),
    ):
        tokens[who] = token_from(_check(admin(db, "add-technician", *argv)))
    _check(admin(db, "assign", "--technician", "T0001", "--division", "430702"))
    _check(
        admin(
            db, "assign", "--technician", "T0002", "--institution", "JG4307030001", "JG4307030002"
        )
    )
    return SmallOffice(
        db,
        tokens,
        [f"JG430702000{i}" for i in (1, 2, 3)],
        [f"JG430703000{i}" for i in (1, 2)],
        ["JG4301020001"],
    )


def _check(result: tuple[int, str]) -> str:
    code, out = result
    if code != 0:
        raise RuntimeError(f"admin command failed ({code}): {out}")
    return out


# --- ops as a client sends them ---------------------------------------------------------------------
def make_op(
    kind: str, institution: str, data: dict[str, Any], clock: domain.HLC, op_id: str | None = None
) -> dict[str, Any]:
    """One op of DESIGN.md's push, stamped by `clock`."""
    return {
        "op_id": op_id or str(uuid.uuid4()),
        "hlc": clock.now(),
        "kind": kind,
        "institution_id": institution,
        "data": data,
    }


def visit_data(notes: Any = "", **more: Any) -> dict[str, Any]:
    """The data of a `visit.create` op: a completed guidance visit, changed by `more`."""
    return {
        "visit_id": str(uuid.uuid4()),
        "kind": "guidance",
        "started_at": "2026-11-28T09:00:00",
        "ended_at": "2026-11-28T10:00:00",
        "outcome": "completed",
        "steps_advanced": [],
        "issues": [],
        "rectification": None,
        "interview_recommended": False,
        "next_visit_on": None,
        "notes": notes,
    } | more
