"""A damaged cache is kept aside (never deleted), its readable ops rescued, the rest pulled again."""

from __future__ import annotations

import asyncio
import hashlib
import os
import random
import sqlite3
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest

from cache import (
    CacheDamaged,
    CacheTooNew,
    NotAFieldkitCache,
    Store,
    open_or_salvage,
    salvage,
    schema,
)
from fieldkit import config, domain, paths
from fieldkit.cli import main
from fieldkit.cli.exits import ExitCode
from fieldkit.sync import login
from tests.live_server import LiveServer
from tests.test_cache_fixtures import institution, open_loaded
from tests.test_sync_office import RealOffice, visit

IDS = [institution(n)["id"] for n in range(1, 9)]


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def filled(path: Path, visits: int = 300) -> dict[str, dict]:
    """A cache holding `visits` unsent visits and two rejected step edits; its ops by id."""
    with open_loaded(path) as store:
        for n in range(visits):
            store.create_visit(
                domain.Visit(
                    visit_id=f"v{n}",
                    institution_id=IDS[n % 8],
                    technician_id="T0001",
                    kind="guidance",
                    started_at=datetime(2026, 11, 28, 9, n % 60),
                    notes="整改记录" * 30 + str(n),
                )
            )
        refused = [store.set_step(i, "registered", "done", by="T0001") for i in IDS[:2]]
        store.record_results(
            [
                {
                    "op_id": op["op_id"],
                    "status": "rejected",
                    "reason": "not_assigned",
                    "message": "不是您的机构 / not yours",
                }
                for op in refused
            ]
        )
        ops = {op["op_id"]: op for op in store.pending_ops(10_000) + store.rejected_ops()}
    return ops


def aside_files(path: Path) -> list[Path]:
    return sorted(
        p
        for p in path.parent.iterdir()
        if p.name.startswith(f"{path.name}.damaged-") and p.name[-4:] not in ("-wal", "-shm")
    )


def check_rescued(path: Path, before: dict[str, dict]) -> list[dict]:
    """The fresh cache's ops are a subset of the originals, each exactly as it was."""
    with Store.open(path) as store:
        rescued = store.pending_ops(10_000) + store.rejected_ops()
        assert store.counts()["institutions"] == 0  # the rest comes from the office
        for op in rescued:
            original = before[op["op_id"]]
            for key in ("hlc", "kind", "institution_id", "data", "state", "reason", "message"):
                assert op[key] == original[key], key
        newest = max(op["hlc"] for op in rescued)
        assert domain.newer(store.clock.now(), newest)  # new edits sort after rescued ones
    return rescued


@pytest.mark.parametrize("keep", [0.5, 0.9])
def test_a_truncated_cache_is_kept_aside_and_its_readable_ops_rescued(
    tmp_path: Path, keep: float
) -> None:
    path = tmp_path / "cache.sqlite"
    before = filled(path)
    with path.open("r+b") as fh:
        fh.truncate(int(path.stat().st_size * keep))
    damaged = digest(path)
    with pytest.raises(CacheDamaged) as err:
        Store.open(path)
    assert "损坏" in err.value.zh and "truncated" in err.value.en
    assert "fieldkit sync" in err.value.en and digest(path) == damaged  # refused untouched
    report = salvage(path)
    assert report.kept_aside == aside_files(path)[0] and digest(report.kept_aside) == damaged
    assert report.kept_aside.name.startswith("cache.sqlite.damaged-2")
    rescued = check_rescued(path, before)
    assert 0 < report.unsent == sum(1 for op in rescued if op["state"] == "unsent")
    assert report.unsent + report.rejected + report.unreadable <= len(before) + 1
    assert str(report.kept_aside) in report.message("zh") and "未删除" in report.message("zh")
    assert f"Rescued {report.unsent} unsent" in report.message("en")


def test_garbage_over_the_middle_is_found_at_opening_and_salvaged(tmp_path: Path) -> None:
    path = tmp_path / "cache.sqlite"
    before = filled(path)
    rng = random.Random(8)
    with path.open("r+b") as fh:
        fh.seek(path.stat().st_size // 2)
        fh.write(bytes(rng.randrange(256) for _ in range(16_384)))
    damaged = digest(path)
    store, report = open_or_salvage(path)
    store.close()
    assert report is not None and digest(report.kept_aside) == damaged
    rescued = check_rescued(path, before)
    assert len(rescued) == report.unsent + report.rejected and report.unsent > 250
    assert report.rejected == 2 and report.unreadable > 0  # the pages hit are counted


@pytest.mark.parametrize(
    "content",
    [
        b"\x00" * 4096,
        b"SQLite format 3\x00" + b"\xff" * 5000,
        "本地缓存？不，这是一封信。".encode() * 100,
    ],
)
def test_a_file_that_is_not_a_database_is_kept_aside_byte_for_byte(
    tmp_path: Path, content: bytes
) -> None:
    path = tmp_path / "cache.sqlite"
    path.write_bytes(content)
    with pytest.raises(NotAFieldkitCache):
        Store.open(path)
    store, report = open_or_salvage(path)
    with store:
        assert store.counts() == {"unsent": 0, "rejected": 0, "institutions": 0, "visits": 0}
        store.bulk_load([institution(1)], [])  # and it takes work again
    assert report is not None and report.kept_aside.read_bytes() == content
    assert report.unsent == 0 and "damaged" in report.message("en")


def test_a_cache_from_a_newer_fieldkit_is_never_salvaged(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = paths.cache_file("default")
    path.parent.mkdir(parents=True)
    with open_loaded(path) as store:
        store.set_step(IDS[0], "registered", "done", by="T0001")
    conn = sqlite3.connect(path)
    conn.execute(
        "INSERT INTO _sqlite_migrations (migration_set, name, applied_at) "
        "VALUES (?, '0099_from_the_future', '2027-01-01')",
        (schema.MIGRATION_SET,),
    )
    conn.commit()
    conn.execute("PRAGMA journal_mode = DELETE")
    conn.close()
    before = digest(path)
    with pytest.raises(CacheTooNew):
        open_or_salvage(path)
    with pytest.raises(CacheTooNew):
        salvage(path)
    assert main(["status"]) == ExitCode.CACHE_UNUSABLE
    err = capsys.readouterr().err
    assert "升级" in err and "Upgrade fieldkit" in err and "damaged" not in err
    config.save(
        config.Settings(
            server_url="http://127.0.0.1:9",
            office_public_key="k",
            technician=config.Technician("T0001", "李娜", "technician", "430702"),
        )
    )
    token = config.save_token("default", "secret-token")
    assert (
        main(["sync"]) == ExitCode.CACHE_UNUSABLE
    )  # sync does not repair it either: the user should upgrade
    err = capsys.readouterr().err
    assert "升级" in err and "Upgrade fieldkit" in err and "kept aside" not in err
    assert digest(path) == before and sorted(p.name for p in path.parent.iterdir()) == [
        "cache.sqlite",
        "config.json",
        token.name,
    ]


def pages_of(path: Path, table: str) -> tuple[list[int], int]:
    """The page numbers holding a table, and the file's page size."""
    conn = sqlite3.connect(path)
    try:
        pages = [
            r[0]
            for r in conn.execute(
                "SELECT pageno FROM dbstat WHERE name = ? ORDER BY pageno", (table,)
            )
        ]
        return pages, int(conn.execute("PRAGMA page_size").fetchone()[0])
    finally:
        conn.close()


def test_sync_repairs_a_damaged_cache_sends_what_it_rescued_and_pulls_the_rest(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    real = RealOffice(tmp_path, institutions=4)
    tech = real.add("李娜")
    real.assign(tech, real.ids)
    with LiveServer(real.db) as server:
        asyncio.run(login(server.url, tech.token))
        assert main(["sync", "--quiet"]) == 0
        path = paths.cache_file("default")
        with Store.open(path) as store:
            for n in range(4):
                store.create_visit(visit(tech, real.ids[n], n, f"走访{n}"))
        steps_pages, page_size = pages_of(path, "steps")
        with path.open("r+b") as fh:  # a disk error wrecks the checklist pages, not the outbox
            for page in steps_pages:
                fh.seek((page - 1) * page_size)
                fh.write(b"\xde\xad" * (page_size // 2))
        damaged = digest(path)
        assert main(["status"]) == ExitCode.CACHE_UNUSABLE
        err = capsys.readouterr().err
        assert "已损坏" in err and "fieldkit sync" in err
        assert digest(path) == damaged  # status looks, never repairs
        assert main(["sync"]) == 0
        out, err = capsys.readouterr()
        assert "抢救出 4 项未发送的更改" in err and "Rescued 4 unsent" in err
        assert "完成" in out
        assert real.visit_ids() == sorted(f"{tech.id}-v{n}" for n in range(4))
        with Store.open(path) as store:
            assert store.counts() == {"unsent": 0, "rejected": 0, "institutions": 4, "visits": 4}
            assert store.quick_check() is None
        kept = aside_files(path)
        assert len(kept) == 1 and digest(kept[0]) == damaged and str(kept[0]) in err


def test_damage_found_after_opening_is_named_not_a_raw_sqlite_error(tmp_path: Path) -> None:
    path = tmp_path / "cache.sqlite"
    filled(path, visits=40)
    pages, page_size = pages_of(path, "steps")
    store = Store.open(path)
    with path.open("r+b") as fh:  # another program (or a failing disk) writes over the file
        for page in pages:
            fh.seek((page - 1) * page_size)
            fh.write(b"\x00\x01" * (page_size // 2))
    try:
        with pytest.raises(CacheDamaged) as err:
            store.step_states(IDS[0])
        assert "fieldkit sync" in err.value.en
        with pytest.raises(CacheDamaged):
            store.set_step(IDS[0], "parent_app", "in_progress", by="T0001")
        assert store.quick_check() is not None
    finally:
        store.close()


# Salvages the cache in a child that SIGKILLs itself at the n-th file move (1: setting the damaged
# file aside, 2: putting the fresh cache in place).
SALVAGE_CHILD = """
import importlib, os, signal, sys
from pathlib import Path

mod = importlib.import_module("cache.salvage")  # the module (the package exports the function)

moves, stop = [0], int(sys.argv[2])
real_move = mod._move_with_sidecars

def move(source, target):
    moves[0] += 1
    if moves[0] == stop:
        os.kill(os.getpid(), signal.SIGKILL)
    real_move(source, target)

mod._move_with_sidecars = move
mod.salvage(Path(sys.argv[1]))
"""


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
@pytest.mark.parametrize("stop", [1, 2])
def test_a_salvage_killed_halfway_loses_no_rescued_op(tmp_path: Path, stop: int) -> None:
    path = tmp_path / "cache.sqlite"
    before = filled(path, visits=40)  # (enough ops that the cut-off tenth leaves 20 readable,
    with path.open("r+b") as fh:  # however many empty tables later migrations add)
        fh.truncate(int(path.stat().st_size * 0.9))
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    done = subprocess.run(
        [sys.executable, "-c", SALVAGE_CHILD, str(path), str(stop)],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert done.returncode == -9, done.stderr
    store, report = open_or_salvage(path)  # the next start finishes or redoes the salvage
    store.close()
    rescued = check_rescued(path, before)
    assert len(rescued) > 20
    assert len(aside_files(path)) == 1
    assert (report is None) == (stop == 2)  # cut short after setting aside: only renamed in
