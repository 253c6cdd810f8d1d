"""The README's main job, as a newcomer runs it: `fieldkit demo` in a real terminal, then quit."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import socket
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

import pytest

from fieldkit.demo_data import DEMO_TECH_COUNTY, generate_province

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="needs a POSIX pseudo-terminal")

ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[()][0-9A-Za-z]|\x1b[=>]")


def _demo_names() -> set[str]:
    return {
        i["name"]
        for i in generate_province().institutions
        if i["division_code"] == DEMO_TECH_COUNTY
    }


def _read_until(fd: int, seen: list[bytes], done: object, timeout: float) -> str:
    """Read the terminal until done(text) is true or the time is up; the text without escapes."""
    deadline = time.monotonic() + timeout
    text = ""
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                break
            if not chunk:
                break
            seen.append(chunk)
            text = ANSI.sub("", b"".join(seen).decode("utf-8", "replace"))
            if done(text):  # type: ignore[operator]
                return text
    return text


def _port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def test_demo_opens_on_the_technicians_list_and_quits_cleanly(fieldkit_home: Path) -> None:
    names = _demo_names()
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    env = {
        **os.environ,
        "TERM": "xterm-256color",
        "FIELDKIT_HOME": str(fieldkit_home),
        "FIELDKIT_LANG": "zh",
        "COLUMNS": "120",
        "LINES": "40",
    }
    fieldkit = Path(sys.executable).with_name("fieldkit")
    proc = subprocess.Popen(
        [str(fieldkit), "demo"],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env=env,
        start_new_session=True,
    )
    os.close(slave)
    seen: list[bytes] = []
    try:
        text = _read_until(master, seen, lambda t: sum(n in t for n in names) >= 5, 120)
        shown = {n for n in names if n in text}
        assert len(shown) >= 5, (
            f"the list did not show the demo county's institutions:\n{text[-3000:]}"
        )
        state = __import__("json").loads((fieldkit_home / "demo" / "server.json").read_text())
        assert _port_open(state["port"])
        os.write(master, b"\x11")  # ctrl+q
        # keep draining the terminal: an app whose output blocks cannot finish quitting
        _read_until(master, seen, lambda _t: proc.poll() is not None, 30)
        proc.wait(timeout=5)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)
    assert proc.returncode == 0
    assert not _port_open(state["port"]), "the demo's office server is still listening after quit"
    assert not _port_open(state["relay_port"])
    # the profile story: after the demo, `fieldkit status` is about the demo's technician
    status = subprocess.run(
        [str(fieldkit), "status", "--json"], env=env, capture_output=True, text=True, timeout=60
    )
    assert status.returncode == 0, status.stderr
    report = __import__("json").loads(status.stdout)
    assert report["profile"] == "demo-technician" and report["technician"]["name"] == "张伟（演示）"
    assert report["profile_chosen_by"] == "last_opened" and report["counts"]["institutions"] > 0
