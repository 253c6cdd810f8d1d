"""A technician's saves survive the process being killed (SIGKILL) at random moments, 50 times over."""

from __future__ import annotations

import os
import random
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from cache import Store
from tests.test_cache_fixtures import institution, open_loaded

ROOT = Path(__file__).resolve().parents[1]
KILLS = 50
SEED = 20261128
IDS = [institution(n)["id"] for n in (1, 2, 3, 4)]

# The child writes steps and visits through the real Store for ever; each line "SAVED ..." is
# printed only after the Store call returned, i.e. after the app would have said "saved".
CHILD = textwrap.dedent("""
    import sys
    from datetime import datetime
    from pathlib import Path
    from cache import Store
    from fieldkit import domain

    path, run, ids = Path(sys.argv[1]), sys.argv[2], sys.argv[3].split(",")
    store = Store.open(path)
    print("READY", flush=True)
    n = 0
    while True:
        inst = ids[n % len(ids)]
        if n % 4 == 3:
            visit = domain.Visit(visit_id=f"r{run}-v{n}", institution_id=inst,
                                 technician_id="T0001", kind="guidance",
                                 started_at=datetime(2026, 11, 28, 9, n % 60),
                                 notes=f"run {run} visit {n}")
            op = store.create_visit(visit)
            print(f"SAVED visit {op['op_id']} {inst} {visit.visit_id}", flush=True)
        else:
            step = ("parent_app", "personnel", "courses")[n % 3]
            status = "in_progress" if (n // 3) % 2 == 0 else "todo"
            op = store.set_step(inst, step, status, note=f"run {run} edit {n}", by="T0001")
            print(f"SAVED step {op['op_id']} {inst} {step}", flush=True)
        n += 1
""")


def start(path: Path, run: int) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-c", CHILD, str(path), str(run), ",".join(IDS)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def kill_after(proc: subprocess.Popen[str], delay: float, wait_ready: bool) -> list[str]:
    """Let the child work for `delay` seconds (after it opened the file, if asked), then SIGKILL it."""
    assert proc.stdout is not None
    if wait_ready:
        line = proc.stdout.readline()
        assert line.strip() == "READY", proc.stderr.read() if proc.stderr else ""
    time.sleep(delay)
    proc.kill()  # SIGKILL on POSIX: no cleanup, no flush of anything but what the OS holds
    out, _ = proc.communicate(timeout=20)
    return out.splitlines()


def integrity(path: Path) -> str:
    conn = sqlite3.connect(path)
    try:
        return str(conn.execute("PRAGMA integrity_check").fetchone()[0])
    finally:
        conn.close()


def check_saved(path: Path, saved: list[tuple[str, ...]]) -> None:
    """Every change reported saved is in the outbox, and each row shows its register's newest op."""
    with Store.open(path) as store:
        ops = {op["op_id"]: op for op in store.pending_ops(1_000_000)}
        missing = [s for s in saved if s[1] not in ops]
        assert not missing, f"{len(missing)} saved changes lost, e.g. {missing[:3]}"
        visits = {v["visit_id"]: v for v in store.visits()}
        newest: dict[tuple[str, str], dict] = {}
        for op in ops.values():  # pending_ops is in outbox order: the last one wins
            if op["kind"] == "step.set":
                newest[(op["institution_id"], op["data"]["step"])] = op
        for kind, op_id, inst, what in saved:
            if kind == "visit":
                assert visits[what]["notes"] == ops[op_id]["data"]["notes"]
                assert visits[what]["sync_state"] == "unsent"
            else:
                state = store.step_states(inst)[what]
                last = newest[(inst, what)]
                assert (state.hlc, state.note, state.status) == (
                    last["hlc"],
                    last["data"]["note"],
                    last["data"]["status"],
                )
                assert state.sync_state == "unsent"
        for inst in IDS:
            row = next(r for r in store.assignments(limit=50) if r.id == inst)
            assert row.unsent == sum(1 for o in ops.values() if o["institution_id"] == inst)


def test_fifty_kills_at_random_moments_lose_nothing_reported_saved(tmp_path: Path) -> None:
    path = tmp_path / "cache.sqlite"
    with open_loaded(path) as store:
        for inst in IDS:
            store.set_step(inst, "registered", "done", by="T0001")
        store.record_results(
            [{"op_id": o["op_id"], "status": "applied"} for o in store.pending_ops(100)]
        )
    rng = random.Random(SEED)
    saved: list[tuple[str, ...]] = []
    early = 0
    for run in range(KILLS):
        # One kill in five lands while the child is still starting or opening the file.
        wait_ready = rng.random() >= 0.2
        delay = rng.uniform(0.0, 0.25) if wait_ready else rng.uniform(0.0, 0.2)
        lines = kill_after(start(path, run), delay, wait_ready)
        early += not wait_ready
        saved += [tuple(line.split()[1:]) for line in lines if line.startswith("SAVED ")]
        assert integrity(path) == "ok", f"run {run}"
        check_saved(path, saved)
    assert early >= 5 and len(saved) >= KILLS  # kills did land both early and mid-work
    with Store.open(path) as store:  # and the file still takes new work
        op = store.set_step(IDS[0], "qualification", "in_progress", by="T0001")
        assert store.pending_ops(1_000_000)[-1]["op_id"] == op["op_id"]
