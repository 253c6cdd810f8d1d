"""The platform's readings and courses: CLI import → real office → real sync → a real client's cache."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from cache.store import Store
from fieldkit import domain
from fieldkit.server.store import Store as OfficeStore
from fieldkit.server.store import observed_charges
from fieldkit.sync import SyncClient, login
from tests.live_server import LiveServer, SmallOffice, admin, make_uscc, small_office, write_csv

PLATFORM = [
    "统一社会信用代码,注册日期,资质审核通过日期,订单数,订单金额（元）",
    f'{make_uscc(1, "430702")},2025-03-02,2025-03-09,3,"1,200.00"',
    f"{make_uscc(2, '430702')},2025-03-05,,0,0",
]
COURSES = [
    "uscc,course_id,name,kind,class_hours,start_on,end_on,charge_amount,charge_hours,charge_months,"
    "collect_from",
    f"{make_uscc(1, '430702')},KC01,少儿美术季度班,non_academic,36,2026-09-01,2026-11-30,2880,36,3,",
    f"{make_uscc(2, '430702')},KC02,素描年卡班,non_academic,96,2026-09-01,2027-08-31,6800,96,12,",
]


@dataclass
class Laptop:
    office: SmallOffice
    store: Store
    client: SyncClient


@pytest.fixture
async def laptop(tmp_path: Path) -> AsyncIterator[Laptop]:
    office = small_office(tmp_path)
    for command, lines in (("import-platform", PLATFORM), ("import-courses", COURSES)):
        code, out = admin(office.db, command, str(write_csv(tmp_path / f"{command}.csv", lines)))
        assert code == 0, out
    with LiveServer(office.db) as server:
        settings = await login(server.url, office.tokens["tech_a"])
        with Store.open(settings.cache_path) as store:
            client = SyncClient(settings, store, office.tokens["tech_a"])
            await client.run_round()
            yield Laptop(office, store, client)
            await client.aclose()


async def test_readings_and_courses_reach_the_cache(laptop: Laptop) -> None:
    first, second, third = laptop.office.wuling
    reading = laptop.store.platform_reading(first)
    assert reading is not None and reading["steps"]["qualification"] == "2025-03-09"
    assert reading["orders"] == 3 and reading["order_amount_fen"] == 120_000
    assert laptop.store.platform_reading(third) is None
    (course,) = laptop.store.courses(second)
    assert course["course_id"] == "KC02" and [b.rule for _, b in course["checked"]] == [
        "prepaid_hours",
        "prepaid_months",
        "prepaid_amount",
    ]
    assert laptop.store.courses(first)[0]["checked"] == []


async def test_discrepancies_of_the_cached_list(laptop: Laptop, tmp_path: Path) -> None:
    _, second, third = laptop.office.wuling
    store, tech = laptop.store, "T0001"
    store.set_step(second, "registered", "done", by=tech)
    store.set_step(second, "qualification", "done", by=tech)  # not on the platform (yet)
    store.set_step(third, "registered", "done", by=tech)
    store.set_step(third, "qualification", "blocked", "缺证", by=tech)
    await laptop.client.run_round()
    lines = [*PLATFORM, f"{make_uscc(3, '430702')},2025-04-01,2025-04-02,0,0"]
    code, out = admin(
        laptop.office.db, "import-platform", str(write_csv(tmp_path / "p.csv", lines))
    )
    assert code == 0, out
    await laptop.client.run_round()
    assert store.rejected_ops() == []
    assert store.discrepancies(second, date.today()) == []  # marked today: a week to confirm
    next_week = date.fromordinal(date.today().toordinal() + 7)
    assert [d.kind for d in store.discrepancies(second, next_week)] == ["unconfirmed"]
    (blocked,) = store.discrepancies(third, date.today())
    assert blocked.kind == "field_blocked" and "still blocked in the field" in blocked.en
    assert store.discrepant_institutions(date.today()) == {third}
    assert store.discrepant_institutions(next_week) == {second, third}


async def test_a_platform_done_is_refused_offline_and_the_courses_step_names_the_course(
    laptop: Laptop,
) -> None:
    first, second, _ = laptop.office.wuling
    with pytest.raises(domain.ValidationError) as caught:
        laptop.store.set_step(first, "registered", "in_progress", by="T0001")
    assert caught.value.code == "platform_confirmed" and "2025-03-02" in caught.value.zh
    laptop.store.set_step(second, "registered", "done", by="T0001")
    with pytest.raises(domain.ValidationError) as caught:
        laptop.store.set_step(second, "courses", "done", by="T0001")
    assert "素描年卡班" in caught.value.zh and "KC02" in caught.value.en
    laptop.store.set_step(first, "registered", "done", by="T0001")
    laptop.store.set_step(first, "courses", "done", by="T0001")  # its course keeps the rules


async def test_an_observed_charge_is_checked_offline_and_kept_by_the_office(laptop: Laptop) -> None:
    first = laptop.office.wuling[0]
    op, breaches = laptop.store.record_charge(
        first, None, "KC01", None, 520_000, 36, 3, date(2026, 7, 31), source="receipt"
    )
    assert [b.rule for b in breaches] == ["prepaid_amount", "prepaid_early", "listing"]
    assert op["kind"] == "charge.observed"
    await laptop.client.run_round()
    assert laptop.store.rejected_ops() == []
    office = OfficeStore(laptop.office.db)
    try:
        with office.engine.connect() as conn:
            row = conn.execute(select(observed_charges)).one()
    finally:
        office.close()
    assert row.data["amount_fen"] == 520_000 and len(row.breaches) == 3


async def test_a_course_the_platform_drops_leaves_the_cache(laptop: Laptop, tmp_path: Path) -> None:
    second = laptop.office.wuling[1]
    again = COURSES[:2] + [
        f"{make_uscc(2, '430702')},KC03,书法班,non_academic,20,2026-09-01,2026-11-30,800,20,3,"
    ]
    code, out = admin(
        laptop.office.db, "import-courses", str(write_csv(tmp_path / "c2.csv", again))
    )
    assert code == 0, out
    await laptop.client.run_round()
    assert [c["course_id"] for c in laptop.store.courses(second)] == ["KC03"]
