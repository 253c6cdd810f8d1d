"""The cache's numbered migrations, imported only when a file needs migrating.

Start-up of a current cache never imports this module; `schema.KNOWN` lists the same names so a
file can be checked without it. They are run by cache/migrator.py, which keeps the record
sqlite-utils' Migrations kept (it ran them before, and cost ~0.5 s to import and set up).
"""

from __future__ import annotations

from . import platform, progress, search
from .migrator import Database, Migrations
from .schema import APPLICATION_ID, LIST_INDEXES, MIGRATION_SET

MIGRATIONS = Migrations(MIGRATION_SET)


@MIGRATIONS(name="0001_core")
def _core(db: Database) -> None:
    """Meta, institutions, checklist steps and the outbox of local changes."""
    _run(
        db,
        """
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
    """,
    )
    db.conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")


@MIGRATIONS(name="0002_visits_events")
def _visits_events(db: Database) -> None:
    """Visits (appended, amended) and events: posters printed, codes checked on site."""
    _run(
        db,
        """
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
    """,
    )


@MIGRATIONS(name="0003_search")
def _search(db: Database) -> None:
    """Search text per institution (kept by triggers) with a trigram index for 3+ characters."""
    _run(
        db,
        f"""
        CREATE TABLE search_keys (rowid INTEGER PRIMARY KEY, keys TEXT NOT NULL);
        CREATE VIRTUAL TABLE search_fts USING fts5(
            keys, content='search_keys', content_rowid='rowid', tokenize='trigram'
        );
        {progress.search_triggers_sql()}
        INSERT INTO search_keys (rowid, keys)
            SELECT rowid, {progress.search_keys_sql().replace("new.", "")} FROM institutions;
        INSERT INTO search_fts (search_fts) VALUES ('rebuild')
    """,
    )


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


# --- issue 16 ---
@MIGRATIONS(name="0010_enforcement")
def _enforcement(db: Database) -> None:
    """The office's copies of cases (a summary row each, the whole case beside it), visit
    reviews and look-back round picks."""
    _run(
        db,
        """
        CREATE TABLE case_bodies (
            case_id TEXT PRIMARY KEY, data TEXT NOT NULL, hlc TEXT
        ) WITHOUT ROWID;
        CREATE TABLE cases (
            case_id TEXT PRIMARY KEY,
            institution_id TEXT NOT NULL,
            issued_on TEXT NOT NULL,
            deadline TEXT NOT NULL,
            phase TEXT NOT NULL,
            open_items INTEGER NOT NULL,
            items INTEGER NOT NULL,
            last_step TEXT,
            last_on TEXT,
            open_text TEXT NOT NULL DEFAULT ''
        );
        CREATE INDEX cases_institution ON cases (institution_id);
        CREATE TABLE reviews (
            visit_id TEXT PRIMARY KEY,
            institution_id TEXT NOT NULL,
            decision TEXT NOT NULL,
            comment TEXT NOT NULL DEFAULT '',
            reviewer_id TEXT NOT NULL DEFAULT '',
            reviewed_on TEXT NOT NULL,
            hlc TEXT,
            amended INTEGER NOT NULL DEFAULT 0
        ) WITHOUT ROWID;
        CREATE TABLE round_tasks (
            round_id TEXT NOT NULL,
            institution_id TEXT NOT NULL,
            due_on TEXT NOT NULL,
            created_on TEXT NOT NULL,
            data TEXT NOT NULL,
            PRIMARY KEY (round_id, institution_id)
        ) WITHOUT ROWID
    """,
    )
    progress.refresh(db.conn, None)  # follow-up dates: an empty later visit no longer erases one


# --- issue 14 ---
@MIGRATIONS(name="0008_visit_drafts")
def _visit_drafts(db: Database) -> None:
    """A visit being recorded, kept as it is typed so a crash or a flat battery loses nothing."""
    db.conn.execute(
        """
        CREATE TABLE visit_drafts (
            visit_id TEXT PRIMARY KEY,
            institution_id TEXT NOT NULL,
            started_at TEXT NOT NULL,
            fields TEXT NOT NULL,
            updated_at TEXT NOT NULL
        )
        """
    )
    db.conn.execute("CREATE INDEX visit_drafts_institution ON visit_drafts (institution_id)")


@MIGRATIONS(name="0009_platform_courses")
def _platform_courses(db: Database) -> None:
    """The platform's readings of each institution and its listed courses (server-owned)."""
    _run(db, platform.SCHEMA)


# --- issue 13 ---
@MIGRATIONS(name="0011_attachments")
def _attachments(db: Database) -> None:
    """Evidence: attachments of visits, code checks and case items, and their files' upload state."""
    _run(
        db,
        """
        CREATE TABLE attachments (
            attachment_id TEXT PRIMARY KEY,
            sha256 TEXT NOT NULL,
            institution_id TEXT NOT NULL,
            record_kind TEXT NOT NULL,
            record_id TEXT NOT NULL,
            item INTEGER,
            name TEXT NOT NULL DEFAULT '',
            mime TEXT NOT NULL DEFAULT '',
            size INTEGER NOT NULL,
            width INTEGER,
            height INTEGER,
            taken_at TEXT,
            lat REAL,
            lon REAL,
            original_size INTEGER,
            original_sha256 TEXT,
            added_at TEXT NOT NULL,
            added_by TEXT NOT NULL DEFAULT '',
            op_id TEXT,
            sync_state TEXT NOT NULL DEFAULT 'unsent'
        );
        CREATE INDEX attachments_record ON attachments (record_kind, record_id, item);
        CREATE INDEX attachments_institution ON attachments (institution_id);
        CREATE INDEX attachments_sha256 ON attachments (sha256);
        CREATE TABLE files (
            sha256 TEXT PRIMARY KEY,
            size INTEGER NOT NULL,
            mime TEXT NOT NULL DEFAULT '',
            here INTEGER NOT NULL DEFAULT 0,
            at_office INTEGER NOT NULL DEFAULT 0,
            sent INTEGER NOT NULL DEFAULT 0,
            error TEXT,
            updated_at TEXT
        )
    """,
    )


@MIGRATIONS(name="0012_search_changes")
def _search_changes(db: Database) -> None:
    """The log of changed search keys that every process's in-memory search index follows."""
    _run(db, search.changes_sql(progress.ROW_BY_ROW))


@MIGRATIONS(name="0013_search_cleanup")
def _search_cleanup(db: Database) -> None:
    """No search reads the trigram index any more (the in-memory index answers every word):
    drop it and the triggers that wrote it at every change; bound the change log."""
    _run(db, search.cleanup_sql())


def _run(db: Database, script: str) -> None:
    """Run statements one by one, inside the migration's transaction (executescript would commit)."""
    for statement in script.split(";\n"):
        if statement.strip():
            db.conn.execute(statement)
