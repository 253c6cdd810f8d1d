"""The office store: schema and shared queries through SQLAlchemy Core (SQLite by default, PostgreSQL by URL)."""

from __future__ import annotations

import importlib.util
import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Connection,
    Engine,
    LargeBinary,
    Select,
    cast,
    create_engine,
    event,
    func,
    insert,
    inspect,
    select,
    update,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from fieldkit import domain
from fieldkit.payment import signing

from .changelog import (
    change_body,
    collecting,
    dumps,
    emit,
    holds,
    mark_of,
    write_changes,
)
from .schema import (
    INITIAL_STAMP,
    SCHEMA_VERSION,
    SERVER_WRITER,
    WRITER_OPTION,
    assignments,
    attachments,
    cases,
    change_marks,
    changes,
    conflicts,
    courses,
    institutions,
    meta,
    metadata,
    observed_charges,
    ops,
    platform_steps,
    platform_trade,
    records,
    retired_tokens,
    reviews,
    round_members,
    rounds,
    steps,
    stored_files,
    technician_status,
    technicians,
    visits,
)
from .wire import (
    INSTITUTION_WIRE,
    amended_since,
    attachment_changes,
    case_change,
    enforcement_changes,
    institution_change,
    institution_wire,
    latest_reviews,
    platform_changes,
    review_change,
    round_change,
    snapshot_changes,
    step_change,
    step_wire,
    visit_change,
    visit_wire,
)

# The store's names, and those of its parts that callers import from here.
__all__ = [
    "INITIAL_STAMP",
    "INSTITUTION_WIRE",
    "SCHEMA_VERSION",
    "SERVER_WRITER",
    "Store",
    "StoreError",
    "WRITER_OPTION",
    "amended_since",
    "assignments",
    "attachment_changes",
    "attachments",
    "case_change",
    "cases",
    "change_body",
    "change_marks",
    "changes",
    "collecting",
    "conflicts",
    "courses",
    "database_url",
    "dumps",
    "emit",
    "enforcement_changes",
    "holds",
    "institution_change",
    "institution_wire",
    "institutions",
    "joined_bodies",
    "latest_reviews",
    "make_engine",
    "mark_of",
    "meta",
    "metadata",
    "now_iso",
    "observed_charges",
    "ops",
    "platform_changes",
    "platform_steps",
    "platform_trade",
    "records",
    "retired_tokens",
    "review_change",
    "reviews",
    "round_change",
    "round_members",
    "rounds",
    "snapshot_changes",
    "step_change",
    "step_wire",
    "steps",
    "stored_files",
    "technician_status",
    "technicians",
    "visit_change",
    "visit_wire",
    "visits",
    "write_changes",
]


class StoreError(Exception):
    """The office store cannot be used as asked; the message is bilingual and says what to do."""


def now_iso() -> str:
    """The current UTC time as ISO 8601 text."""
    return datetime.now(UTC).isoformat(timespec="seconds")


def database_url(db: str | Path) -> str:
    """A SQLAlchemy URL for a file path or an URL (postgresql://…, sqlite:///…)."""
    text = str(db)
    if "://" in text:
        for plain in ("postgres://", "postgresql://"):
            if text.startswith(plain):  # the driver that is installed: psycopg 3, else psycopg2
                text = f"postgresql+{_pg_driver()}://" + text[len(plain) :]
        return text
    return f"sqlite:///{Path(text).expanduser().resolve()}"


def _pg_driver() -> str:
    """psycopg (3) when installed, else psycopg2 (SQLAlchemy's default)."""
    return "psycopg" if importlib.util.find_spec("psycopg") else "psycopg2"


# --- SQLite-specific settings: the one place with SQLite-only SQL -------------------------------
def _sqlite_engine(url: str) -> Engine:
    engine = create_engine(
        url, connect_args={"check_same_thread": False, "timeout": 30}, json_serializer=dumps
    )

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the sqlite3 module, decide where transactions begin (so reads
        # inside a transaction see one snapshot and SAVEPOINTs work).
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        # Writers take the write lock at once, so two processes never both read then write.
        writer = conn.get_execution_options().get(WRITER_OPTION)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if writer else "BEGIN")

    return engine


def _sqlite_joined(conn: Connection, page: Select[Any]) -> tuple[int, int, bytes]:
    """SQLite joins the bodies itself (group_concat keeps the ordered subquery's order)."""
    sub = page.subquery()
    row = conn.execute(
        select(
            func.count(), func.max(sub.c.seq), cast(func.group_concat(sub.c.body, ","), LargeBinary)
        )
    ).one()
    return int(row[0]), int(row[1] or 0), bytes(row[2] or b"")


# --- end of SQLite-specific settings -------------------------------------------------------------


def joined_bodies(conn: Connection, page: Select[Any]) -> tuple[int, int, bytes]:
    """(row count, last seq, bodies joined by commas) of a `select(seq, body)` in seq order."""
    if conn.dialect.name == "sqlite":
        return _sqlite_joined(conn, page)
    rows = conn.execute(page).all()
    return len(rows), rows[-1][0] if rows else 0, b",".join(bytes(r[1]) for r in rows)


def make_engine(db: str | Path) -> Engine:
    """An engine for the office store at `db` (path or URL); StoreError if it cannot be made."""
    url = database_url(db)
    try:
        if make_url(url).get_backend_name() == "sqlite":
            return _sqlite_engine(url)
        return create_engine(url, pool_pre_ping=True, json_serializer=dumps)
    except ArgumentError as exc:
        raise StoreError(
            f"数据库地址“{db}”无效：{exc} / the database URL '{db}' is invalid: {exc}"
        ) from None
    except ImportError as exc:
        raise StoreError(
            f"缺少数据库驱动（{exc.name}），PostgreSQL 请安装 psycopg[binary] / "
            f"the database driver {exc.name} is not installed (PostgreSQL: "
            "pip install 'psycopg[binary]')"
        ) from None


class Store:
    """The office store: one engine, a write lock, the office clock and change-log helpers."""

    def __init__(self, db: str | Path) -> None:
        self.url = database_url(db)
        self.engine = make_engine(db)
        self.write_lock = threading.Lock()
        self._clock: domain.HLC | None = None

    # --- lifecycle ---------------------------------------------------------------------------
    def create_schema(self) -> None:
        """Create every table that is missing."""
        metadata.create_all(self.engine)

    def initialized(self) -> bool:
        """Whether the schema and the office key exist (StoreError if made by a newer version)."""
        if not inspect(self.engine).has_table("meta"):
            return False
        self.check_version()
        return self.get_meta("private_key") is not None

    def check_version(self) -> None:
        """Refuse a store whose schema is newer than this program knows (it is left untouched)."""
        found = self.get_meta("schema_version")
        if found is not None and int(found) > int(SCHEMA_VERSION):
            raise StoreError(
                f"办公室数据库版本为{found}，比本程序（{SCHEMA_VERSION}）新，请升级 fieldkit，"
                "数据库未作任何改动 / the office store has schema version "
                f"{found}, newer than this fieldkit ({SCHEMA_VERSION}): upgrade "
                "fieldkit; the store was not changed"
            )

    def initialize(self, office_name: str) -> bool:
        """Create the schema, the office key and the epoch if missing; True if it did so."""
        if inspect(self.engine).has_table("meta"):
            self.check_version()
        self.create_schema()
        with self.engine.begin() as conn:
            existing = conn.execute(select(meta.c.value).where(meta.c.key == "private_key"))
            if existing.scalar_one_or_none() is not None:
                return False
            values = {
                "schema_version": SCHEMA_VERSION,
                "private_key": signing.generate_private_key(),
                "epoch": secrets.token_hex(8),
                "office_name": office_name,
                "created_at": now_iso(),
            }
            conn.execute(insert(meta), [{"key": k, "value": v} for k, v in values.items()])
        return True

    def close(self) -> None:
        """Release the connections."""
        self.engine.dispose()

    @contextmanager
    def writing(self) -> Iterator[Connection]:
        """One write transaction, serialised within this process (and across, by the database)."""
        with self.write_lock, self.engine.connect() as conn:
            with conn.execution_options(**{WRITER_OPTION: True}).begin():
                yield conn

    # --- meta --------------------------------------------------------------------------------
    def get_meta(self, key: str, conn: Connection | None = None) -> str | None:
        """A value of the meta table."""
        query = select(meta.c.value).where(meta.c.key == key)
        if conn is not None:
            return conn.execute(query).scalar_one_or_none()
        with self.engine.connect() as own:
            return own.execute(query).scalar_one_or_none()

    def set_meta(self, conn: Connection, key: str, value: str | None) -> None:
        """Write a value of the meta table."""
        done = conn.execute(update(meta).where(meta.c.key == key).values(value=value))
        if done.rowcount == 0:
            conn.execute(insert(meta).values(key=key, value=value))

    @property
    def private_key(self) -> str:
        """The office's Ed25519 private key (base64)."""
        key = self.get_meta("private_key")
        if key is None:
            raise StoreError(
                "办公室数据库尚未初始化，请先运行 fieldkit server init / "
                "the office store is not initialised: run `fieldkit server init`"
            )
        return key

    @property
    def public_key(self) -> str:
        """The office's Ed25519 public key (base64)."""
        return signing.public_key_of(self.private_key)

    # --- clock -------------------------------------------------------------------------------
    def clock(self, conn: Connection) -> domain.HLC:
        """The office's HLC, moved past the last stamp saved in the store."""
        saved = self.get_meta("hlc", conn)
        if self._clock is None:
            self._clock = domain.HLC(SERVER_WRITER, saved)
        elif saved:
            self._clock.observe(saved)
        return self._clock

    def save_clock(self, conn: Connection) -> None:
        """Persist the office clock so stamps never go backwards across restarts."""
        if self._clock is not None:
            self.set_meta(conn, "hlc", self._clock.now())

    # --- change log --------------------------------------------------------------------------
    def head(self, conn: Connection) -> int:
        """The latest change sequence number handed out (0 when none)."""
        return int(self.get_meta("seq", conn) or 0)
