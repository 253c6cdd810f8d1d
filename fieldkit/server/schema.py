"""The office store's tables (SQLAlchemy Core), the same on SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
)

from fieldkit import domain

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
