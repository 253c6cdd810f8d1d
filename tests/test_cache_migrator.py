"""The cache's own migration runner: the file sqlite-utils' Migrations made, without its cost."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from cache import Store, schema
from cache.migrations import MIGRATIONS

ROOT = Path(__file__).resolve().parents[1]


def _schema_and_record(path: Path) -> tuple[list[tuple[str, str, str]], list[tuple[str, str]]]:
    """Every table, index and trigger with its SQL; the migration record without its times."""
    with sqlite3.connect(path) as conn:
        objects = conn.execute(
            "SELECT type, name, sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY type, name"
        ).fetchall()
        record = conn.execute(
            "SELECT migration_set, name FROM _sqlite_migrations ORDER BY id"
        ).fetchall()
        stamps = [r[0] for r in conn.execute("SELECT applied_at FROM _sqlite_migrations")]
    assert all(s.endswith("+00:00") for s in stamps), stamps  # aware UTC, as sqlite-utils wrote
    return objects, record


def test_a_new_cache_is_the_file_sqlite_utils_made(tmp_path: Path) -> None:
    sqlite_utils = pytest.importorskip("sqlite_utils")
    from sqlite_utils.migrations import Migrations

    theirs = Migrations(schema.MIGRATION_SET)
    for migration in MIGRATIONS._migrations:
        theirs(name=migration.name)(migration.fn)  # type: ignore[arg-type]
    old = tmp_path / "old.sqlite"
    conn = sqlite3.connect(old, isolation_level=None)
    conn.execute("BEGIN IMMEDIATE")
    theirs.apply(sqlite_utils.Database(conn))
    conn.execute("COMMIT")
    conn.close()
    new = tmp_path / "new.sqlite"
    Store.open(new).close()
    assert _schema_and_record(new) == _schema_and_record(old)


def test_a_cache_half_migrated_by_sqlite_utils_is_finished_here(tmp_path: Path) -> None:
    sqlite_utils = pytest.importorskip("sqlite_utils")
    from sqlite_utils.migrations import Migrations

    half = len(MIGRATIONS._migrations) // 2
    theirs = Migrations(schema.MIGRATION_SET)
    for migration in MIGRATIONS._migrations[:half]:
        theirs(name=migration.name)(migration.fn)  # type: ignore[arg-type]
    path = tmp_path / "cache.sqlite"
    conn = sqlite3.connect(path, isolation_level=None)
    theirs.apply(sqlite_utils.Database(conn))
    conn.close()
    Store.open(path).close()
    fresh = tmp_path / "fresh.sqlite"
    Store.open(fresh).close()
    assert _schema_and_record(path) == _schema_and_record(fresh)
    assert [name for _, name in _schema_and_record(path)[1]] == list(schema.KNOWN)


def test_a_migration_that_fails_leaves_nothing_of_itself(tmp_path: Path) -> None:
    path = tmp_path / "cache.sqlite"
    conn = sqlite3.connect(path, isolation_level=None)
    schema.migrate(conn, stop_before=schema.KNOWN[3])
    before = conn.execute("SELECT name, sql FROM sqlite_master ORDER BY name").fetchall()
    conn.execute("CREATE TABLE pending_removals (x)")  # what 0004 creates: it fails
    with pytest.raises(sqlite3.OperationalError):
        schema.migrate(conn)
    conn.execute("DROP TABLE pending_removals")
    assert conn.execute("SELECT name, sql FROM sqlite_master ORDER BY name").fetchall() == before
    assert [r[0] for r in conn.execute("SELECT name FROM _sqlite_migrations")] == list(
        schema.KNOWN[:3]
    )
    conn.close()


def test_a_new_cache_imports_neither_sqlite_utils_nor_numpy(tmp_path: Path) -> None:
    code = (
        "import sys; from cache.store import Store; Store.open(sys.argv[1]).close(); "
        "print(sorted({'sqlite_utils', 'numpy'} & set(sys.modules)))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "cache.sqlite")],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    assert out.stdout.strip() == "[]"
    assert (tmp_path / "cache.sqlite").stat().st_size > 0
