"""Property test: whatever mix of local edits, sync answers and pulls, the cache stays consistent.

After every step: the progress kept on each institution row equals a recount of its steps,
visits and ops; each row's sync state follows its ops; a register with unsent or sending ops
holds the local value; the search keys match the institutions.
"""

from __future__ import annotations

import json
import sqlite3
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from cache import CacheError, Store, progress
from fieldkit import domain
from tests.test_cache_fixtures import institution, load

INSTS = [institution(n)["id"] for n in (1, 2, 3)]
KEYS = ("registered", "qualification", "account", "bank_verified", "parent_app")
STATUSES = ("todo", "in_progress", "done", "blocked")


class CacheMachine(RuleBasedStateMachine):
    """Random edits, pushes, answers and pulls against one cache file."""

    def __init__(self) -> None:
        super().__init__()
        self.dir = tempfile.TemporaryDirectory()
        self.store = Store.open(Path(self.dir.name) / "cache.sqlite")
        load(self.store)
        self.seq = 0
        self.visits = 0

    def teardown(self) -> None:
        self.store.close()
        self.dir.cleanup()

    @rule(inst=st.sampled_from(INSTS), key=st.sampled_from(KEYS), status=st.sampled_from(STATUSES))
    def edit_step(self, inst: str, key: str, status: str) -> None:
        try:
            self.store.set_step(inst, key, status, "原因" if status == "blocked" else None, by="T1")
        except domain.DomainError:
            pass
        except CacheError:
            pass  # the institution was removed meanwhile

    @rule(inst=st.sampled_from(INSTS), phone=st.integers(0, 99))
    def edit_contact(self, inst: str, phone: int) -> None:
        try:
            self.store.set_contact(inst, contact_phone=f"139{phone:08d}")
        except domain.DomainError:
            pass

    @rule(inst=st.sampled_from(INSTS), day=st.integers(1, 28), gap=st.integers(0, 20))
    def visit(self, inst: str, day: int, gap: int) -> None:
        self.visits += 1
        data = {
            "visit_id": f"lv{self.visits}",
            "institution_id": inst,
            "technician_id": "T1",
            "kind": "guidance",
            "started_at": f"2026-11-{day:02d}T09:00:00+08:00",
            "next_visit_on": f"2026-12-{min(28, day + gap):02d}",
        }
        try:
            self.store.create_visit(domain.visit_from_wire(data))
        except domain.DomainError:
            pass

    @rule(n=st.integers(1, 5))
    def push(self, n: int) -> None:
        self.store.mark_sending([op["op_id"] for op in self.store.pending_ops(n)])

    @rule(reject=st.booleans(), n=st.integers(1, 5))
    def answer(self, reject: bool, n: int) -> None:
        sending = [op for op in self.store.pending_ops(100) if op["state"] == "sending"][:n]
        self.store.record_results(
            [
                {
                    "op_id": op["op_id"],
                    "status": "rejected" if reject else "applied",
                    "reason": "invalid",
                    "message": "x",
                }
                for op in sending
            ]
        )

    @rule()
    def discard(self) -> None:
        for op in self.store.rejected_ops()[:1]:
            self.store.discard_op(op["op_id"])

    @rule(
        inst=st.sampled_from(INSTS),
        key=st.sampled_from(KEYS),
        status=st.sampled_from(STATUSES),
        unassign=st.booleans(),
    )
    def pull(self, inst: str, key: str, status: str, unassign: bool) -> None:
        self.seq += 1
        n = INSTS.index(inst) + 1
        changes: list[dict[str, Any]] = [
            {"seq": self.seq, "kind": "institution", "id": inst, "data": institution(n)},
            {
                "seq": self.seq,
                "kind": "step",
                "id": f"{inst}:{key}",
                "data": {
                    "institution_id": inst,
                    "step": key,
                    "status": status,
                    "reason": None,
                    "hlc": f"{self.seq:015d}-0000-office",
                    "updated_by": "office",
                },
            },
        ]
        if unassign:
            changes.append({"seq": self.seq, "kind": "unassigned", "id": inst, "data": {}})
        self.store.apply_changes(changes, cursor=self.seq)

    @invariant()
    def progress_matches_a_recount(self) -> None:
        with sqlite3.connect(self.store.path) as conn:
            insts = conn.execute(
                f"SELECT id, {', '.join(progress.COLUMN_NAMES)} FROM institutions"
            ).fetchall()
            for inst_id, *kept in insts:
                statuses = dict(
                    conn.execute(
                        "SELECT step, status FROM steps WHERE institution_id = ?", (inst_id,)
                    )
                )
                latest = conn.execute(
                    "SELECT started_at, next_visit_on FROM visits WHERE institution_id = ? "
                    "ORDER BY started_at DESC LIMIT 1",
                    (inst_id,),
                ).fetchone() or (None, None)
                unsent = conn.execute(
                    "SELECT count(*) FROM outbox WHERE institution_id = ? AND state IN "
                    "('unsent', 'sending')",
                    (inst_id,),
                ).fetchone()[0]
                assert tuple(kept) == (*progress.step_values(statuses), *latest, unsent)
        conn.close()

    @invariant()
    def rows_follow_their_ops(self) -> None:
        pending = self.store.pending_ops(1000)
        for inst in INSTS:
            states = self.store.step_states(inst)
            for op in (o for o in pending if o["institution_id"] == inst):
                if op["kind"] == "step.set":
                    state = states[op["data"]["step"]]
                    assert state.sync_state in ("unsent", "sending")
            last = {}
            for op in (
                o for o in pending if o["institution_id"] == inst and o["kind"] == "step.set"
            ):
                last[op["data"]["step"]] = op
            for key, op in last.items():  # the pull never overwrote a pending register
                assert (states[key].status, states[key].hlc) == (op["data"]["status"], op["hlc"])

    @invariant()
    def search_keys_match_the_institutions(self) -> None:
        with sqlite3.connect(self.store.path) as conn:
            keys = dict(conn.execute("SELECT rowid, keys FROM search_keys"))
            rows = conn.execute(
                f"SELECT rowid, {', '.join(progress.SEARCH_COLUMNS)} FROM institutions"
            ).fetchall()
            assert keys == {r[0]: "\n".join(r[1:]).lower() for r in rows}
            outbox = conn.execute(
                "SELECT count(*) FROM outbox WHERE state NOT IN "
                "('unsent', 'sending', 'synced', 'rejected', 'discarded')"
            )
            assert outbox.fetchone()[0] == 0
            assert json.loads(json.dumps(self.store.counts()))["institutions"] == len(rows)
        conn.close()


CacheMachine.TestCase.settings = settings(
    max_examples=40,
    stateful_step_count=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestCacheMachine = CacheMachine.TestCase
