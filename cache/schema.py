"""The cache's schema as numbered migrations, and the checks that a file is a cache this code can open."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

from . import progress
from .errors import CacheDamaged, CacheTooNew, CacheUnavailable, NotAFieldkitCache

MIGRATION_SET = "fieldkit-cache"
MIGRATIONS_TABLE = Migrations.migrations_table
# PRAGMA application_id marks the file as a fieldkit cache ("FKC1").
APPLICATION_ID = 0x464B4331
SQLITE_HEADER = b"SQLite format 3\x00"

MIGRATIONS = Migrations(MIGRATION_SET)


@MIGRATIONS(name="0001_core")
def _core(db: Database) -> None:
    """Meta, institutions, checklist steps and the outbox of local changes."""
    _run(db, """
        CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT) WITHOUT ROWID;
        CREATE TABLE institutions (
            id TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            uscc TEXT NOT NULL DEFAULT '',
            licence_no TEXT NOT NULL DEFAULT '',
            division_code TEXT NOT NULL,
            address TEXT NOT NULL DEFAULT '',
            contact_name TEXT NOT NULL DEFAULT '',
            contact_phone TEXT NOT NULL DEFAULT '',
            kind TEXT NOT NULL DEFAULT 'non_academic',
            pinyin TEXT NOT NULL DEFAULT '',
            initials TEXT NOT NULL DEFAULT '',
            bank_status TEXT NOT NULL DEFAULT 'pending',
            bank_reason TEXT,
            payment TEXT,
            orders INTEGER NOT NULL DEFAULT 0,
            order_amount_fen INTEGER NOT NULL DEFAULT 0,
            sync_state TEXT NOT NULL DEFAULT 'synced'
        );
        CREATE TABLE steps (
            institution_id TEXT NOT NULL,
            step TEXT NOT NULL,
            status TEXT NOT NULL DEFAULT 'todo',
            reason TEXT,
            note TEXT,
            hlc TEXT,
            updated_by TEXT,
            sync_state TEXT NOT NULL DEFAULT 'synced',
            PRIMARY KEY (institution_id, step)
        ) WITHOUT ROWID;
        CREATE TABLE outbox (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            op_id TEXT NOT NULL UNIQUE,
            hlc TEXT NOT NULL,
            kind TEXT NOT NULL,
            institution_id TEXT,
            register TEXT NOT NULL,
            data TEXT NOT NULL,
            prev TEXT,
            state TEXT NOT NULL DEFAULT 'unsent',
            reason TEXT,
            message TEXT,
            created_at TEXT NOT NULL
        );
        CREATE INDEX outbox_state ON outbox (state, seq);
        CREATE INDEX outbox_institution ON outbox (institution_id, state);
        CREATE INDEX outbox_register ON outbox (register, state);
    """)
    db.conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")


@MIGRATIONS(name="0002_visits_events")
def _visits_events(db: Database) -> None:
    """Visits (appended, amended) and events: posters printed, codes checked on site."""
    _run(db, """
        CREATE TABLE visits (
            visit_id TEXT PRIMARY KEY,
            institution_id TEXT NOT NULL,
            technician_id TEXT NOT NULL DEFAULT '',
            kind TEXT NOT NULL,
            started_at TEXT NOT NULL,
            ended_at TEXT,
            outcome TEXT,
            steps_advanced TEXT NOT NULL DEFAULT '[]',
            issues TEXT NOT NULL DEFAULT '[]',
            rectification TEXT,
            interview_recommended INTEGER NOT NULL DEFAULT 0,
            next_visit_on TEXT,
            notes TEXT NOT NULL DEFAULT '',
            amendments TEXT NOT NULL DEFAULT '[]',
            hlc TEXT,
            sync_state TEXT NOT NULL DEFAULT 'synced'
        );
        CREATE INDEX visits_institution ON visits (institution_id, started_at);
        CREATE TABLE events (
            event_id TEXT PRIMARY KEY,
            institution_id TEXT NOT NULL,
            visit_id TEXT,
            kind TEXT NOT NULL,
            data TEXT NOT NULL,
            hlc TEXT NOT NULL,
            created_at TEXT NOT NULL,
            sync_state TEXT NOT NULL DEFAULT 'unsent'
        );
        CREATE INDEX events_institution ON events (institution_id, created_at);
    """)


@MIGRATIONS(name="0003_search")
def _search(db: Database) -> None:
    """Search text per institution (kept by triggers) with a trigram index for 3+ characters."""
    _run(db, f"""
        CREATE TABLE search_keys (rowid INTEGER PRIMARY KEY, keys TEXT NOT NULL);
        CREATE VIRTUAL TABLE search_fts USING fts5(
            keys, content='search_keys', content_rowid='rowid', tokenize='trigram'
        );
        {progress.search_triggers_sql()}
        INSERT INTO search_keys (rowid, keys)
            SELECT rowid, {progress.search_keys_sql().replace("new.", "")} FROM institutions;
        INSERT INTO search_fts (search_fts) VALUES ('rebuild')
    """)


@MIGRATIONS(name="0004_pending_removals")
def _pending_removals(db: Database) -> None:
    """Institutions unassigned by the office but kept until their local changes are synced."""
    db.conn.execute(
        "CREATE TABLE pending_removals (institution_id TEXT PRIMARY KEY, since TEXT NOT NULL)"
    )


@MIGRATIONS(name="0005_progress_columns")
def _progress_columns(db: Database) -> None:
    """Progress kept on each institution row, so the assignment list never aggregates 85k steps."""
    for column, decl in progress.COLUMNS:
        db.conn.execute(f"ALTER TABLE institutions ADD COLUMN {column} {decl}")
    progress.refresh(db.conn, None)


# Indexes the assignment list walks in order (one page, no sort) for its default sort.
# (The name and county sorts sort their rows: about 2 ms for all 7,750, not worth two more
# indexes to maintain.)
LIST_INDEXES = {
    "institutions_priority": "institutions (blocked DESC, done, pinyin, id, next_visit_on)",
    "institutions_due": "institutions (next_visit_on) WHERE next_visit_on IS NOT NULL",
}


@MIGRATIONS(name="0006_list_indexes")
def _list_indexes(db: Database) -> None:
    """An index in the assignment list's priority order, and one of follow-up dates."""
    for name, definition in LIST_INDEXES.items():
        db.conn.execute(f"CREATE INDEX {name} ON {definition}")


@MIGRATIONS(name="0007_outbox_flags")
def _outbox_flags(db: Database) -> None:
    """The office's flags on an accepted op: superseded by a newer edit, or a concurrent edit."""
    db.conn.execute("ALTER TABLE outbox ADD COLUMN superseded INTEGER NOT NULL DEFAULT 0")
    db.conn.execute("ALTER TABLE outbox ADD COLUMN conflict INTEGER NOT NULL DEFAULT 0")


def _run(db: Database, script: str) -> None:
    """Run statements one by one, inside the migration's transaction (executescript would commit)."""
    for statement in script.split(";\n"):
        if statement.strip():
            db.conn.execute(statement)


def known_names() -> list[str]:
    """The migrations this code knows, oldest first."""
    return [m.name for m in MIGRATIONS._migrations]


def migrate(conn: sqlite3.Connection, stop_before: str | None = None) -> None:
    """Bring the file up to date (or up to, not including, `stop_before`), all in one transaction.

    The write lock is taken first, so two processes opening a new file at once migrate it once.
    """
    db = Database(conn)
    conn.execute("BEGIN IMMEDIATE")
    try:
        MIGRATIONS.apply(db, stop_before=stop_before)  # each migration is a savepoint inside
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


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
        raise CacheDamaged(path, f"文件被截断，缺少 {short} 字节 / truncated, {short} bytes missing")
    uri = path.resolve().as_uri() + "?mode=ro"
    try:
        conn = sqlite3.connect(uri, uri=True)
        try:
            app_id = conn.execute("PRAGMA application_id").fetchone()[0]
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
            applied = _applied(conn) if MIGRATIONS_TABLE in tables else []
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
    change_counter, pages, valid_for = (int.from_bytes(header[o:o + 4], "big")
                                        for o in (24, 28, 92))
    if pages == 0 or change_counter != valid_for:  # the size field is not trustworthy
        return 0
    return max(0, pages * page_size - path.stat().st_size)


def _applied(conn: sqlite3.Connection) -> list[str]:
    rows = conn.execute(
        f"SELECT name FROM {MIGRATIONS_TABLE} WHERE migration_set = ? ORDER BY rowid",
        (MIGRATION_SET,),
    )
    return [r[0] for r in rows]
