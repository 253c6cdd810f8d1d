"""Three technicians and a supervisor sync through a faulty network: nothing lost, nothing doubled."""

from __future__ import annotations

import os
import random
import time
from pathlib import Path

import pytest

from fieldkit import domain
from fieldkit.sync import SyncError
from fieldkit.sync.client import Progress
from tests.fault_proxy import FaultProxy, Faults
from tests.live_server import LiveServer
from tests.test_sync_office import Person, RealOffice, connect, disconnect, replica, visit

SEEDS = [int(s) for s in os.environ.get("FIELDKIT_SYNC_SEEDS", "20261128").split(",")]
ROUNDS = int(os.environ.get("FIELDKIT_SYNC_ROUNDS", "200"))
FAULTS = Faults(
    drop_before=0.06,
    drop_after=0.08,
    truncate=0.06,
    bad_gateway=0.06,
    delay=0.05,
    repeat=0.08,
    max_delay=0.02,
)
# A few registers, so that edits collide often.
STEP_KEYS = ["personnel", "courses", "parent_app"]
NAMES = ["蒋刚琳", "刘芳", "陈静", "周洋"]


def edit(person: Person, rng: random.Random, visit_no: list[int]) -> None:
    """One random local edit on something this person holds (refused edits are skipped)."""
    store = person.store
    assert store is not None
    held = [row.id for row in store.assignments(limit=100)]
    if not held:
        return
    inst = rng.choice(held)
    roll = rng.random()
    try:
        if roll < 0.55:
            status = rng.choice(domain.STATUSES)
            reason = "资料不全" if status == domain.BLOCKED else None
            op = store.set_step(inst, rng.choice(STEP_KEYS), status, reason, by=person.id)
        elif roll < 0.75:
            op = (
                store.set_contact(inst, contact_phone=f"139{rng.randrange(10**8):08d}")
                if rng.random() < 0.5
                else store.set_contact(inst, contact_name=rng.choice(NAMES))
            )
        elif roll < 0.9:
            visit_no[0] += 1
            op = store.create_visit(visit(person, inst, visit_no[0], f"第{visit_no[0]}次"))
        else:
            mine = [v["visit_id"] for v in store.visits() if v["technician_id"] == person.id]
            if not mine:
                return
            op = store.amend_visit(rng.choice(mine), {"notes": f"修订{rng.randrange(1000)}"})
    except domain.DomainError:
        return
    person.op_ids.append(op["op_id"])


def meanwhile(person: Person, rng: random.Random, visit_no: list[int]) -> Progress:
    """Sometimes the technician saves an edit while the round runs (between push and pull)."""

    def report(phase: str, done: int, total: int) -> None:
        if phase == "push" and done == total and rng.random() < 0.5:
            edit(person, rng, visit_no)

    return report


async def simulate(tmp: Path, seed: int) -> None:
    rng = random.Random(seed)
    real = RealOffice(tmp, institutions=8)
    techs = [real.add(n) for n in ("李娜", "张伟", "王芳")]
    boss = real.add("赵主任", supervisor=True)
    people = [*techs, boss]
    for tech, ids in zip(techs, (real.ids[:3], real.ids[3:6], real.ids[6:]), strict=True):
        real.assign(tech, ids)
    visit_no = [0]
    with LiveServer(real.db) as server, FaultProxy(server.url, seed, FAULTS) as proxy:
        try:
            for person in people:
                await connect(person, server.url, batch_size=3, via=proxy.url)
            assert boss.store is not None  # the supervisor's laptop clock runs a minute ahead
            boss.store.clock = domain.HLC(
                boss.store.client_id, wall=lambda: int(time.time() * 1000) + 60_000
            )
            for n in range(ROUNDS):
                person = rng.choice(people)
                for _ in range(rng.randint(0, 3)):
                    edit(person, rng, visit_no)
                if n % 67 == 33:  # the office moves an institution between technicians
                    a, b = rng.sample(techs, 2)
                    held = real.assigned(a)
                    if held:
                        real.assign(b, [rng.choice(held)])
                try:
                    assert person.client is not None
                    await person.client.run_round(meanwhile(person, rng, visit_no))
                except SyncError as exc:
                    assert exc.kind in ("offline", "server"), f"round {n}: {exc}"
            proxy.enabled = False
            rejected = await final_sync(people)
            check(real, people, techs, boss, rejected)
            faults = proxy.counts()
            assert all(
                faults[name] > 0
                for name in ("drop_before", "drop_after", "truncate", "bad_gateway", "repeat")
            ), faults
            on_push = {e.fault for e in proxy.events if e.path == "/api/v1/sync/push"}
            assert {"drop_after", "repeat", "truncate"} <= on_push  # applied, answer lost
        finally:
            await disconnect(*people)


async def final_sync(people: list[Person]) -> dict[str, set[str]]:
    """A clean round for everyone, rejected ops discarded by their owners, then another."""
    rejected: dict[str, set[str]] = {}
    for person in people:
        assert person.client is not None and person.store is not None
        await person.client.run_round()
        rejected[person.id] = {op["op_id"] for op in person.store.rejected_ops()}
        for op_id in rejected[person.id]:
            person.store.discard_op(op_id)
    for person in people:
        assert person.client is not None
        await person.client.run_round()
    return rejected


def check(
    real: RealOffice,
    people: list[Person],
    techs: list[Person],
    boss: Person,
    rejected: dict[str, set[str]],
) -> None:
    """Every op on the office exactly once with the client's answer; every replica equal."""
    recorded = real.op_counts()
    server = real.registers()
    for person in people:
        assert person.store is not None
        assert person.store.counts()["unsent"] == 0
        lost = [op for op in person.op_ids if op not in recorded]
        assert not lost, f"{person.name} lost {len(lost)} ops"
        for op in person.op_ids:
            times, status = recorded[op]
            assert times == 1
            assert (status == "rejected") == (op in rejected[person.id]), op
        mine = replica(person.store)
        scope = sorted(server) if person is boss else real.assigned(person)
        assert sorted(mine) == scope, person.name
        for inst, registers in mine.items():
            assert registers == server[inst], f"{person.name} differs on {inst}"
    applied = sum(1 for p in people for op in p.op_ids if recorded[op][1] == "applied")
    assert applied > 0 and len(real.visit_ids()) == sum(len(r["visits"]) for r in server.values())


@pytest.mark.parametrize("seed", SEEDS)
async def test_replicas_converge_through_a_faulty_network(tmp_path: Path, seed: int) -> None:
    try:
        await simulate(tmp_path, seed)
    except BaseException:
        print(f"convergence failed: FIELDKIT_SYNC_SEEDS={seed} FIELDKIT_SYNC_ROUNDS={ROUNDS}")
        raise
