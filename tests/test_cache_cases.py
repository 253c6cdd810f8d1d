"""Cases, reviews, rounds and the due list on the laptop, synced with the real office."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import date, datetime
from pathlib import Path

import pytest

from cache.cases import street_of
from cache.store import Store
from fieldkit import domain
from fieldkit.sync import SyncClient, login
from tests.live_server import LiveServer, SmallOffice, admin, small_office

INST = "JG4307020001"
TODAY = date(2026, 11, 28)


@dataclass
class Laptop:
    store: Store
    client: SyncClient
    who: str

    async def sync(self) -> None:
        result = await self.client.run_round()
        assert result.rejected == 0, self.store.rejected_ops()


@pytest.fixture
async def office(tmp_path: Path) -> AsyncIterator[tuple[SmallOffice, LiveServer]]:
    built = small_office(tmp_path)
    with LiveServer(built.db) as server:
        server.app.state.today = lambda: TODAY
        yield built, server


async def laptop(office: tuple[SmallOffice, LiveServer], who: str) -> Laptop:
    built, server = office
    settings = await login(server.url, built.tokens[who], profile=who)
    store = Store.open(settings.cache_path)
    return Laptop(store, SyncClient(settings, store, built.tokens[who]), who)


async def close(*laptops: Laptop) -> None:
    for one in laptops:
        await one.client.aclose()
        one.store.close()


def visit(
    n: int,
    day: int,
    *,
    kind: str = "guidance",
    next_on: date | None = None,
    notice: domain.Rectification | None = None,
    outcome: str = "completed",
) -> domain.Visit:
    return domain.Visit(
        visit_id=f"v{n}",
        institution_id=INST,
        technician_id="T0001",
        kind=kind,
        started_at=datetime(2026, 11, day, 9, 0),
        ended_at=datetime(2026, 11, day, 10, 0),
        outcome=outcome,
        rectification=notice,
        next_visit_on=next_on,
        notes="记录",
    )


def test_the_street_of_an_address() -> None:
    assert street_of("湖南省常德市武陵区人民路12号") == "人民路"
    assert street_of("湖南省常德市鼎城区建设北路3号") == "建设北路"
    assert street_of("") == "—"


async def test_a_follow_up_date_survives_a_later_visit_without_one(
    office: tuple[SmallOffice, LiveServer],
) -> None:
    tech = await laptop(office, "tech_a")
    try:
        await tech.sync()
        tech.store.create_visit(visit(1, 20, next_on=date(2026, 12, 1)))
        tech.store.create_visit(visit(2, 25))  # leaves "next visit" empty
        await tech.sync()
        (row,) = [r for r in tech.store.assignments() if r.id == INST]
        assert row.next_visit_on == "2026-12-01"
        tasks = tech.store.due_list(date(2026, 11, 30))
        assert [(t.kind, t.institution_id, t.on, t.bucket) for t in tasks] == [
            ("follow_up", INST, date(2026, 12, 1), "week")
        ]
        tech.store.create_visit(visit(3, 30))  # a visit before the date leaves it standing
        assert [t.kind for t in tech.store.due_list(date(2026, 11, 30))] == ["follow_up"]
        on_the_day = replace(
            visit(4, 30), started_at=datetime(2026, 12, 1, 9), ended_at=datetime(2026, 12, 1, 10)
        )
        tech.store.create_visit(on_the_day)  # a visit on the date meets it
        assert [t for t in tech.store.due_list(date(2026, 12, 1)) if t.kind == "follow_up"] == []
    finally:
        await close(tech)


async def test_a_case_from_notice_to_closure_on_both_laptops(
    office: tuple[SmallOffice, LiveServer],
) -> None:
    tech, boss = await laptop(office, "tech_a"), await laptop(office, "city_supervisor")
    try:
        await tech.sync()
        notice = domain.Rectification(("张贴监管收款码", "开通退费流程"), date(2026, 11, 30))
        tech.store.create_visit(visit(1, 28, notice=notice, outcome="partial"))
        (case,) = tech.store.cases(INST)  # open on the laptop before any sync
        assert case.case_id == "v1" and domain.case_state(case, TODAY) == "due"
        assert [t.kind for t in tech.store.due_list(TODAY)] == ["case"]
        await tech.sync()
        await boss.sync()
        (row,) = boss.store.ledger(date(2026, 12, 2))
        assert row["state"] == "overdue" and row["institution_name"] == "常德星辰教育培训学校"
        boss.store.escalate_case(
            "v1",
            domain.Escalation("interview_scheduled", date(2026, 12, 2), "T0003", place="区教育局"),
            supervisor=True,
        )
        with pytest.raises(domain.ValidationError, match="Schedule the interview|须先"):
            boss.store.escalate_case(
                "v1",
                domain.Escalation("revocation_recommended", date(2026, 12, 2), "T0003", note="x"),
                supervisor=True,
            )
        boss.store.escalate_case(
            "v1",
            domain.Escalation(
                "interview_held",
                date(2026, 12, 3),
                "T0003",
                outcome="承诺整改",
                new_deadline=date(2026, 12, 10),
            ),
            supervisor=True,
        )
        assert boss.store.ledger(date(2026, 12, 4))[0]["state"] == "open"  # unsent, laid over
        await boss.sync()
        await tech.sync()
        (case,) = tech.store.cases(INST)
        assert case.steps_taken == ("interview_scheduled", "interview_held")
        assert case.current_deadline == date(2026, 12, 10)
        check = visit(2, 29, kind="rectification_check")
        tech.store.create_visit(check)
        tech.store.set_case_item("v1", 0, "rectified", visit_id="v2", by="T0001")
        with pytest.raises(domain.ValidationError, match="closed twice"):
            tech.store.set_case_item("v1", 0, "rectified", visit_id="v2", by="T0001")
        tech.store.set_case_item("v1", 1, "rectified", visit_id="v2", by="T0001")
        assert domain.case_state(tech.store.cases(INST)[0], date(2026, 12, 4)) == "rectified"
        await tech.sync()
        await boss.sync()
        boss.store.escalate_case(
            "v1", domain.Escalation("closed", date(2026, 12, 4), "T0003"), supervisor=True
        )
        await boss.sync()
        await tech.sync()
        assert tech.store.ledger(date(2026, 12, 4))[0]["state"] == "closed"
        assert tech.store.due_list(date(2026, 12, 4)) == []
    finally:
        await close(tech, boss)


async def test_a_returned_visit_is_amended_by_its_technician(
    office: tuple[SmallOffice, LiveServer],
) -> None:
    tech, boss = await laptop(office, "tech_a"), await laptop(office, "city_supervisor")
    try:
        await tech.sync()
        tech.store.create_visit(visit(1, 27))
        await tech.sync()
        await boss.sync()
        with pytest.raises(domain.ValidationError, match="Only a supervisor"):
            tech.store.review_visit("v1", "approved", supervisor=False, on=TODAY)
        with pytest.raises(domain.ValidationError, match="comment"):
            boss.store.review_visit("v1", "returned", "", supervisor=True, on=TODAY)
        boss.store.review_visit("v1", "returned", "请写明发现的问题", supervisor=True, on=TODAY)
        await boss.sync()
        await tech.sync()
        (task,) = tech.store.due_list(TODAY)
        assert (task.kind, task.ref, task.bucket) == ("returned", "v1", "today")
        assert "请写明发现的问题" in task.detail
        tech.store.amend_visit("v1", {"issues": ["前台未张贴收款码"]})
        assert tech.store.due_list(TODAY) == []  # answered here at once
        await tech.sync()
        assert tech.store.due_list(TODAY) == []  # and by the office's word after the pull
        assert tech.store.reviews(INST)["v1"].amended
        assert tech.store.visits(INST)[0]["issues"] == ["前台未张贴收款码"]
        await boss.sync()
        assert boss.store.reviews(INST)["v1"].amended
    finally:
        await close(tech, boss)


async def test_a_look_back_round_falls_due_on_two_technicians_lists(
    office: tuple[SmallOffice, LiveServer],
) -> None:
    built, _ = office
    code, out = admin(
        built.db, "campaign", "--division", "430700", "--due", "2026-12-01", "--today", "2026-11-28"
    )
    assert code == 0, out
    a, b = await laptop(office, "tech_a"), await laptop(office, "tech_b")
    boss = await laptop(office, "city_supervisor")
    try:
        for one in (a, b, boss):
            await one.sync()
        assert {t.institution_id for t in a.store.due_list(TODAY)} == set(built.wuling)
        assert {t.institution_id for t in b.store.due_list(TODAY)} == set(built.dingcheng)
        assert {t.kind for t in b.store.due_list(TODAY)} == {"round"}
        a.store.create_visit(visit(1, 29, kind="follow_up"))
        await a.sync()
        await boss.sync()
        (progress,) = boss.store.round_progress(date(2026, 12, 2))
        assert (progress["picked"], progress["done"], progress["overdue"]) == (5, 1, 4)
    finally:
        await close(a, b, boss)
