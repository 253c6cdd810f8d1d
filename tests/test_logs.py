"""The logs: the client's rotating file under FIELDKIT_HOME, the office's timed request lines,
and never a token in any of them or in any output."""

from __future__ import annotations

import json
import logging
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from cache.store import Store
from fieldkit import logs, paths
from fieldkit.cli import main
from fieldkit.cli.exits import ExitCode
from tests.live_server import LiveServer, free_port
from tests.test_sync_office import RealOffice, visit

STAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d\d:\d\d ")


def all_text(folder: Path) -> str:
    """Every file under folder, read as text (logs, rotated logs)."""
    return "".join(
        p.read_text("utf-8", "replace") for p in sorted(folder.rglob("*")) if p.is_file()
    )


def test_a_working_day_is_logged_without_the_token(
    tmp_path: Path, fieldkit_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    real = RealOffice(tmp_path, institutions=3)
    tech = real.add("李娜")
    real.assign(tech, real.ids)
    token_file = tmp_path / "token.txt"
    token_file.write_text(tech.token)
    outputs = []
    with LiveServer(real.db) as server:
        assert main(["login", server.url, "--token-file", str(token_file)]) == 0
        assert main(["sync"]) == 0
        with Store.open(paths.cache_file("default")) as store:
            store.create_visit(visit(tech, real.ids[0], 1, "现场核查"))
        assert main(["sync", "--quiet"]) == 0
        outputs.append(capsys.readouterr())
        assert main(["status"]) == 0
        status = capsys.readouterr()
        assert main(["status", "--json"]) == 0
        as_json = capsys.readouterr()
    assert main(["sync"]) == ExitCode.OFFLINE
    outputs += [status, as_json, capsys.readouterr()]

    log_file = fieldkit_home / "logs" / "fieldkit.log"
    assert f"日志 / Log: {log_file}" in status.out
    assert json.loads(as_json.out)["log_file"] == str(log_file)
    text = log_file.read_text("utf-8")
    lines = text.splitlines()
    assert lines and all(STAMP.match(line) for line in lines if not line.startswith(" "))
    assert len(re.findall(r"sync round done in [\d.]+ s: sent \d+", text)) == 2
    assert "sent 1 (applied 1" in text
    assert "sync not finished (offline)" in text and "sync exited with 7" in text
    assert "login exited with 0" in text and "status exited with 0" in text
    for out in outputs:
        assert tech.token not in out.out + out.err
    assert tech.token not in all_text(fieldkit_home / "logs")


def test_the_log_rotates_and_keeps_five_old_files(
    fieldkit_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(logs, "MAX_BYTES", 4_000)
    path = logs.setup_client()
    assert path == fieldkit_home / "logs" / "fieldkit.log"
    logger = logging.getLogger("fieldkit.test")
    for n in range(400):
        logger.info("line %04d 机构走访记录", n)
    names = sorted(p.name for p in path.parent.iterdir())
    assert names == [f"fieldkit.log{suffix}" for suffix in ("", ".1", ".2", ".3", ".4", ".5")]
    # (the handler counts characters, not bytes: a Chinese line may pass the limit by a little)
    assert all(p.stat().st_size <= 4_100 for p in path.parent.iterdir())
    assert path.read_text("utf-8").rstrip().endswith("line 0399 机构走访记录")


def test_a_token_that_reaches_a_log_line_or_traceback_is_hidden(fieldkit_home: Path) -> None:
    path = logs.setup_client()
    assert path is not None
    token = "fk_" + "Zq9" * 14
    logger = logging.getLogger("fieldkit.test")
    logger.warning("sent Authorization: Bearer %s to %s", token, "http://127.0.0.1:9")
    try:
        raise RuntimeError(f"the office answered {token}")
    except RuntimeError:
        logger.exception("round failed")
    text = path.read_text("utf-8")
    assert token not in text and text.count(logs.HIDDEN) == 2  # the line and the exception
    assert "Traceback (most recent call last)" in text and "RuntimeError" in text


def test_an_unexpected_error_goes_to_the_log_not_over_the_screen(
    fieldkit_home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import fieldkit.cli.client as client

    def broken(args: object) -> int:
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr(client, "cmd_status", broken)
    assert main(["status"]) == ExitCode.FAILED
    err = capsys.readouterr().err
    log_file = fieldkit_home / "logs" / "fieldkit.log"
    assert "意外错误" in err and "Unexpected error (ZeroDivisionError)" in err
    assert str(log_file) in err and "Traceback" not in err
    text = log_file.read_text("utf-8")
    assert "status failed unexpectedly" in text and 'raise ZeroDivisionError("a bug")' in text


def test_the_office_logs_each_request_once_with_a_time_and_no_token_or_query(
    tmp_path: Path, fieldkit_home: Path
) -> None:
    real = RealOffice(tmp_path, institutions=2)
    tech = real.add("李娜")
    port = free_port()
    env = {**os.environ, "FIELDKIT_HOME": str(fieldkit_home), "PYTHONUNBUFFERED": "1"}
    command = [sys.executable, "-m", "fieldkit", "serve", "--db", str(real.db), "--port", str(port)]
    server = subprocess.Popen(
        command, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(url + "/api/v1/office", timeout=1)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline and server.poll() is None, "serve did not start"
                time.sleep(0.2)
        auth = {"Authorization": f"Bearer {tech.token}"}
        assert httpx.get(url + "/api/v1/me", headers=auth).status_code == 200
        pulled = httpx.get(url + f"/api/v1/sync/pull?cursor=0&token={tech.token}", headers=auth)
        assert pulled.status_code == 200
        assert (
            httpx.get(url + "/api/v1/me", headers={"Authorization": "Bearer fk_wrong"}).status_code
            == 401
        )
    finally:
        server.send_signal(signal.SIGINT)
        out, err = server.communicate(timeout=30)
    console = err.decode("utf-8")
    office_log = (fieldkit_home / "logs" / "office.log").read_text("utf-8")
    for text in (console, office_log):
        requests = [line for line in text.splitlines() if "uvicorn.access" in line]
        assert [re.sub(r".*\"(\w+ \S+) HTTP/1.1\" (\d+)$", r"\1 \2", r) for r in requests] == [
            "GET /api/v1/office 200",
            "GET /api/v1/me 200",
            "GET /api/v1/sync/pull 200",
            "GET /api/v1/me 401",
        ]
        assert all(STAMP.match(line) for line in requests)
        assert tech.token not in text and "cursor=" not in text and "fk_wrong" not in text
    assert tech.token not in out.decode("utf-8")
    assert "Application startup complete" in console and STAMP.match(console.splitlines()[-1])
