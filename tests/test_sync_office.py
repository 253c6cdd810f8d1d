"""Sync against the real office server under uvicorn: a round trip, a revoked token, a reassignment."""

from __future__ import annotations

import re
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, update

from cache.store import Store
from fieldkit import config, domain
from fieldkit.demo_data import DEMO_TECH_COUNTY, generate_province
from fieldkit.server import office as office_admin
from fieldkit.server.auth import token_hash
from fieldkit.server.store import Store as OfficeStore
from fieldkit.server.store import (
    assignments,
    institutions,
    ops,
    steps,
    technicians,
    visits,
)
from fieldkit.sync import SyncClient, SyncError, login
from tests.fault_proxy import FaultProxy
from tests.live_server import LiveServer, admin

PROVINCE = generate_province()
COUNTY = sorted(
    (i for i in PROVINCE.institutions if i["division_code"] == DEMO_TECH_COUNTY),
    key=lambda i: i["id"],
)


@dataclass
class Person:
    """Someone with a token at the office, and (once logged in) a laptop: profile, cache, client."""

    id: str
    name: str
    token: str
    store: Store | None = None
    client: SyncClient | None = None
    op_ids: list[str] = field(default_factory=list)


class RealOffice:
    """An office store with a slice of the demo county and its people, served by uvicorn."""

    def __init__(self, tmp: Path, institutions: int = 12) -> None:
        self.db = tmp / "office.sqlite"
        code, out = admin(self.db, "init")
        assert code == 0, out
        self.institutions = [dict(i) for i in COUNTY[:institutions]]
        ids = {i["id"] for i in self.institutions}
        steps = [s for s in PROVINCE.steps if s["institution_id"] in ids]
        store = OfficeStore(self.db)
        try:
            with store.writing() as conn:
                office_admin.add_institutions(conn, self.institutions, steps)
        finally:
            store.close()
        self.ids = sorted(ids)

    def add(self, name: str, supervisor: bool = False) -> Person:
        """A technician (or supervisor) of the demo county, with their token."""
        argv = ["add-technician", name, "--zone", DEMO_TECH_COUNTY]
        code, out = admin(self.db, *(argv + ["--supervisor"] if supervisor else argv))
        assert code == 0, out
        tech_id = re.search(r"\b(T\d{4})\b", out)
        token = re.search(r"token: (\S+)", out)
        assert tech_id and token, out
        return Person(tech_id.group(1), name, token.group(1))

    def assign(self, person: Person, ids: list[str]) -> None:
        code, out = admin(self.db, "assign", "--technician", person.id, "--institution", *ids)
        assert code == 0, out

    def set_token(self, person: Person, token: str) -> None:
        """Revoke the person's token by giving them another one (only its hash is kept)."""
        with self.server_store() as store, store.writing() as conn:
            conn.execute(
                update(technicians)
                .where(technicians.c.id == person.id)
                .values(token_hash=token_hash(token))
            )

    def server_store(self) -> Any:
        from contextlib import contextmanager

        @contextmanager
        def opened() -> Iterator[OfficeStore]:
            store = OfficeStore(self.db)
            try:
                yield store
            finally:
                store.close()

        return opened()

    def op_counts(self) -> dict[str, tuple[int, str]]:
        """op_id -> (times recorded, first answer) as the office keeps them."""
        with self.server_store() as store, store.engine.connect() as conn:
            rows = conn.execute(
                select(ops.c.op_id, func.count(), ops.c.result).group_by(ops.c.op_id)
            ).all()
        return {r[0]: (r[1], r[2]["status"]) for r in rows}

    def registers(self) -> dict[str, dict[str, Any]]:
        """Per institution: steps (status, reason, hlc), contact (name, phone), visits (notes, outcome)."""
        with self.server_store() as store, store.engine.connect() as conn:
            out: dict[str, dict[str, Any]] = {
                r.id: {"steps": {}, "contact": (r.contact_name, r.contact_phone), "visits": {}}
                for r in conn.execute(select(institutions))
            }
            for r in conn.execute(select(steps)):
                out[r.institution_id]["steps"][r.step] = (r.status, r.reason, r.hlc)
            for r in conn.execute(select(visits)):
                out[r.institution_id]["visits"][r.visit_id] = (
                    r.data.get("notes"),
                    r.data.get("outcome"),
                )
        return out

    def assigned(self, person: Person) -> list[str]:
        with self.server_store() as store, store.engine.connect() as conn:
            return sorted(
                conn.execute(
                    select(assignments.c.institution_id).where(
                        assignments.c.technician_id == person.id
                    )
                ).scalars()
            )

    def visit_ids(self) -> list[str]:
        with self.server_store() as store, store.engine.connect() as conn:
            return sorted(conn.execute(select(visits.c.visit_id)).scalars())


def replica(store: Store) -> dict[str, dict[str, Any]]:
    """A cache's registers in the shape of RealOffice.registers()."""
    out: dict[str, dict[str, Any]] = {}
    for row in store.assignments(limit=10_000):
        inst = store.institution(row.id) or {}
        out[row.id] = {
            "steps": {k: (s.status, s.reason, s.hlc) for k, s in store.step_states(row.id).items()},
            "contact": (inst.get("contact_name"), inst.get("contact_phone")),
            "visits": {
                v["visit_id"]: (v.get("notes"), v.get("outcome")) for v in store.visits(row.id)
            },
        }
    return out


async def connect(
    person: Person, url: str, batch_size: int = 200, via: str | None = None
) -> Person:
    """Log the person in on their own profile and open their cache and sync client."""
    settings = await login(url, person.token, profile=person.id)
    if via is not None:  # the same office, reached through a proxy
        settings = replace(settings, server_url=via)
    person.store = Store.open(settings.cache_path)
    person.client = SyncClient(settings, person.store, person.token, batch_size=batch_size)
    return person


async def disconnect(*people: Person) -> None:
    for person in people:
        if person.client is not None:
            await person.client.aclose()
        if person.store is not None:
            person.store.close()


def visit(person: Person, inst_id: str, n: int, notes: str = "") -> domain.Visit:
    return domain.Visit(
        visit_id=f"{person.id}-v{n}",
        institution_id=inst_id,
        technician_id=person.id,
        kind="guidance",
        started_at=datetime(2026, 11, 28, 9, n % 60),
        notes=notes,
    )


@pytest.fixture
def office(tmp_path: Path) -> Iterator[tuple[RealOffice, LiveServer]]:
    real = RealOffice(tmp_path)
    with LiveServer(real.db) as server:
        yield real, server


async def test_wrong_token_is_refused_at_login(office: tuple[RealOffice, LiveServer]) -> None:
    real, server = office
    with pytest.raises(SyncError) as caught:
        await login(server.url, "fk_not-a-real-token")
    assert caught.value.kind == "auth" and "令牌无效" in caught.value.zh


async def test_a_round_trip_reaches_the_supervisor(office: tuple[RealOffice, LiveServer]) -> None:
    real, server = office
    tech, boss = real.add("李娜"), real.add("王主任", supervisor=True)
    real.assign(tech, real.ids[:6])
    await connect(tech, server.url)
    await connect(boss, server.url)
    assert tech.store and tech.client and boss.store and boss.client
    try:
        first = await tech.client.run_round()
        assert first.pulled > 0 and tech.store.counts()["institutions"] == 6
        inst = real.ids[0]
        tech.store.set_step(inst, "parent_app", "in_progress", by=tech.id)
        tech.store.set_contact(inst, contact_phone="13912345678")
        tech.store.create_visit(visit(tech, inst, 1, "首次走访，资料齐全"))
        result = await tech.client.run_round()
        assert (result.pushed, result.applied) == (3, 3)
        assert tech.store.counts()["unsent"] == 0
        await boss.client.run_round()
        assert boss.store.counts()["institutions"] == len(real.ids)
        assert boss.store.step_states(inst)["parent_app"].status == "in_progress"
        assert (boss.store.institution(inst) or {})["contact_phone"] == "13912345678"
        assert [v["notes"] for v in boss.store.visits(inst)] == ["首次走访，资料齐全"]
        assert tech.store.get_meta("last_sync")
    finally:
        await disconnect(tech, boss)


async def test_a_revoked_token_mid_round_keeps_every_unsent_change(
    office: tuple[RealOffice, LiveServer],
) -> None:
    real, server = office
    tech = real.add("李娜")
    real.assign(tech, real.ids[:4])
    await connect(tech, server.url, batch_size=2)
    assert tech.store and tech.client
    try:
        await tech.client.run_round()
        made = [tech.store.create_visit(visit(tech, real.ids[n % 4], n))["op_id"] for n in range(5)]

        def revoke_after_first_batch(phase: str, done: int, total: int) -> None:
            if phase == "push" and done == 2:
                real.set_token(tech, "fk_revoked-by-the-office")

        with pytest.raises(SyncError) as caught:
            await tech.client.run_round(revoke_after_first_batch)
        assert caught.value.kind == "auth"
        assert "令牌无效或已被撤销" in caught.value.zh and "kept" in caught.value.en
        assert [op["op_id"] for op in tech.store.pending_ops(10)] == made[2:]
        real.set_token(tech, "fk_the-new-token")
        tech.token = "fk_the-new-token"
        await disconnect(tech)
        await connect(tech, server.url, batch_size=2)
        await tech.client.run_round()
        counts = real.op_counts()
        assert all(counts[op] == (1, "applied") for op in made)
        assert real.visit_ids() == sorted(f"{tech.id}-v{n}" for n in range(5))
    finally:
        await disconnect(tech)


async def test_a_reassigned_institution_leaves_only_once_nothing_unsent_refers_to_it(
    office: tuple[RealOffice, LiveServer],
) -> None:
    real, server = office
    tech, other = real.add("李娜"), real.add("张伟")
    real.assign(tech, real.ids[:3])
    await connect(tech, server.url)
    assert tech.store and tech.client
    try:
        await tech.client.run_round()
        inst = real.ids[0]
        tech.store.set_step(inst, "parent_app", "in_progress", by=tech.id)  # made offline
        real.assign(other, [inst])
        result = await tech.client.run_round()
        assert result.rejected == 1
        [rejected] = tech.store.rejected_ops()
        assert rejected["reason"] == "not_assigned" and "未分配给您" in rejected["message"]
        assert tech.store.institution(inst) is not None  # kept while its op waits
        tech.store.discard_op(rejected["op_id"])
        await tech.client.run_round()
        assert tech.store.institution(inst) is None
        assert tech.store.counts()["institutions"] == 2
    finally:
        await disconnect(tech)


async def test_an_edit_saved_while_a_round_runs_still_converges(
    office: tuple[RealOffice, LiveServer],
) -> None:
    """The pull skips a register with an unsent edit; if that edit then loses, the winner comes."""
    real, server = office
    tech, boss = real.add("李娜"), real.add("王主任", supervisor=True)
    real.assign(tech, real.ids[:2])
    await connect(tech, server.url)
    await connect(boss, server.url)
    assert tech.store and tech.client and boss.store and boss.client
    inst = real.ids[0]
    try:
        await tech.client.run_round()
        await boss.client.run_round()
        ahead = boss.store.clock
        boss.store.clock = domain.HLC(
            ahead.client_id, wall=lambda: int(time.time() * 1000) + 60_000
        )
        boss.store.set_step(inst, "parent_app", "blocked", "家长端未安装", by=boss.id)
        await boss.client.run_round()  # the supervisor's laptop clock runs a minute ahead

        def edit_meanwhile(phase: str, done: int, total: int) -> None:
            if phase == "push" and done == total:
                assert tech.store is not None
                tech.store.set_step(inst, "parent_app", "in_progress", by=tech.id)

        await tech.client.run_round(edit_meanwhile)
        assert tech.store.step_states(inst)["parent_app"].status == "in_progress"  # kept unsent
        result = await tech.client.run_round()
        assert result.pushed == 1
        state = tech.store.step_states(inst)["parent_app"]
        assert (state.status, state.reason) == ("blocked", "家长端未安装")
        assert replica(tech.store)[inst] == real.registers()[inst]
    finally:
        await disconnect(tech, boss)


async def test_another_person_on_the_same_profile_never_sends_the_last_ones_work(
    office: tuple[RealOffice, LiveServer],
) -> None:
    real, server = office
    first, second = real.add("李娜"), real.add("张伟")
    real.assign(first, real.ids[:3])
    real.assign(second, real.ids[3:5])
    settings = await login(server.url, first.token)
    with Store.open(settings.cache_path) as store:
        client = SyncClient(settings, store, first.token)
        await client.run_round()
        store.set_step(real.ids[0], "parent_app", "in_progress", by=first.id)
        with pytest.raises(SyncError) as caught:
            await login(server.url, second.token)
        assert caught.value.kind == "config" and "李娜" in caught.value.zh
        assert config.load().technician.id == first.id  # type: ignore[union-attr]
        await client.run_round()
        await client.aclose()
    settings = await login(server.url, second.token)
    with Store.open(settings.cache_path) as store:
        client = SyncClient(settings, store, second.token)
        await client.run_round()
        await client.aclose()
        assert sorted(r.id for r in store.assignments()) == real.ids[3:5]
    assert real.op_counts() and all(n == 1 for n, _ in real.op_counts().values())


async def test_an_office_restored_from_a_backup_is_pulled_afresh(tmp_path: Path) -> None:
    """The office restores yesterday's file: the cursor is unknown there (410), so pull from 0
    and send again what it lost."""
    real = RealOffice(tmp_path, institutions=4)
    tech = real.add("李娜")
    real.assign(tech, real.ids)
    backup = tmp_path / "backup.sqlite"
    with LiveServer(real.db) as server:
        port = server.port
        await connect(tech, server.url)
        assert tech.client and tech.store
        await tech.client.run_round()
    shutil.copy(real.db, backup)  # the server is stopped: the file is whole
    with LiveServer(real.db, port=port):
        for n in range(3):
            tech.store.create_visit(visit(tech, real.ids[n], n))
        await tech.client.run_round()
    assert real.visit_ids()
    for suffix in ("", "-wal", "-shm"):
        Path(f"{real.db}{suffix}").unlink(missing_ok=True)
    shutil.copy(backup, real.db)
    assert real.visit_ids() == []
    edits: list[str] = []

    def edit_meanwhile(method: str, path: str) -> None:
        if path.startswith("/api/v1/sync/pull") and not edits:  # saved while the round runs
            assert tech.store is not None
            edits.append(
                tech.store.set_step(real.ids[3], "parent_app", "in_progress", by=tech.id)["op_id"]
            )

    try:
        with (
            LiveServer(real.db, port=port) as server,
            FaultProxy(server.url, on_request=edit_meanwhile) as proxy,
        ):
            await disconnect(tech)
            await connect(tech, server.url, via=proxy.url)
            await tech.client.run_round()
            pulls = [e.path for e in proxy.events if e.path.startswith("/api/v1/sync/pull")]
            assert "cursor=0&" not in pulls[0] and "cursor=0&" in pulls[1]  # 410, then from 0
            # the same round sends again what the restored office lost, and the edit saved meanwhile
            assert tech.store.pending_ops(10) == []
            assert real.visit_ids() == sorted(f"{tech.id}-v{n}" for n in range(3))
            assert tech.store.step_states(real.ids[3])["parent_app"].status == "in_progress"
            await tech.client.run_round()
            assert replica(tech.store) == real.registers()
            assert real.op_counts()[edits[0]] == (1, "applied")
    finally:
        await disconnect(tech)
