"""A local edit and its outbox op are committed together or not at all, even when the process is killed."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from cache import Store
from tests.test_cache_fixtures import institution, open_loaded

ROOT = Path(__file__).resolve().parents[1]
I1 = institution(1)["id"]

# Runs in a child process: opens the cache and either pauses inside one edit's transaction
# (after the row, or after the row and its op) or loops over edits until it is killed.
CHILD = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from cache import Store

    path, mode = Path(sys.argv[1]), sys.argv[2]
    ids = sys.argv[3].split(",")
    store = Store.open(path)
    if mode in ("before_op", "after_op"):
        original = Store._enqueue

        def paused(self, conn, *args, **kwargs):
            if mode == "after_op":
                original(self, conn, *args, **kwargs)
            print("IN_TRANSACTION", flush=True)
            time.sleep(120)

        Store._enqueue = paused
        store.set_step(ids[0], "registered", "done", by="T1")
    elif mode == "pull":
        page = 0
        while True:  # page p sets parent_app of every institution to a note naming p
            page += 1
            store.apply_changes([
                {"seq": page, "kind": "step", "id": f"{i}:parent_app",
                 "data": {"institution_id": i, "step": "parent_app", "status": "in_progress",
                          "reason": None, "note": f"page {page}",
                          "hlc": f"{page:015d}-0000-office", "updated_by": "office"}}
                for i in ids], cursor=page)
            print(f"COMMITTED {page}", flush=True)
    else:
        n = 0
        while True:
            inst = ids[n % len(ids)]
            if n % 3 == 0:
                store.set_contact(inst, contact_phone=f"139{n:08d}")
            else:
                status = "in_progress" if n % 2 else "todo"
                store.set_step(inst, "parent_app", status, note=f"edit {n}", by="T1")
            n += 1
            print(f"COMMITTED {n}", flush=True)
""")


def child(path: Path, mode: str, ids: list[str]) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-c", CHILD, str(path), mode, ",".join(ids)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def integrity(path: Path) -> str:
    with sqlite3.connect(path) as conn:
        return str(conn.execute("PRAGMA integrity_check").fetchone()[0])


@pytest.mark.parametrize("mode", ["before_op", "after_op"])
def test_killed_inside_the_transaction_leaves_neither_row_nor_op(tmp_path: Path, mode: str) -> None:
    path = tmp_path / "cache.sqlite"
    open_loaded(path).close()
    proc = child(path, mode, [I1])
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert line.strip() == "IN_TRANSACTION", proc.stderr.read() if proc.stderr else ""
    proc.kill()
    proc.wait(timeout=10)
    assert integrity(path) == "ok"
    with Store.open(path) as store:
        assert store.step_states(I1)["registered"].status == "todo"
        assert store.pending_ops(10) == []
        assert store.assignments(query="星辰")[0].done == 0
        op = store.set_step(I1, "registered", "done", by="T1")  # the file still works
        assert store.pending_ops(10)[0]["op_id"] == op["op_id"]


def test_killed_while_looping_every_edit_is_whole(tmp_path: Path) -> None:
    path = tmp_path / "cache.sqlite"
    ids = [institution(n)["id"] for n in (1, 2, 3)]
    with open_loaded(path) as store:
        for inst in ids:
            store.set_step(inst, "registered", "done", by="T1")
        for op in store.pending_ops(10):
            store.record_results([{"op_id": op["op_id"], "status": "applied"}])
    proc = child(path, "loop", ids)
    assert proc.stdout is not None
    committed = 0
    deadline = time.monotonic() + 30
    while committed < 25 and time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        committed = int(line.split()[1])
    time.sleep(0.05)  # let it get somewhere inside the next edits
    proc.kill()
    proc.wait(timeout=10)
    assert committed >= 25, proc.stderr.read() if proc.stderr else ""
    assert integrity(path) == "ok"
    with Store.open(path) as store:
        ops = store.pending_ops(100_000)
        assert len(ops) >= committed  # nothing reported as saved was lost
        for inst in ids:
            step_ops = [o for o in ops if o["institution_id"] == inst and o["kind"] == "step.set"]
            if step_ops:
                state = store.step_states(inst)["parent_app"]
                assert (state.hlc, state.note) == (
                    step_ops[-1]["hlc"],
                    step_ops[-1]["data"]["note"],
                )
                assert state.sync_state == "unsent"
            phone_ops = [
                o for o in ops if o["institution_id"] == inst and o["kind"] == "contact.set"
            ]
            if phone_ops:
                info = store.institution(inst)
                assert info is not None
                assert info["contact_phone"] == phone_ops[-1]["data"]["contact_phone"]
            row = store.assignments(query=store.institution(inst)["name"])[0]  # type: ignore[index]
            assert row.unsent == len([o for o in ops if o["institution_id"] == inst])
    with sqlite3.connect(path) as conn:
        notes = [
            json.loads(d)["note"]
            for (d,) in conn.execute(
                "SELECT data FROM outbox WHERE kind = 'step.set' AND data LIKE '%edit%' ORDER BY seq"
            )
        ]
    numbers = [int(n.split()[1]) for n in notes]
    # every edit up to the last committed one is there, in order, none half-written
    assert numbers == [n for n in range(len(ops)) if n % 3]


def test_killed_while_pulling_each_page_lands_with_its_cursor(tmp_path: Path) -> None:
    path = tmp_path / "cache.sqlite"
    ids = [institution(n)["id"] for n in range(1, 9)]
    with open_loaded(path) as store:
        for inst in ids:
            store.set_step(inst, "registered", "done", by="T1")
        for op in store.pending_ops(100):
            store.record_results([{"op_id": op["op_id"], "status": "applied"}])
    proc = child(path, "pull", ids)
    assert proc.stdout is not None
    committed = 0
    while committed < 20:
        line = proc.stdout.readline()
        if not line:
            break
        committed = int(line.split()[1])
    time.sleep(0.03)
    proc.kill()
    proc.wait(timeout=10)
    assert committed >= 20, proc.stderr.read() if proc.stderr else ""
    assert integrity(path) == "ok"
    with Store.open(path) as store:
        cursor = int(store.get_meta("cursor") or 0)
        assert cursor >= committed
        notes = {store.step_states(i)["parent_app"].note for i in ids}
        assert notes == {f"page {cursor}"}  # every row of the last page, none of a later one
