"""The outbox and the pull: ops go out in order, answers land, the office's changes never clobber local edits."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from cache import CacheError, MalformedChange, Store
from fieldkit import domain
from tests.test_cache_fixtures import institution, open_loaded

TZ = timezone(timedelta(hours=8))
I1, I2, I3 = (institution(n)["id"] for n in (1, 2, 3))
SERVER_HLC = "001790000000000-0000-office"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = open_loaded(tmp_path / "cache.sqlite")
    yield s
    s.close()


def step_change(
    inst_id: str,
    step: str,
    status: str,
    seq: int = 1,
    hlc: str = SERVER_HLC,
    reason: str | None = None,
) -> dict[str, Any]:
    return {
        "seq": seq,
        "kind": "step",
        "id": f"{inst_id}:{step}",
        "data": {
            "institution_id": inst_id,
            "step": step,
            "status": status,
            "reason": reason,
            "hlc": hlc,
            "updated_by": "office",
        },
    }


def inst_change(n: int, seq: int = 1, **fields: Any) -> dict[str, Any]:
    data = {**institution(n), **fields}
    return {"seq": seq, "kind": "institution", "id": data["id"], "data": data}


def visit_data(inst_id: str, vid: str, notes: str = "办公室补录") -> dict[str, Any]:
    v = domain.Visit(
        visit_id=vid,
        institution_id=inst_id,
        technician_id="T9",
        kind="follow_up",
        started_at=datetime(2026, 11, 10, 14, 0, tzinfo=TZ),
        outcome="completed",
        next_visit_on=date(2026, 12, 1),
        notes=notes,
    )
    return domain.visit_to_wire(v)


def test_pending_ops_come_out_in_the_order_they_were_made(store: Store) -> None:
    a = store.set_step(I1, "registered", "done", by="T1")
    b = store.set_contact(I2, contact_name="李四")
    c = store.set_step(I1, "personnel", "in_progress", by="T1")
    assert [o["op_id"] for o in store.pending_ops(10)] == [a["op_id"], b["op_id"], c["op_id"]]
    assert [o["op_id"] for o in store.pending_ops(2)] == [a["op_id"], b["op_id"]]
    assert store.counts()["unsent"] == 3


def test_sending_then_applied_marks_rows_synced(store: Store) -> None:
    op = store.set_step(I1, "registered", "done", by="T1")
    store.mark_sending([op["op_id"]])
    assert store.pending_ops(10)[0]["state"] == "sending"
    assert store.step_states(I1)["registered"].sync_state == "sending"
    store.record_results([{"op_id": op["op_id"], "status": "applied"}])
    assert store.pending_ops(10) == []
    assert store.step_states(I1)["registered"].sync_state == "synced"
    assert store.assignments(query="星辰")[0].unsent == 0
    assert store.counts() == {"unsent": 0, "rejected": 0, "institutions": 8, "visits": 0}


def test_duplicate_counts_as_synced(store: Store) -> None:
    op = store.set_contact(I1, contact_phone="13800001111")
    store.mark_sending([op["op_id"]])
    store.record_results([{"op_id": op["op_id"], "status": "duplicate"}])
    inst = store.institution(I1)
    assert inst is not None and inst["sync_state"] == "synced"


def test_a_row_edited_again_while_sending_stays_unsent(store: Store) -> None:
    first = store.set_step(I1, "registered", "in_progress", by="T1")
    store.mark_sending([first["op_id"]])
    store.set_step(I1, "registered", "done", by="T1")
    store.record_results([{"op_id": first["op_id"], "status": "applied"}])
    state = store.step_states(I1)["registered"]
    assert (state.status, state.sync_state) == ("done", "unsent")
    assert len(store.pending_ops(10)) == 1


def test_rejected_ops_are_kept_with_their_reason_until_discarded(store: Store) -> None:
    store.set_step(I1, "registered", "done", by="T1")
    first = store.pending_ops(1)[0]
    store.record_results([{"op_id": first["op_id"], "status": "applied"}])
    op = store.set_step(I1, "personnel", "done", note="名单已核对", by="T1")
    other = store.set_step(I1, "courses", "in_progress", by="T1")
    store.mark_sending([op["op_id"], other["op_id"]])
    store.record_results(
        [
            {
                "op_id": op["op_id"],
                "status": "rejected",
                "reason": "not_assigned",
                "message": "机构已不在你的名单 / not assigned to you",
            },
            {"op_id": other["op_id"], "status": "applied"},
        ]
    )
    rejected = store.rejected_ops()
    assert [(r["op_id"], r["reason"], r["state"]) for r in rejected] == [
        (op["op_id"], "not_assigned", "rejected")
    ]
    assert "not assigned" in rejected[0]["message"]
    assert store.step_states(I1)["personnel"].sync_state == "rejected"
    assert store.counts()["rejected"] == 1 and store.counts()["unsent"] == 0
    store.discard_op(op["op_id"])
    assert store.rejected_ops() == []
    personnel = store.step_states(I1)["personnel"]
    assert (personnel.status, personnel.sync_state) == ("todo", "synced")
    assert store.step_states(I1)["courses"].status == "in_progress"
    assert store.assignments(query="星辰")[0].done == 1


def test_discarding_a_rejected_contact_puts_the_old_one_back(store: Store) -> None:
    op = store.set_contact(I2, contact_name="冒名者")
    store.record_results(
        [{"op_id": op["op_id"], "status": "rejected", "reason": "invalid", "message": "x"}]
    )
    store.discard_op(op["op_id"])
    inst = store.institution(I2)
    assert inst is not None
    assert (inst["contact_name"], inst["sync_state"]) == ("李娜", "synced")


def test_discarding_a_rejected_visit_removes_the_local_copy(store: Store) -> None:
    v = domain.visit_from_wire({**visit_data(I3, "v1"), "technician_id": "T1"})
    op = store.create_visit(v)
    store.record_results(
        [{"op_id": op["op_id"], "status": "rejected", "reason": "invalid", "message": "x"}]
    )
    assert store.visits(I3)[0]["sync_state"] == "rejected"
    store.discard_op(op["op_id"])
    assert store.visits(I3) == []


def test_only_rejected_ops_can_be_discarded(store: Store) -> None:
    op = store.set_step(I1, "registered", "done", by="T1")
    with pytest.raises(CacheError) as err:
        store.discard_op(op["op_id"])
    assert "discard" in err.value.en and err.value.zh
    with pytest.raises(CacheError):
        store.discard_op("no-such-op")
    assert len(store.pending_ops(10)) == 1


def test_pull_applies_changes_and_the_cursor_together(store: Store) -> None:
    store.apply_changes(
        [
            step_change(I1, "registered", "done", 1),
            inst_change(1, 2, name="长沙星辰艺术", bank_status="passed"),
        ],
        cursor=2,
    )
    assert store.get_meta("cursor") == "2"
    state = store.step_states(I1)["registered"]
    assert (state.status, state.hlc, state.updated_by, state.sync_state) == (
        "done",
        SERVER_HLC,
        "office",
        "synced",
    )
    inst = store.institution(I1)
    assert inst is not None and inst["name"] == "长沙星辰艺术" and inst["bank_status"] == "passed"
    assert store.assignments(query="星辰艺术")[0].done == 1
    assert store.assignments(query="星辰教育") == []


def test_a_broken_page_changes_nothing(store: Store) -> None:
    store.apply_changes([], cursor=5)
    broken = {"seq": 7, "kind": "step", "id": "x", "data": {"institution_id": I1}}
    with pytest.raises(MalformedChange) as err:
        store.apply_changes([step_change(I1, "registered", "done", 6), broken], cursor=7)
    assert "seq 7" in err.value.en and "7" in err.value.zh
    assert store.get_meta("cursor") == "5"
    assert store.step_states(I1)["registered"].status == "todo"


def test_pull_never_overwrites_a_step_with_unsent_or_sending_ops(store: Store) -> None:
    op = store.set_step(I1, "registered", "in_progress", note="现场核对中", by="T1")
    store.apply_changes([step_change(I1, "registered", "todo", 1)], cursor=1)
    assert store.step_states(I1)["registered"].status == "in_progress"
    store.mark_sending([op["op_id"]])
    store.apply_changes([step_change(I1, "registered", "todo", 2)], cursor=2)
    assert store.step_states(I1)["registered"].status == "in_progress"
    store.record_results([{"op_id": op["op_id"], "status": "applied"}])
    store.apply_changes([step_change(I1, "registered", "done", 3)], cursor=3)
    state = store.step_states(I1)["registered"]
    assert (state.status, state.sync_state) == ("done", "synced")


def test_pull_keeps_each_contact_field_with_a_local_edit(store: Store) -> None:
    store.set_contact(I2, contact_phone="13907319999")
    store.apply_changes(
        [
            inst_change(
                2, 1, contact_name="李娜娜", contact_phone="13000000000", address="岳麓区新地址1号"
            )
        ],
        cursor=1,
    )
    inst = store.institution(I2)
    assert inst is not None
    assert inst["contact_phone"] == "13907319999"  # local, unsent
    assert inst["contact_name"] == "李娜娜"  # no local edit of the name
    assert inst["address"] == "岳麓区新地址1号"
    assert inst["sync_state"] == "unsent"


def test_pulled_visits_are_upserted_by_visit_id(store: Store) -> None:
    store.apply_changes(
        [{"seq": 1, "kind": "visit", "id": "sv1", "data": visit_data(I3, "sv1")}], cursor=1
    )
    store.apply_changes(
        [
            {
                "seq": 2,
                "kind": "visit",
                "id": "sv1",
                "data": {
                    **visit_data(I3, "sv1", notes="已修订"),
                    "amendments": [{"notes": "已修订"}],
                },
            }
        ],
        cursor=2,
    )
    visits = store.visits(I3)
    assert len(visits) == 1
    assert visits[0]["notes"] == "已修订" and visits[0]["sync_state"] == "synced"
    assert visits[0]["technician_id"] == "T9"
    row = store.assignments(query="星火", filter="follow_up_due", today=date(2026, 12, 1))
    assert [r.id for r in row] == [I3]


def test_a_pulled_visit_does_not_overwrite_a_local_amendment(store: Store) -> None:
    store.apply_changes(
        [{"seq": 1, "kind": "visit", "id": "sv1", "data": visit_data(I3, "sv1")}], cursor=1
    )
    store.amend_visit("sv1", {"notes": "本地补充"})
    store.apply_changes(
        [
            {
                "seq": 2,
                "kind": "visit",
                "id": "sv1",
                "data": visit_data(I3, "sv1", notes="服务器版本"),
            }
        ],
        cursor=2,
    )
    assert store.visits(I3)[0]["notes"] == "本地补充"


def test_unassigned_institution_leaves_with_its_rows(store: Store) -> None:
    store.apply_changes(
        [{"seq": 1, "kind": "visit", "id": "sv1", "data": visit_data(I3, "sv1")}], cursor=1
    )
    store.apply_changes(
        [{"seq": 2, "kind": "unassigned", "id": I3, "data": {"institution_id": I3}}], cursor=2
    )
    assert store.institution(I3) is None
    assert store.visits(I3) == []
    assert store.assignments(query="星火") == []
    with sqlite3.connect(store.path) as conn:
        assert (
            conn.execute("SELECT count(*) FROM steps WHERE institution_id = ?", (I3,)).fetchone()[0]
            == 0
        )


def test_unassigned_institution_with_unsent_ops_waits_until_they_are_synced(store: Store) -> None:
    op = store.set_step(I3, "registered", "done", by="T1")
    store.apply_changes([{"seq": 1, "kind": "unassigned", "id": I3, "data": {}}], cursor=1)
    assert store.institution(I3) is not None
    assert store.pending_ops(10)[0]["op_id"] == op["op_id"]
    store.mark_sending([op["op_id"]])
    store.record_results([{"op_id": op["op_id"], "status": "applied"}])
    assert store.institution(I3) is None
    assert store.counts()["institutions"] == 7


def test_unassigned_institution_with_a_rejected_op_leaves_when_it_is_discarded(
    store: Store,
) -> None:
    op = store.set_step(I3, "registered", "done", by="T1")
    store.record_results(
        [{"op_id": op["op_id"], "status": "rejected", "reason": "not_assigned", "message": "x"}]
    )
    store.apply_changes([{"seq": 1, "kind": "unassigned", "id": I3, "data": {}}], cursor=1)
    assert store.institution(I3) is not None
    store.discard_op(op["op_id"])
    assert store.institution(I3) is None


def test_reassigned_before_its_ops_are_synced_it_stays(store: Store) -> None:
    op = store.set_step(I3, "registered", "done", by="T1")
    store.apply_changes([{"seq": 1, "kind": "unassigned", "id": I3, "data": {}}], cursor=1)
    store.apply_changes([inst_change(3, 2)], cursor=2)
    store.record_results([{"op_id": op["op_id"], "status": "applied"}])
    assert store.institution(I3) is not None


def test_reset_for_full_pull_keeps_the_outbox_and_unsent_rows(store: Store) -> None:
    store.apply_changes(
        [
            step_change(I1, "registered", "done", 1),
            {"seq": 2, "kind": "visit", "id": "sv1", "data": visit_data(I1, "sv1")},
        ],
        cursor=2,
    )
    op = store.set_step(I2, "registered", "done", by="T1")
    store.reset_for_full_pull()
    assert store.get_meta("cursor") == "0"
    assert store.institution(I1) is None and store.visits(I1) == []
    assert store.institution(I2) is not None
    assert store.step_states(I2)["registered"].sync_state == "unsent"
    assert [o["op_id"] for o in store.pending_ops(10)] == [op["op_id"]]
    # the full pull brings I2 back, so its op being synced does not remove it
    store.apply_changes([inst_change(1, 1), inst_change(2, 2)], cursor=2)
    store.record_results([{"op_id": op["op_id"], "status": "applied"}])
    assert store.institution(I2) is not None
    assert store.step_states(I2)["registered"].status == "done"


def test_bulk_load_keeps_registers_with_local_edits(store: Store) -> None:
    store.set_step(I1, "registered", "in_progress", by="T1")
    store.bulk_load(
        [institution(1)],
        [
            {"institution_id": I1, "step": "registered", "status": "todo", "reason": None},
            {
                "institution_id": I1,
                "step": "parent_app",
                "status": "blocked",
                "reason": "家长端无法下载",
            },
        ],
    )
    states = store.step_states(I1)
    assert states["registered"].status == "in_progress"
    assert states["parent_app"].status == "blocked"
    row = store.assignments(query="星辰")[0]
    assert row.blocked and row.unsent == 1


def test_a_later_office_stamp_moves_the_local_clock_forward(store: Store) -> None:
    ahead = domain.Stamp(domain.Stamp.parse(store.clock.now()).ms + 60_000, 3, "office")
    store.apply_changes([step_change(I1, "registered", "done", 1, hlc=str(ahead))], cursor=1)
    op = store.set_step(I1, "parent_app", "in_progress", by="T1")
    assert domain.newer(op["hlc"], str(ahead))


def test_bulk_load_keeps_stamps_given_on_any_step(store: Store) -> None:
    store.bulk_load(
        [institution(1)],
        [
            {"institution_id": I1, "step": "registered", "status": "done", "reason": None},
            {
                "institution_id": I1,
                "step": "account",
                "status": "done",
                "reason": None,
                "hlc": SERVER_HLC,
                "updated_by": "office",
            },
        ],
    )
    states = store.step_states(I1)
    assert (states["account"].hlc, states["account"].updated_by) == (SERVER_HLC, "office")
    assert states["registered"].hlc is None


def test_a_malformed_office_stamp_orders_nothing_but_the_page_applies(store: Store) -> None:
    ahead = str(domain.Stamp(domain.Stamp.parse(store.clock.now()).ms + 5_000, 0, "office"))
    store.apply_changes(
        [
            step_change(I1, "registered", "done", 1, hlc="zzz-not-a-stamp"),
            step_change(I1, "parent_app", "in_progress", 2, hlc=ahead),
        ],
        cursor=2,
    )
    assert store.step_states(I1)["registered"].status == "done"
    assert domain.newer(store.set_step(I1, "courses", "in_progress", by="T1")["hlc"], ahead)


def test_discarding_a_rejected_amendment_puts_the_visit_back(store: Store) -> None:
    store.apply_changes(
        [{"seq": 1, "kind": "visit", "id": "sv1", "data": visit_data(I3, "sv1")}], cursor=1
    )
    op = store.amend_visit("sv1", {"outcome": "refused", "notes": "负责人拒绝"})
    store.record_results(
        [{"op_id": op["op_id"], "status": "rejected", "reason": "invalid", "message": "x"}]
    )
    assert store.visits(I3)[0]["outcome"] == "refused"
    store.discard_op(op["op_id"])
    visit = store.visits(I3)[0]
    assert (visit["outcome"], visit["notes"], visit["sync_state"]) == (
        "completed",
        "办公室补录",
        "synced",
    )
    assert visit["amendments"] == []


def test_answers_for_unknown_ops_change_nothing(store: Store) -> None:
    op = store.set_step(I1, "registered", "done", by="T1")
    store.record_results([{"op_id": "not-ours", "status": "applied"}])
    assert [o["op_id"] for o in store.pending_ops(10)] == [op["op_id"]]


@pytest.mark.parametrize(
    "change",
    [
        {"seq": 2, "kind": "visit", "id": "v", "data": {"visit_id": "v", "institution_id": I1}},
        {
            "seq": 2,
            "kind": "step",
            "id": "s",
            "data": {"institution_id": I1, "step": "registered", "status": "finished"},
        },
        {"seq": 2, "kind": "institution", "id": "x", "data": {"id": "JG4301029999"}},
        {"seq": 2, "kind": "step", "id": "s", "data": None},
        {  # a value of the wrong type where text is stored
            "seq": 2,
            "kind": "institution",
            "id": "JG4301029999",
            "data": {"id": "JG4301029999", "name": ["星辰"], "division_code": "430102"},
        },
        {
            "seq": 2,
            "kind": "step",
            "id": "s",
            "data": {"institution_id": I1, "step": "courses", "status": "todo", "note": {}},
        },
    ],
)
def test_malformed_changes_leave_the_page_unapplied(store: Store, change: dict[str, Any]) -> None:
    with pytest.raises(MalformedChange):
        store.apply_changes([step_change(I1, "registered", "done", 1), change], cursor=2)
    assert store.get_meta("cursor") is None
    assert store.step_states(I1)["registered"].status == "todo"


def test_unknown_steps_and_kinds_from_a_newer_office_are_skipped(store: Store) -> None:
    store.apply_changes(
        [
            step_change(I1, "drone_inspection", "done", 1),
            {"seq": 2, "kind": "hologram", "id": "h", "data": {}},
            step_change(I1, "registered", "done", 3),
        ],
        cursor=3,
    )
    assert store.get_meta("cursor") == "3"
    assert list(store.step_states(I1)) == list(domain.STEP_KEYS)
    assert store.step_states(I1)["registered"].status == "done"


def test_bulk_load_keeps_a_contact_with_a_local_edit(store: Store) -> None:
    store.set_contact(I2, contact_phone="13907319999")
    store.bulk_load([{**institution(2), "contact_phone": "13000000000", "address": "新地址"}], [])
    inst = store.institution(I2)
    assert inst is not None
    assert (inst["contact_phone"], inst["address"]) == ("13907319999", "新地址")


def test_the_offices_conflict_flags_are_kept_for_the_sync_screen(store: Store) -> None:
    plain = store.set_step(I1, "registered", "done", by="T1")
    lost = store.set_step(I2, "registered", "in_progress", by="T1")
    raced = store.set_contact(I3, contact_name="赵六")
    store.mark_sending([plain["op_id"], lost["op_id"], raced["op_id"]])
    store.record_results(
        [
            {"op_id": plain["op_id"], "status": "applied"},
            {"op_id": lost["op_id"], "status": "applied", "superseded": True},
            {"op_id": raced["op_id"], "status": "applied", "conflict": True},
        ]
    )
    flagged = store.conflicts()
    assert [(c["op_id"], c["conflict"], c["superseded"]) for c in flagged] == [
        (raced["op_id"], True, False),
        (lost["op_id"], False, True),
    ]
    assert flagged[0]["kind"] == "contact.set" and flagged[0]["state"] == "synced"
    assert store.counts()["unsent"] == 0
