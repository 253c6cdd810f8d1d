"""Loading the generated Hunan province into an empty office store, in bulk."""

from __future__ import annotations

from sqlalchemy import func, select

from fieldkit.demo_data import generate_province

from . import office
from .store import Store, institutions


class SeedError(Exception):
    """The demo province cannot be loaded here; the message is bilingual."""


def seed_demo(store: Store, seed: int = 2026) -> dict[str, int]:
    """Insert every generated institution and step, with signed payment codes for bank passes."""
    province = generate_province(seed)
    key = store.private_key
    rows = [dict(r) for r in province.institutions]
    for row in rows:
        row.pop("payment", None)
        if row["bank_status"] == "passed":
            row["payment_payload"], row["payment_signature"] = office.payment_for(row, key)
    with store.writing() as conn:
        count = conn.execute(select(func.count()).select_from(institutions)).scalar_one()
        if count:
            raise SeedError(f"数据库里已有 {count} 家机构，演示数据只能载入空数据库 / "
                            f"the store already holds {count} institutions; the demo province "
                            "loads into an empty store only")
        office.add_institutions(conn, rows, list(province.steps))
        store.save_clock(conn)
    return {"institutions": len(rows),
            "payments": sum(1 for r in rows if r.get("payment_payload"))}
