"""Loading the generated Hunan province into an empty office store, in bulk."""

from __future__ import annotations

from sqlalchemy import Connection, func, select

from fieldkit.demo_data import generate_province

from . import office
from .platform import demo_platform_steps, seed_readings
from .store import Store, institutions


class SeedError(Exception):
    """The demo province cannot be loaded here; the message is bilingual."""


def seed_demo(store: Store, seed: int = 2026) -> dict[str, int]:
    """Insert every generated institution and step, with signed payment codes for bank passes."""
    _refuse_if_not_empty(store)
    province = generate_province(seed)
    key = store.private_key
    rows = [dict(r) for r in province.institutions]
    for row in rows:
        row.pop("payment", None)
        if row["bank_status"] == "passed":
            row["payment_payload"], row["payment_signature"] = office.payment_for(row, key)
    with store.writing() as conn:
        _refuse_if_not_empty(store, conn)
        office.add_institutions(conn, rows, list(province.steps))
        seed_readings(conn, rows, demo_platform_steps(province.steps))
        store.save_clock(conn)
    return {"institutions": len(rows), "payments": sum(1 for r in rows if r.get("payment_payload"))}


def _refuse_if_not_empty(store: Store, conn: Connection | None = None) -> None:
    """SeedError when the store already holds institutions."""
    query = select(func.count()).select_from(institutions)
    if conn is None:
        with store.engine.connect() as own:
            count = own.execute(query).scalar_one()
    else:
        count = conn.execute(query).scalar_one()
    if count:
        raise SeedError(
            f"数据库里已有 {count} 家机构，演示数据只能载入空数据库 / "
            f"the store already holds {count} institutions; the demo province "
            "loads into an empty store only"
        )
