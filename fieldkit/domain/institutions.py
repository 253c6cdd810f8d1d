"""The institution record as it travels between office and laptop (DESIGN.md, Sync)."""

from __future__ import annotations

# Every field of an `institution` change, in wire order.
INSTITUTION_FIELDS: tuple[str, ...] = (
    "id",
    "name",
    "uscc",
    "licence_no",
    "division_code",
    "address",
    "contact_name",
    "contact_phone",
    "kind",
    "pinyin",
    "initials",
    "bank_status",
    "bank_reason",
    "payment",
    "orders",
    "order_amount_fen",
)
# The fields a technician may change on site (`contact.set`); the office owns every other one.
CONTACT_FIELDS: tuple[str, ...] = ("contact_name", "contact_phone")
MASTER_FIELDS: tuple[str, ...] = tuple(k for k in INSTITUTION_FIELDS if k not in CONTACT_FIELDS)
