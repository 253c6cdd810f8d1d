"""The merge rule, stated as a property: any interleaving of edits and syncs by several laptops converges."""

from __future__ import annotations

import asyncio
import itertools
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, rule

from cache.store import Store
from fieldkit import domain
from fieldkit.config import Settings
from fieldkit.sync import SyncClient, login
from tests.live_server import LiveServer
from tests.test_sync_office import Person, RealOffice, replica

KEYS = ["personnel", "courses", "parent_app"]
PHONES = ["13912345678", "13800001111", "15011112222"]


class Laptops(RuleBasedStateMachine):
    """Two technicians and a supervisor, each with a fresh cache, against one office."""

    office: RealOffice
    server: LiveServer
    people: list[tuple[Person, Settings]]
    folder: Path
    counter = itertools.count()

    @initialize()
    def open_caches(self) -> None:
        run = next(self.counter)
        self.stores = {}
        for person, _ in self.people:
            store = Store.open(self.folder / f"{run}-{person.id}.sqlite")
            self.stores[person.id] = store
            self._sync(person.id)

    def _sync(self, who: str, edit: tuple[str, str, str] | None = None) -> None:
        """One round (an edit may be saved while it runs, between push and pull)."""
        person, profile = next(p for p in self.people if p[0].id == who)
        store = self.stores[who]

        def meanwhile(phase: str, done: int, total: int) -> None:
            if edit is not None and phase == "push" and done == total:
                self._edit(who, *edit)

        async def round_() -> None:
            client = SyncClient(profile, store, person.token, batch_size=2)
            try:
                await client.run_round(meanwhile)
            finally:
                await client.aclose()

        asyncio.run(round_())

    def _edit(self, who: str, inst_no: str, key: str, status: str) -> None:
        store = self.stores[who]
        held = sorted(r.id for r in store.assignments(limit=100))
        if not held:
            return
        inst = held[int(inst_no) % len(held)]
        try:
            store.set_step(
                inst, key, status, "资料不全" if status == domain.BLOCKED else None, by=who
            )
        except domain.DomainError:
            pass

    people_ids = st.sampled_from(["T0001", "T0002", "T0003"])
    edits = st.tuples(
        st.sampled_from("0123"), st.sampled_from(KEYS), st.sampled_from(domain.STATUSES)
    )

    @rule(who=people_ids, edit=edits)
    def edit_step(self, who: str, edit: tuple[str, str, str]) -> None:
        self._edit(who, *edit)

    @rule(who=people_ids, inst_no=st.integers(0, 3), phone=st.sampled_from(PHONES))
    def edit_contact(self, who: str, inst_no: int, phone: str) -> None:
        store = self.stores[who]
        held = sorted(r.id for r in store.assignments(limit=100))
        if held:
            store.set_contact(held[inst_no % len(held)], contact_phone=phone)

    @rule(who=people_ids, minutes=st.integers(-30, 30))
    def set_laptop_clock(self, who: str, minutes: int) -> None:
        store = self.stores[who]
        store.clock = domain.HLC(
            store.client_id,
            store.get_meta("clock"),
            wall=lambda: int(time.time() * 1000) + minutes * 60_000,
        )

    @rule(who=people_ids)
    def sync(self, who: str) -> None:
        self._sync(who)

    @rule(who=people_ids, edit=edits)
    def sync_while_editing(self, who: str, edit: tuple[str, str, str]) -> None:
        self._sync(who, edit)

    def teardown(self) -> None:
        try:
            for person, _ in self.people:
                self._sync(person.id)
                store = self.stores[person.id]
                for op in store.rejected_ops():
                    store.discard_op(op["op_id"])
            for person, _ in self.people:
                self._sync(person.id)
            server = self.office.registers()
            for person, _ in self.people:
                mine = replica(self.stores[person.id])
                assert self.stores[person.id].counts()["unsent"] == 0
                for inst, registers in mine.items():
                    assert registers == server[inst], f"{person.name} differs on {inst}"
        finally:
            for store in self.stores.values():
                store.close()


def test_any_interleaving_of_edits_and_syncs_converges(tmp_path: Path) -> None:
    office = RealOffice(tmp_path, institutions=4)
    techs = [office.add("李娜"), office.add("张伟")]
    boss = office.add("赵主任", supervisor=True)
    office.assign(techs[0], office.ids[:2])
    office.assign(techs[1], office.ids[2:])
    with LiveServer(office.db) as server, tempfile.TemporaryDirectory() as folder:
        people = []
        for person in [*techs, boss]:
            profile = asyncio.run(login(server.url, person.token, profile=person.id))
            people.append((person, replace(profile)))
        Laptops.office, Laptops.server, Laptops.people = office, server, people
        Laptops.folder = Path(folder)
        run = Laptops.TestCase
        run.settings = settings(
            max_examples=8,
            stateful_step_count=10,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        )
        run().runTest()
