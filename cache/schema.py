"""The cache file: the names of its migrations, and the checks that a file is a cache this code can open."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from .errors import CacheDamaged, CacheTooNew, CacheUnavailable, NotAFieldkitCache

MIGRATION_SET = "fieldkit-cache"
MIGRATIONS_TABLE = "_sqlite_migrations"  # as sqlite-utils' Migrations named it (cache/migrator.py)
# The migrations of cache/migrations.py, oldest first (a test keeps the two lists equal).
KNOWN = (
    "0001_core",
    "0002_visits_events",
    "0003_search",
    "0004_pending_removals",
    "0005_progress_columns",
    "0006_list_indexes",
    "0007_outbox_flags",
    "0010_enforcement",
    "0008_visit_drafts",
    "0009_platform_courses",
    "0011_attachments",
    "0012_search_changes",
    "0013_search_cleanup",
)
# PRAGMA application_id marks the file as a fieldkit cache ("FKC1").
APPLICATION_ID = 0x464B4331
SQLITE_HEADER = b"SQLite format 3\x00"

# Indexes the assignment list walks in order (one page, no sort) for its default sort.
# (The name and county sorts sort their rows: about 2 ms for all 7,750, not worth two more
# indexes to maintain.)
LIST_INDEXES = {
    "institutions_priority": "institutions (blocked DESC, done, pinyin, id, next_visit_on)",
    "institutions_due": "institutions (next_visit_on) WHERE next_visit_on IS NOT NULL",
}


def known_names() -> list[str]:
    """The migrations this code knows, oldest first."""
    return list(KNOWN)


def migrate(conn: sqlite3.Connection, stop_before: str | None = None) -> None:
    """Bring the file up to date (or up to, not including, `stop_before`), all in one transaction.

    The write lock is taken first, so two processes opening a new file at once migrate it once.
    """
    if stop_before is None and _up_to_date(conn):
        return
    from .migrations import MIGRATIONS

    conn.execute("BEGIN IMMEDIATE")
    try:
        MIGRATIONS.apply(conn, stop_before=stop_before)  # each migration is a savepoint inside
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def _up_to_date(conn: sqlite3.Connection) -> bool:
    """Whether every known migration is applied already (read without taking the write lock)."""
    return tuple(applied_migrations(conn)) == KNOWN


def has_migration_record(conn: sqlite3.Connection) -> bool:
    """Whether the file has the table recording the migrations applied to it."""
    found = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (MIGRATIONS_TABLE,)
    ).fetchone()
    return found is not None


def check_file(path: Path) -> None:
    """Refuse, without writing a byte, a file that is not a fieldkit cache or is too new."""
    if path.is_dir():
        raise NotAFieldkitCache(path, "这是一个文件夹 / this is a folder")
    if not path.exists() or path.stat().st_size == 0:
        return
    try:
        with path.open("rb") as fh:
            header = fh.read(100)
    except OSError as exc:
        raise CacheUnavailable(path, str(exc)) from None
    if not header.startswith(SQLITE_HEADER):
        raise NotAFieldkitCache(path, "不是 SQLite 文件 / not an SQLite file")
    short = _missing_bytes(path, header)
    if short:
        raise CacheDamaged(
            path, f"文件被截断，缺少 {short} 字节 / truncated, {short} bytes missing"
        )
    uri = path.resolve().as_uri() + "?mode=ro"
    try:
        conn = sqlite3.connect(uri, uri=True)
        try:
            app_id = conn.execute("PRAGMA application_id").fetchone()[0]
            tables = {
                r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")
            }
            applied = applied_migrations(conn) if MIGRATIONS_TABLE in tables else []
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        raise CacheDamaged(path, str(exc)) from None
    if app_id != APPLICATION_ID:
        if tables:
            raise NotAFieldkitCache(path, "其他程序的数据库 / another program's database")
        return
    unknown = [name for name in applied if name not in known_names()]
    if unknown:
        raise CacheTooNew(path, unknown)


def _missing_bytes(path: Path, header: bytes) -> int:
    """How many bytes short of the size its own header gives the file is (0 if whole or unknown)."""
    if len(header) < 100:
        return 0
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    change_counter, pages, valid_for = (
        int.from_bytes(header[o : o + 4], "big") for o in (24, 28, 92)
    )
    if pages == 0 or change_counter != valid_for:  # the size field is not trustworthy
        return 0
    return max(0, pages * page_size - path.stat().st_size)


def applied_migrations(conn: sqlite3.Connection, migration_set: str = MIGRATION_SET) -> list[str]:
    """The names of a set's migrations the file has had, in the order applied ([] before any)."""
    if not has_migration_record(conn):
        return []
    rows = conn.execute(
        f'SELECT name FROM "{MIGRATIONS_TABLE}" WHERE migration_set = ? ORDER BY rowid',
        (migration_set,),
    )
    return [str(r[0]) for r in rows]
