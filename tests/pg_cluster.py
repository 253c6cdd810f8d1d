"""A throw-away PostgreSQL cluster for tests: initdb and pg_ctl on a free port of 127.0.0.1.

Where PostgreSQL's server binaries or the psycopg driver are missing, the tests that need them
are skipped on a developer's machine but FAIL under CI (the environment variable CI set): the
PostgreSQL tests must really run there. As root (CI runs as root) the cluster runs as the
`postgres` user (or `nobody`), since PostgreSQL refuses to run as root.
"""

from __future__ import annotations

import importlib.util
import os
import pwd
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.live_server import free_port

VERSIONS = ("15", "16", "17", "14")


def binaries() -> Path | None:
    """The folder holding initdb and pg_ctl, if PostgreSQL's server is installed."""
    for version in VERSIONS:
        folder = Path(f"/usr/lib/postgresql/{version}/bin")
        if (folder / "initdb").exists():
            return folder
    found = shutil.which("initdb")
    return Path(found).parent if found else None


def require_postgres() -> Path:
    """The server binaries; a skip without them, or a failure under CI (never a silent skip)."""
    missing = []
    if importlib.util.find_spec("psycopg") is None:
        missing.append("the psycopg driver (pip install -e '.[test]')")
    folder = binaries()
    if folder is None:
        missing.append("PostgreSQL's server binaries (initdb, pg_ctl)")
    if missing:
        why = "PostgreSQL tests need " + " and ".join(missing)
        if os.environ.get("CI"):
            pytest.fail(f"{why}: CI must run them (.ci/run installs PostgreSQL)", pytrace=False)
        pytest.skip(why)
    assert folder is not None
    return folder


def _runner() -> tuple[list[str], str | None]:
    """How to run PostgreSQL's tools: as ourselves, or (as root) as an unprivileged user."""
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return [], None
    for user in ("postgres", "nobody"):
        try:
            pwd.getpwnam(user)
        except KeyError:
            continue
        if shutil.which("runuser"):
            return ["runuser", "-u", user, "--"], user
        return ["setpriv", f"--reuid={user}", f"--regid={user}", "--init-groups", "--"], user
    pytest.fail("running as root without a postgres or nobody user to run PostgreSQL as")


@contextmanager
def cluster(durable: bool = False) -> Iterator[str]:
    """Start a cluster (trust authentication, 127.0.0.1, a free port); its URL; stop it after.

    Not `durable` (for tests): no fsync, commits not waited for on disk.
    """
    folder = require_postgres()
    prefix, user = _runner()
    # Not under pytest's tmp dir: the unprivileged user must be able to reach it.
    base = Path(tempfile.mkdtemp(prefix="fieldkit-pg-"))
    if user:
        shutil.chown(base, user)
    data, port = base / "data", free_port()
    initdb = [str(folder / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres"]
    initdb += ["-E", "UTF8", "--locale=C.UTF-8"] + ([] if durable else ["--no-sync"])
    subprocess.run(prefix + initdb, check=True, capture_output=True)
    options = f"-p {port} -k {base} -c listen_addresses=127.0.0.1 -c max_connections=200"
    if not durable:
        options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    subprocess.run(
        prefix
        + [str(folder / "pg_ctl"), "-D", str(data), "-w", "-l", str(base / "log"), "-o", options]
        + ["start"],
        check=True,
        capture_output=True,
    )
    try:
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(
            prefix + [str(folder / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
            capture_output=True,
        )
        shutil.rmtree(base, ignore_errors=True)


def new_database(url: str) -> str:
    """A fresh empty database in the cluster at `url`; its URL."""
    import psycopg

    name = f"office_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    return url.rsplit("/", 1)[0] + "/" + name
