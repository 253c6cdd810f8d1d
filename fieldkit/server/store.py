"""The office store: schema and shared queries through SQLAlchemy Core (SQLite by default, PostgreSQL by URL)."""

from __future__ import annotations

import importlib.util
import json
import secrets
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Connection,
    Engine,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Select,
    String,
    Table,
    Text,
    cast,
    create_engine,
    delete,
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

SCHEMA_VERSION = "1"
SERVER_WRITER = "office"
# The stamp of states the office loads (imports, the demo province): any real edit wins over it.
INITIAL_STAMP = f"{0:015d}-{0:04x}-{SERVER_WRITER}"
WRITER_OPTION = "fieldkit_writer"

metadata = MetaData()

meta = Table(
    "meta",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=True),
)

institutions = Table(
    "institutions",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("name", Text, nullable=False),
    Column("uscc", String(18), nullable=False, unique=True),
    Column("licence_no", Text, nullable=False, default=""),
    Column("division_code", String(6), nullable=False, index=True),
    Column("address", Text, nullable=False, default=""),
    Column("contact_name", Text, nullable=False, default=""),
    Column("contact_phone", Text, nullable=False, default=""),
    Column("contact_name_hlc", Text, nullable=True),
    Column("contact_phone_hlc", Text, nullable=True),
    Column("kind", String(16), nullable=False),
    Column("pinyin", Text, nullable=False, default=""),
    Column("initials", Text, nullable=False, default=""),
    Column("name_latin", Text, nullable=False, default=""),
    Column("account_no", Text, nullable=True),
    Column("bank_status", String(16), nullable=False, default="pending"),
    Column("bank_reason", Text, nullable=True),
    Column("payment_payload", Text, nullable=True),
    Column("payment_signature", Text, nullable=True),
    Column("orders", Integer, nullable=False, default=0),
    Column("order_amount_fen", BigInteger, nullable=False, default=0),
    Column("hlc", Text, nullable=False, default=INITIAL_STAMP),
)

steps = Table(
    "steps",
    metadata,
    Column("institution_id", String(32), ForeignKey("institutions.id"), primary_key=True),
    Column("step", String(32), primary_key=True),
    Column("status", String(16), nullable=False, default=domain.TODO),
    Column("reason", Text, nullable=True),
    Column("note", Text, nullable=True),
    Column("hlc", Text, nullable=True),
    Column("updated_by", String(64), nullable=True),
    Column("received_ms", BigInteger, nullable=True),
)

technicians = Table(
    "technicians",
    metadata,
    Column("id", String(16), primary_key=True),
    Column("name", Text, nullable=False),
    Column("role", String(16), nullable=False),
    Column("zone", String(6), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("created_at", Text, nullable=False),
)

assignments = Table(
    "assignments",
    metadata,
    Column("institution_id", String(32), ForeignKey("institutions.id"), primary_key=True),
    Column("technician_id", String(16), ForeignKey("technicians.id"), nullable=False, index=True),
    Column("assigned_at", Text, nullable=False),
)

visits = Table(
    "visits",
    metadata,
    Column("visit_id", String(64), primary_key=True),
    Column("institution_id", String(32), ForeignKey("institutions.id"), nullable=False, index=True),
    Column("technician_id", String(16), nullable=False),
    Column("data", JSON, nullable=False),
    Column("field_hlcs", JSON, nullable=False),
    Column("has_rectification", Boolean, nullable=False, default=False),
    Column("hlc", Text, nullable=False),
    Column("received_at", Text, nullable=False),
)

# poster.printed and qr.checked: kept for the office's audit.
records = Table(
    "records",
    metadata,
    Column("op_id", String(64), primary_key=True),
    Column("kind", String(32), nullable=False),
    Column("institution_id", String(32), nullable=False, index=True),
    Column("technician_id", String(16), nullable=False),
    Column("data", JSON, nullable=False),
    Column("hlc", Text, nullable=False),
    Column("received_at", Text, nullable=False),
)

# Every op id ever received, with the first answer given for it.
ops = Table(
    "ops",
    metadata,
    Column("op_id", String(64), primary_key=True),
    Column("technician_id", String(16), nullable=False),
    Column("client_id", String(64), nullable=False),
    Column("kind", String(40), nullable=False),
    Column("institution_id", String(32), nullable=False),
    Column("hlc", Text, nullable=False),
    Column("result", JSON, nullable=False),
    Column("received_at", Text, nullable=False),
)

# Concurrent edits of one register by two writers, for supervisors to look at.
conflicts = Table(
    "conflicts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("institution_id", String(32), nullable=False, index=True),
    Column("register_name", Text, nullable=False),
    Column("kept_hlc", Text, nullable=False),
    Column("kept_value", JSON, nullable=True),
    Column("lost_hlc", Text, nullable=False),
    Column("lost_value", JSON, nullable=True),
    Column("op_id", String(64), nullable=False),
    Column("technician_id", String(16), nullable=False),
    Column("created_at", Text, nullable=False),
    Column("resolved", Boolean, nullable=False, default=False),
)

# The change log clients pull from: one global sequence in server order (numbers handed out
# from the `seq` counter in meta, under the writer's lock, so commit order is sequence order).
# Only the latest change of an entity is kept (older ones are deleted when it changes again),
# except `unassigned` ones, which carry the technician they are meant for in `audience`.
changes = Table(
    "changes",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=False),
    Column("kind", String(16), nullable=False),
    Column("entity_id", String(80), nullable=False),
    Column("institution_id", String(32), nullable=False, index=True),
    Column("division_code", String(6), nullable=False),
    Column("audience", String(16), nullable=True),
    # The whole change as UTF-8 JSON, serialised once at write time (pull only joins them).
    Column("body", LargeBinary, nullable=False),
    Index("ix_changes_entity", "kind", "entity_id"),
)

# --- issue 16: enforcement (cases, supervisor reviews, look-back rounds) ---------------------------
# A case per rectification notice (its id is the notice's visit id); `data` is its domain wire form
# (items and escalation); its state is computed with the office's date, never stored.
cases = Table(
    "cases",
    metadata,
    Column("case_id", String(64), primary_key=True),
    Column("institution_id", String(32), ForeignKey("institutions.id"), nullable=False, index=True),
    Column("division_code", String(6), nullable=False, index=True),
    Column("data", JSON, nullable=False),
    Column("hlc", Text, nullable=False),
    Column("updated_at", Text, nullable=False),
)

# Every review of a visit (approve / return with a comment); the latest per visit is the one shown.
reviews = Table(
    "reviews",
    metadata,
    Column("op_id", String(64), primary_key=True),
    Column("visit_id", String(64), nullable=False, index=True),
    Column("institution_id", String(32), nullable=False, index=True),
    Column("decision", String(16), nullable=False),
    Column("comment", Text, nullable=False, default=""),
    Column("reviewer_id", String(16), nullable=False),
    Column("reviewed_on", String(10), nullable=False),
    Column("hlc", Text, nullable=False),
)

# Look-back rounds (回头看) and the institutions each one picked.
rounds = Table(
    "rounds",
    metadata,
    Column("round_id", String(32), primary_key=True),
    Column("division_code", String(6), nullable=False, index=True),
    Column("due_on", String(10), nullable=False),
    Column("created_on", String(10), nullable=False),
    Column("sample", Integer, nullable=False),
    Column("filter", String(32), nullable=False),
    Column("created_by", String(16), nullable=False),
)

round_members = Table(
    "round_members",
    metadata,
    Column("round_id", String(32), ForeignKey("rounds.round_id"), primary_key=True),
    Column("institution_id", String(32), ForeignKey("institutions.id"), primary_key=True),
    Index("ix_round_members_institution", "institution_id"),
)
# --- end of issue 16 tables -----------------------------------------------------------------------

# --- the platform's readings and course list (server-owned, from the platform's exports) -------
# The platform's reading of each step it knows: the date it became done (None: not done).
platform_steps = Table(
    "platform_steps",
    metadata,
    Column("institution_id", String(32), ForeignKey("institutions.id"), primary_key=True),
    Column("step", String(32), primary_key=True),
    Column("done_on", String(10), nullable=True),
)

# The platform's trade of an institution, as of the last import that listed it.
platform_trade = Table(
    "platform_trade",
    metadata,
    Column("institution_id", String(32), ForeignKey("institutions.id"), primary_key=True),
    Column("orders", Integer, nullable=False, default=0),
    Column("order_amount_fen", BigInteger, nullable=False, default=0),
    Column("lessons_consumed", Integer, nullable=False, default=0),
    Column("refunds", Integer, nullable=False, default=0),
    Column("refund_amount_fen", BigInteger, nullable=False, default=0),
    Column("imported_at", Text, nullable=False),
)

# The platform's course list: one row per course, its charging plans as a JSON list.
courses = Table(
    "courses",
    metadata,
    Column("institution_id", String(32), ForeignKey("institutions.id"), primary_key=True),
    Column("course_id", String(64), primary_key=True),
    Column("name", Text, nullable=False),
    Column("kind", String(16), nullable=False),
    Column("class_hours", Integer, nullable=False),
    Column("start_on", String(10), nullable=False),
    Column("end_on", String(10), nullable=False),
    Column("plans", JSON, nullable=False),
    Column("imported_at", Text, nullable=False),
)

# What technicians saw institutions charge on site (charge.observed ops), kept with the visit.
observed_charges = Table(
    "observed_charges",
    metadata,
    Column("op_id", String(64), primary_key=True),
    Column("institution_id", String(32), nullable=False, index=True),
    Column("visit_id", String(64), nullable=True, index=True),
    Column("technician_id", String(16), nullable=False),
    Column("data", JSON, nullable=False),
    Column("breaches", JSON, nullable=False),
    Column("hlc", Text, nullable=False),
    Column("received_at", Text, nullable=False),
)

# --- issue 13: evidence ---
# Files attached to visits, code checks and case items (an `attachment.add` op each).
attachments = Table(
    "attachments",
    metadata,
    Column("attachment_id", String(64), primary_key=True),
    Column("sha256", String(64), nullable=False, index=True),
    Column("institution_id", String(32), ForeignKey("institutions.id"), nullable=False, index=True),
    Column("record_kind", String(16), nullable=False),
    Column("record_id", String(64), nullable=False),
    Column("item", Integer, nullable=True),
    Column("technician_id", String(16), nullable=False),
    Column("data", JSON, nullable=False),
    Column("hlc", Text, nullable=False),
    Column("received_at", Text, nullable=False),
    Index("ix_attachments_record", "record_kind", "record_id"),
)

# Files whose bytes the office holds whole and checked (in its file storage, by SHA-256).
stored_files = Table(
    "stored_files",
    metadata,
    Column("sha256", String(64), primary_key=True),
    Column("size", BigInteger, nullable=False),
    Column("stored_at", Text, nullable=False),
)


# One random mark per write that handed out sequence numbers, keyed by the last number it
# handed out. A client echoes the mark of the furthest seq it has seen; a store put back to an
# older copy (even one that has since handed out those numbers again) cannot show the same mark.
change_marks = Table(
    "change_marks",
    metadata,
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("mark", String(32), nullable=False),
)


# Tokens the office ended (revoked, or replaced by `rotate`): kept so their laptop is told why.
retired_tokens = Table(
    "retired_tokens",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("technician_id", String(16), nullable=False, index=True),
    Column("why", String(16), nullable=False),  # revoked | rotated
    Column("retired_at", Text, nullable=False),
)

# Per technician: when they were last seen, and whether the office revoked their access.
technician_status = Table(
    "technician_status",
    metadata,
    Column("technician_id", String(16), primary_key=True),
    Column("last_seen", Text, nullable=True),
    Column("revoked_at", Text, nullable=True),
)


class StoreError(Exception):
    """The office store cannot be used as asked; the message is bilingual and says what to do."""


def now_iso() -> str:
    """The current UTC time as ISO 8601 text."""
    return datetime.now(UTC).isoformat(timespec="seconds")


def dumps(value: Any) -> str:
    """Compact JSON, non-ASCII kept as is (what goes on the wire)."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


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
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

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
        return create_engine(url, pool_pre_ping=True)
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


_PENDING = "fieldkit_pending_changes"


def emit(conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
    """Append changes (kind, entity_id, institution_id, division_code, data[, audience]) to the log.

    Inside `collecting(conn)` they are gathered and written together when the block ends.
    """
    pending = conn.info.get(_PENDING)
    if pending is not None:
        pending.extend(rows)
    elif rows:
        write_changes(conn, rows)


@contextmanager
def collecting(conn: Connection, seal: bool = False) -> Iterator[list[dict[str, Any]]]:
    """Gather the changes emitted in this block and write them with one allocation at its end.

    The list yielded is the gathered changes (a caller may cut it back, e.g. after undoing an
    op). With `seal`, a sequence number is handed out even when nothing changed, so the block's
    write carries a mark of its own.
    """
    pending: list[dict[str, Any]] = []
    conn.info[_PENDING] = pending
    try:
        yield pending
    finally:
        conn.info.pop(_PENDING, None)
    write_changes(conn, pending, seal)


def write_changes(conn: Connection, rows: Sequence[dict[str, Any]], seal: bool = False) -> None:
    """Write changes to the log under consecutive sequence numbers (and one mark for them)."""
    latest: dict[tuple[str, str], int] = {}
    for i, r in enumerate(rows):
        if r.get("audience") is None:
            latest[(r["kind"], r["entity_id"])] = i
    rows = [
        r
        for i, r in enumerate(rows)
        if r.get("audience") is not None or latest[(r["kind"], r["entity_id"])] == i
    ]
    if not rows and not seal:
        return
    superseded = [r for r in rows if r.get("audience") is None]
    for kind in {r["kind"] for r in superseded}:
        ids = [r["entity_id"] for r in superseded if r["kind"] == kind]
        for chunk in _chunks(ids, 500):
            conn.execute(
                delete(changes).where(
                    changes.c.kind == kind,
                    changes.c.entity_id.in_(chunk),
                    changes.c.audience.is_(None),
                )
            )
    first = _allocate(conn, max(1, len(rows)))
    if rows:
        conn.execute(
            insert(changes),
            [
                {
                    "seq": seq,
                    "kind": r["kind"],
                    "entity_id": r["entity_id"],
                    "institution_id": r["institution_id"],
                    "division_code": r["division_code"],
                    "audience": r.get("audience"),
                    "body": change_body(seq, r["kind"], r["entity_id"], r["data"]),
                }
                for seq, r in enumerate(rows, start=first)
            ],
        )
    conn.execute(
        insert(change_marks).values(seq=first + max(1, len(rows)) - 1, mark=secrets.token_hex(8))
    )


def mark_of(conn: Connection, seq: int) -> str | None:
    """The proof of having seen the store up to `seq`: "seq.mark" of the write that holds it."""
    if seq <= 0:
        return None
    found = conn.execute(
        select(change_marks.c.mark)
        .where(change_marks.c.seq >= seq)
        .order_by(change_marks.c.seq)
        .limit(1)
    ).scalar()
    return f"{seq}.{found}" if found else None


def holds(conn: Connection, proof: str) -> bool:
    """Whether this store is (still or again) the one a client saw up to the seq of `proof`."""
    seq_text, _, mark = proof.partition(".")
    if not seq_text.isdigit() or not mark:
        return False
    seq = int(seq_text)
    if seq > int(conn.execute(select(meta.c.value).where(meta.c.key == "seq")).scalar() or 0):
        return False
    return mark_of(conn, seq) == proof


def _allocate(conn: Connection, count: int) -> int:
    """Reserve `count` sequence numbers (the counter row stays locked until commit); the first."""
    last = conn.execute(select(meta.c.value).where(meta.c.key == "seq").with_for_update()).first()
    start = int(last.value) + 1 if last else 1
    if last is None:
        conn.execute(insert(meta).values(key="seq", value=str(start + count - 1)))
    else:
        conn.execute(update(meta).where(meta.c.key == "seq").values(value=str(start + count - 1)))
    return start


def change_body(seq: int, kind: str, entity_id: str, data: dict[str, Any] | str) -> bytes:
    """A change as it goes on the wire, serialised once at write time."""
    text = data if isinstance(data, str) else dumps(data)
    return f'{{"seq":{seq},"kind":"{kind}","id":{json.dumps(entity_id)},"data":{text}}}'.encode()


def _chunks(items: Sequence[str], size: int) -> Iterable[Sequence[str]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


# --- wire shapes ---------------------------------------------------------------------------------
# The institution fields stored in columns of the same name (the payment is two columns).
INSTITUTION_WIRE = tuple(k for k in domain.INSTITUTION_FIELDS if k != "payment")


def _mapping(row: Any) -> Mapping[str, Any]:
    return row._mapping if hasattr(row, "_mapping") else row


def institution_wire(row: Any) -> dict[str, Any]:
    """An institution (row or column mapping) as the `institution` change data of DESIGN.md."""
    m = _mapping(row)
    data = {k: m[k] for k in INSTITUTION_WIRE}
    data["payment"] = (
        {"payload": m["payment_payload"], "signature": m["payment_signature"]}
        if m["payment_payload"]
        else None
    )
    data["hlc"] = m["hlc"] or INITIAL_STAMP
    return data


def step_wire(row: Any) -> dict[str, Any]:
    """A steps row as the `step` change data."""
    m = _mapping(row)
    return {
        "institution_id": m["institution_id"],
        "step": m["step"],
        "status": m["status"],
        "reason": m["reason"],
        "note": m["note"],
        "hlc": m["hlc"],
        "updated_by": m["updated_by"],
    }


def visit_wire(row: Any) -> dict[str, Any]:
    """A visits row as the `visit` change data (amendments applied)."""
    m = _mapping(row)
    return dict(m["data"]) | {
        "institution_id": m["institution_id"],
        "technician_id": m["technician_id"],
        "hlc": m["hlc"],
    }


def institution_change(row: Any) -> dict[str, Any]:
    """The change-log row for an institution's current master data."""
    data = institution_wire(row)
    return {
        "kind": "institution",
        "entity_id": data["id"],
        "institution_id": data["id"],
        "division_code": data["division_code"],
        "data": data,
    }


def step_change(row: Any, division_code: str) -> dict[str, Any]:
    """The change-log row for one step's current state."""
    data = step_wire(row)
    return {
        "kind": "step",
        "entity_id": f"{data['institution_id']}:{data['step']}",
        "institution_id": data["institution_id"],
        "division_code": division_code,
        "data": data,
    }


def visit_change(row: Any, division_code: str) -> dict[str, Any]:
    """The change-log row for one visit's current state."""
    data = visit_wire(row)
    return {
        "kind": "visit",
        "entity_id": data["visit_id"],
        "institution_id": data["institution_id"],
        "division_code": division_code,
        "data": data,
    }


def snapshot_changes(conn: Connection, institution_ids: Sequence[str]) -> list[dict[str, Any]]:
    """Fresh changes for the whole current state (institution, steps, visits) of institutions."""
    rows: list[dict[str, Any]] = []
    for chunk in _chunks(list(institution_ids), 500):
        found = conn.execute(
            select(institutions).where(institutions.c.id.in_(chunk)).order_by(institutions.c.id)
        ).all()
        division = {r.id: r.division_code for r in found}
        rows += [institution_change(r) for r in found]
        step_rows = conn.execute(select(steps).where(steps.c.institution_id.in_(chunk))).all()
        rows += [step_change(r, division[r.institution_id]) for r in step_rows]
        visit_rows = conn.execute(
            select(visits).where(visits.c.institution_id.in_(chunk)).order_by(visits.c.received_at)
        ).all()
        rows += [visit_change(r, division[r.institution_id]) for r in visit_rows]
        rows += enforcement_changes(conn, chunk, division)
        rows += platform_changes(conn, chunk, division)
        rows += attachment_changes(conn, attachments.c.institution_id.in_(chunk))
    return rows


def case_change(row: Any) -> dict[str, Any]:
    """The change-log row for one case (items and escalation as the office holds them)."""
    m = _mapping(row)
    return {
        "kind": "case",
        "entity_id": m["case_id"],
        "institution_id": m["institution_id"],
        "division_code": m["division_code"],
        "data": dict(m["data"]) | {"hlc": m["hlc"]},
    }


def review_change(row: Any, division_code: str, amended: bool = False) -> dict[str, Any]:
    """The change-log row for the latest review of one visit (`amended`: changed since)."""
    m = _mapping(row)
    return {
        "kind": "review",
        "entity_id": m["visit_id"],
        "institution_id": m["institution_id"],
        "division_code": division_code,
        "data": {
            "visit_id": m["visit_id"],
            "institution_id": m["institution_id"],
            "decision": m["decision"],
            "comment": m["comment"],
            "reviewer_id": m["reviewer_id"],
            "reviewed_on": m["reviewed_on"],
            "hlc": m["hlc"],
            "amended": amended,
        },
    }


def round_change(round_row: Any, institution_id: str, division_code: str) -> dict[str, Any]:
    """The change-log row for one institution picked by a look-back round."""
    m = _mapping(round_row)
    return {
        "kind": "round",
        "entity_id": f"{m['round_id']}:{institution_id}",
        "institution_id": institution_id,
        "division_code": division_code,
        "data": {
            "round_id": m["round_id"],
            "institution_id": institution_id,
            "division_code": m["division_code"],
            "due_on": m["due_on"],
            "created_on": m["created_on"],
            "created_by": m["created_by"],
            "filter": m["filter"],
            "sample": m["sample"],
        },
    }


def amended_since(field_hlcs: Mapping[str, str] | None, hlc: str) -> bool:
    """Whether a visit (its per-field stamps) was amended after the stamp `hlc`."""
    return any(domain.newer(stamp, hlc) for stamp in (field_hlcs or {}).values() if stamp)


def latest_reviews(conn: Connection, visit_ids: Sequence[str]) -> dict[str, Any]:
    """The latest review row of each of these visits (by stamp)."""
    found: dict[str, Any] = {}
    for chunk in _chunks(list(visit_ids), 500):
        for row in conn.execute(
            select(reviews).where(reviews.c.visit_id.in_(chunk)).order_by(reviews.c.hlc)
        ):
            found[row.visit_id] = row
    return found


def enforcement_changes(
    conn: Connection, institution_ids: Sequence[str], division: Mapping[str, str]
) -> list[dict[str, Any]]:
    """Fresh changes for the cases, latest reviews and round picks of these institutions."""
    rows = [
        case_change(r)
        for r in conn.execute(select(cases).where(cases.c.institution_id.in_(institution_ids)))
    ]
    visit_ids = [
        r[0]
        for r in conn.execute(
            select(reviews.c.visit_id).where(reviews.c.institution_id.in_(institution_ids))
        )
    ]
    latest = latest_reviews(conn, sorted(set(visit_ids)))
    hlcs: dict[str, Any] = {}
    if latest:
        query = select(visits.c.visit_id, visits.c.field_hlcs).where(visits.c.visit_id.in_(latest))
        hlcs = {r[0]: r[1] for r in conn.execute(query)}
    rows += [
        review_change(r, division[r.institution_id], amended_since(hlcs.get(r.visit_id), r.hlc))
        for r in latest.values()
    ]
    joined = round_members.join(rounds, rounds.c.round_id == round_members.c.round_id)
    for r in conn.execute(
        select(rounds, round_members.c.institution_id)
        .select_from(joined)
        .where(round_members.c.institution_id.in_(institution_ids))
    ):
        rows.append(round_change(r, r.institution_id, division[r.institution_id]))
    return rows


def platform_changes(
    conn: Connection, institution_ids: Sequence[str], division: Mapping[str, str]
) -> list[dict[str, Any]]:
    """Fresh `platform` and `course` changes for institutions (ids → division code given)."""
    from .platform import platform_change_rows  # the platform's readings live there

    return platform_change_rows(conn, list(institution_ids), division)


def attachment_changes(conn: Connection, where: Any) -> list[dict[str, Any]]:
    """Change-log rows for the attachments matching `where` (with whether their file is stored)."""
    found = conn.execute(
        select(attachments, institutions.c.division_code, stored_files.c.sha256.label("held"))
        .join(institutions, institutions.c.id == attachments.c.institution_id)
        .outerjoin(stored_files, stored_files.c.sha256 == attachments.c.sha256)
        .where(where)
        .order_by(attachments.c.received_at, attachments.c.attachment_id)
    ).all()
    return [
        {
            "kind": "attachment",
            "entity_id": r.attachment_id,
            "institution_id": r.institution_id,
            "division_code": r.division_code,
            "data": dict(r.data)
            | {
                "institution_id": r.institution_id,
                "added_by": r.technician_id,
                "added_at": r.received_at,
                "hlc": r.hlc,
                "stored": r.held is not None,
            },
        }
        for r in found
    ]
