"""A full disk: saving fails with a clear message, nothing saved before is lost, work resumes with space."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from cache import CacheFull, CacheUnavailable, Store
from fieldkit import domain
from tests.test_cache_fixtures import institution, open_loaded

ROOT = Path(__file__).resolve().parents[1]
IDS = [institution(n)["id"] for n in range(1, 5)]
MAX_TRIES = 2000


def a_visit(n: int) -> domain.Visit:
    return domain.Visit(
        visit_id=f"v{n}",
        institution_id=IDS[n % 4],
        technician_id="T0001",
        kind="guidance",
        started_at=datetime(2026, 11, 28, 9, n % 60),
        notes="现场核查记录：" + "收款码张贴位置正确。" * 60 + str(n),
    )


def save_until_full(store: Store) -> tuple[list[str], CacheFull]:
    """Save visits until the disk refuses one; the op ids saved and the error."""
    saved: list[str] = []
    for n in range(MAX_TRIES):
        try:
            saved.append(store.create_visit(a_visit(n))["op_id"])
        except CacheFull as exc:
            return saved, exc
    raise AssertionError(f"{MAX_TRIES} visits saved and the disk never filled")


def assert_clear(exc: CacheFull) -> None:
    assert isinstance(
        exc, CacheUnavailable
    )  # callers that know only the older error still catch it
    assert "磁盘空间已满" in exc.zh and "没有保存" in exc.zh and "之前保存的数据都在" in exc.zh
    assert "清理磁盘空间" in exc.zh
    assert "disk is full" in exc.en and "was not saved" in exc.en
    assert "everything saved before is kept" in exc.en and "Free some disk space" in exc.en


def integrity(path: Path) -> str:
    conn = sqlite3.connect(path)
    try:
        return str(conn.execute("PRAGMA integrity_check").fetchone()[0])
    finally:
        conn.close()


def test_the_file_size_limit_of_sqlite_itself(tmp_path: Path) -> None:
    """SQLite's own page limit stands in for a full disk (SQLITE_FULL, as ENOSPC gives)."""
    path = tmp_path / "cache.sqlite"
    store = open_loaded(path)
    conn = store._conn  # the test narrows this connection's page limit; nothing else reaches it
    pages = conn.execute("PRAGMA page_count").fetchone()[0]
    conn.execute(f"PRAGMA max_page_count = {pages + 40}")
    saved, exc = save_until_full(store)
    assert_clear(exc)
    assert len(saved) > 5
    assert [op["op_id"] for op in store.pending_ops(MAX_TRIES)] == saved
    assert len(store.visits()) == len(saved)  # the refused visit left no row behind
    with pytest.raises(CacheFull):  # still full: refused again, nothing half-written
        store.create_visit(a_visit(len(saved)))
    assert len(store.visits()) == len(saved)
    conn.execute("PRAGMA max_page_count = 1073741823")  # space is back
    op = store.create_visit(a_visit(len(saved)))
    store.close()
    assert integrity(path) == "ok"
    with Store.open(path) as again:
        assert [o["op_id"] for o in again.pending_ops(MAX_TRIES)] == [*saved, op["op_id"]]


# Runs in a child process whose file-size limit (RLIMIT_FSIZE) is set just above the cache's size.
CHILD = textwrap.dedent("""
    import json, resource, signal, sys
    from datetime import datetime
    from pathlib import Path
    from cache import CacheFull, Store
    from tests.test_reliability_diskfull import a_visit

    path = Path(sys.argv[1])
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG
    store = Store.open(path)
    sizes = [p.stat().st_size for p in path.parent.iterdir()]
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (max(sizes) + 200_000, hard))
    saved = []
    for n in range(2000):
        try:
            saved.append(store.create_visit(a_visit(n))["op_id"])
        except CacheFull as exc:
            print(json.dumps({"saved": saved, "zh": exc.zh, "en": exc.en}), flush=True)
            break
    resource.setrlimit(resource.RLIMIT_FSIZE, (hard, hard))  # space is back
    print(json.dumps({"resumed": store.create_visit(a_visit(5000))["op_id"]}), flush=True)
    store.close()
""")


@pytest.mark.skipif(sys.platform == "win32", reason="RLIMIT_FSIZE is POSIX")
def test_a_file_size_limit_of_the_operating_system(tmp_path: Path) -> None:
    path = tmp_path / "cache.sqlite"
    with open_loaded(path) as store:
        earlier = store.set_step(IDS[0], "registered", "done", by="T0001")["op_id"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(path)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    full, resumed = (json.loads(line) for line in done.stdout.splitlines())
    assert "磁盘空间已满" in full["zh"] and "disk is full" in full["en"]
    assert "everything saved before is kept" in full["en"]
    assert len(full["saved"]) > 3
    assert integrity(path) == "ok"
    with Store.open(path) as store:
        ops = [o["op_id"] for o in store.pending_ops(MAX_TRIES)]
        assert ops == [earlier, *full["saved"], resumed["resumed"]]
        assert len(store.visits()) == len(full["saved"]) + 1


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    """A 2 MiB tmpfs (needs root and permission to mount; skipped otherwise)."""
    mount = tmp_path / "tiny"
    mount.mkdir()
    if sys.platform != "linux" or os.geteuid() != 0:
        pytest.skip("mounting a tiny filesystem needs root on Linux")
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount)],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def fill(path: Path) -> None:
    """Take every free byte of the filesystem, as other programs' files would."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        for chunk in (65536, 4096, 512):
            try:
                while True:
                    os.write(fd, b"\0" * chunk)
            except OSError:
                continue
    finally:
        os.close(fd)


def test_a_really_full_disk_and_then_space_freed(tiny_disk: Path) -> None:
    path = tiny_disk / "cache.sqlite"
    store = open_loaded(path)
    earlier = store.set_step(IDS[0], "registered", "done", by="T0001")["op_id"]
    filler = tiny_disk / "someone-elses-video.mp4"
    fill(filler)
    saved, exc = save_until_full(store)
    assert_clear(exc)
    assert [o["op_id"] for o in store.pending_ops(MAX_TRIES)] == [earlier, *saved]
    filler.unlink()  # the technician frees space
    op = store.create_visit(a_visit(9999))
    store.close()
    assert integrity(path) == "ok"
    with Store.open(path) as again:
        assert [o["op_id"] for o in again.pending_ops(MAX_TRIES)] == [earlier, *saved, op["op_id"]]
        assert again.step_states(IDS[0])["registered"].status == "done"
