"""The cache as the app uses it: opening, local edits with their ops, the assignment list, progress."""

from __future__ import annotations

import random
import sqlite3
import threading
from collections.abc import Iterator
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from cache import CacheUnavailable, Store
from fieldkit import domain
from tests.test_cache_fixtures import institution, load, open_loaded

TZ = timezone(timedelta(hours=8))
TODAY = date(2026, 11, 28)
I1, I2, I3, I4 = (institution(n)["id"] for n in (1, 2, 3, 4))


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    """A fresh cache with the fixture institutions, all steps todo."""
    s = open_loaded(tmp_path / "cache.sqlite")
    yield s
    s.close()


def outbox(path: Path) -> list[tuple[str, str, str]]:
    """(kind, institution_id, state) of every op, read straight from the file."""
    with sqlite3.connect(path) as conn:
        return conn.execute(
            "SELECT kind, institution_id, state FROM outbox ORDER BY seq"
        ).fetchall()


def visit(
    inst_id: str, vid: str, day: date, next_on: date | None = None, rect: bool = False
) -> domain.Visit:
    return domain.Visit(
        visit_id=vid,
        institution_id=inst_id,
        technician_id="T1",
        kind="guidance",
        started_at=datetime(day.year, day.month, day.day, 9, 0, tzinfo=TZ),
        ended_at=datetime(day.year, day.month, day.day, 10, 30, tzinfo=TZ),
        outcome="partial",
        steps_advanced=("registered",),
        issues=("前台有个人收款码",),
        rectification=domain.Rectification(("撤下个人收款码",), day + timedelta(days=7))
        if rect
        else None,
        next_visit_on=next_on,
        notes="带齐营业执照",
    )


def test_open_creates_a_wal_file_with_a_lasting_client_id(tmp_path: Path) -> None:
    path = tmp_path / "profiles" / "default" / "cache.sqlite"
    s = Store.open(path)
    client, stamp = s.client_id, s.clock.now()
    s.set_meta("epoch", "e1")
    s.close()
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    again = Store.open(path)
    assert again.client_id == client
    assert again.get_meta("epoch") == "e1"
    load(again)
    op = again.set_step(I1, "registered", "done", by="T1")
    assert domain.newer(op["hlc"], stamp)
    again.set_meta("epoch", None)
    assert again.get_meta("epoch", "none") == "none"
    again.close()


def test_clock_survives_restart_even_when_the_wall_clock_goes_back(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite"
    s = Store.open(path)
    load(s)
    first = s.set_step(I1, "registered", "done", by="T1")["hlc"]
    s.close()
    s = Store.open(path)
    s.clock = domain.HLC(s.client_id, s.get_meta("clock"), wall=lambda: 1_000)  # clock set to 1970
    second = s.set_step(I1, "parent_app", "in_progress", by="T1")["hlc"]
    s.close()
    assert domain.newer(second, first)


def test_set_step_writes_the_row_and_its_op(store: Store) -> None:
    op = store.set_step(I1, "registered", "done", note="已核对营业执照", by="T1")
    assert op["kind"] == "step.set" and op["institution_id"] == I1
    assert op["data"] == {
        "step": "registered",
        "status": "done",
        "reason": None,
        "note": "已核对营业执照",
    }
    state = store.step_states(I1)["registered"]
    assert (state.status, state.note, state.updated_by, state.sync_state, state.hlc) == (
        "done",
        "已核对营业执照",
        "T1",
        "unsent",
        op["hlc"],
    )
    assert outbox(store.path) == [("step.set", I1, "unsent")]
    assert store.pending_ops(10)[0]["op_id"] == op["op_id"]
    row = store.assignments(query="星辰")[0]
    assert (row.done, row.next_step, row.unsent) == (1, "qualification", 1)


@pytest.mark.parametrize(
    "step, status, reason, code",
    [
        ("qualification", "done", None, "prerequisite"),
        ("bank_verified", "done", None, "server_owned"),
        ("registered", "blocked", "  ", "reason_required"),
        ("nonsense", "done", None, "unknown_step"),
        ("registered", "finished", None, "unknown_status"),
    ],
)
def test_a_refused_step_change_writes_nothing(
    store: Store, step: str, status: str, reason: str | None, code: str
) -> None:
    clock_before = store.get_meta("clock")
    with pytest.raises(domain.DomainError) as err:
        store.set_step(I1, step, status, reason, by="T1")
    assert err.value.code == code
    assert err.value.zh and err.value.en
    assert outbox(store.path) == []
    assert all(s.status == "todo" for s in store.step_states(I1).values())
    assert store.get_meta("clock") == clock_before


def test_a_done_step_with_done_dependents_cannot_be_reopened(store: Store) -> None:
    store.set_step(I1, "registered", "done", by="T1")
    store.set_step(I1, "parent_app", "done", by="T1")
    with pytest.raises(domain.DomainError) as err:
        store.set_step(I1, "registered", "in_progress", by="T1")
    assert err.value.code == "has_dependents"
    assert store.step_states(I1)["registered"].status == "done"
    assert len(outbox(store.path)) == 2


def test_edits_of_an_unknown_institution_are_refused(store: Store) -> None:
    with pytest.raises(domain.DomainError) as err:
        store.set_step("JG4301029999", "registered", "done", by="T1")
    assert err.value.code == "unknown_institution"
    with pytest.raises(domain.DomainError):
        store.set_contact("JG4301029999", contact_name="王五")
    assert outbox(store.path) == []


def test_step_states_lists_all_eleven_steps_in_order(store: Store) -> None:
    assert list(store.step_states(I1)) == list(domain.STEP_KEYS)
    assert list(store.step_states("JG0000000000")) == list(domain.STEP_KEYS)


def test_set_contact_validates_and_normalises_the_mobile(store: Store) -> None:
    with pytest.raises(domain.DomainError) as err:
        store.set_contact(I2, contact_phone="12345")
    assert err.value.field == "contact_phone"
    op = store.set_contact(I2, contact_name=" 李四 ", contact_phone="+86 139-0731-9999")
    assert op["data"] == {"contact_name": "李四", "contact_phone": "13907319999"}
    inst = store.institution(I2)
    assert inst is not None
    assert (inst["contact_name"], inst["contact_phone"], inst["sync_state"]) == (
        "李四",
        "13907319999",
        "unsent",
    )


def test_institution_has_the_wire_fields(store: Store) -> None:
    inst = store.institution(I3)
    assert inst is not None
    expected = institution(3)
    assert {k: inst[k] for k in expected} == expected
    assert inst["sync_state"] == "synced"
    assert store.institution("JG0000000000") is None


def test_visits_are_recorded_newest_first_and_amended(store: Store) -> None:
    store.create_visit(visit(I3, "v1", date(2026, 11, 2)))
    op = store.create_visit(
        visit(I3, "v2", date(2026, 11, 20), next_on=date(2026, 11, 27), rect=True)
    )
    assert op["kind"] == "visit.create" and op["data"]["visit_id"] == "v2"
    assert op["data"]["rectification"]["items"] == ["撤下个人收款码"]
    listed = store.visits(I3)
    assert [v["visit_id"] for v in listed] == ["v2", "v1"]
    assert listed[0]["institution_id"] == I3 and listed[0]["technician_id"] == "T1"
    assert listed[0]["sync_state"] == "unsent" and listed[0]["issues"] == ["前台有个人收款码"]
    row = store.assignments(query="星火", today=TODAY)[0]
    assert row.last_visit_at == "2026-11-20T09:00:00+08:00"
    assert row.next_visit_on == "2026-11-27"
    amend = store.amend_visit("v2", {"outcome": "completed", "next_visit_on": date(2026, 12, 3)})
    assert amend["kind"] == "visit.amend"
    assert amend["data"] == {
        "visit_id": "v2",
        "outcome": "completed",
        "next_visit_on": "2026-12-03",
    }
    v2 = store.visits(I3)[0]
    assert v2["outcome"] == "completed" and v2["next_visit_on"] == "2026-12-03"
    assert len(v2["amendments"]) == 1
    assert store.assignments(query="星火", today=TODAY)[0].next_visit_on == "2026-12-03"
    assert store.counts()["visits"] == 2


def test_bad_visits_and_amendments_are_refused(store: Store) -> None:
    bad = visit(I3, "v1", date(2026, 11, 2), next_on=date(2026, 10, 1))
    with pytest.raises(domain.DomainError) as err:
        store.create_visit(bad)
    assert err.value.field == "next_visit_on"
    store.create_visit(visit(I3, "v1", date(2026, 11, 2)))
    with pytest.raises(domain.DomainError):
        store.create_visit(visit(I3, "v1", date(2026, 11, 3)))
    with pytest.raises(domain.DomainError) as err:
        store.amend_visit("v1", {"started_at": "2026-11-01T09:00:00+08:00"})
    assert err.value.code == "visit_amend"
    with pytest.raises(domain.DomainError) as err:
        store.amend_visit("v1", {"outcome": "vanished"})
    assert err.value.code == "visit_outcome"
    with pytest.raises(domain.DomainError) as err:
        store.amend_visit("nope", {"outcome": "completed"})
    assert err.value.code == "unknown_visit"
    assert [k for k, _, _ in outbox(store.path)] == ["visit.create"]


def test_posters_and_code_checks_are_recorded_as_events(store: Store) -> None:
    sha = "ab" * 32
    poster = store.record_poster(I1, "a6", sha, copies=2)
    assert poster["kind"] == "poster.printed"
    assert poster["data"] == {"size": "a6", "payload_sha256": sha, "copies": 2}
    check = store.record_qr_check(I1, None, "mismatch", "wechat_personal", "cd" * 32)
    assert check["data"]["result"] == "mismatch" and check["data"]["found"] == "wechat_personal"
    kinds = sorted(e["kind"] for e in store.events(I1))
    assert kinds == ["poster.printed", "qr.checked"]
    with pytest.raises(domain.DomainError):
        store.record_poster(I1, "a3", sha)
    with pytest.raises(domain.DomainError):
        store.record_qr_check(I1, None, "maybe", "text", "cd" * 32)
    with pytest.raises(domain.DomainError):
        store.record_poster(I1, "a4", "not-a-digest")
    assert store.counts()["unsent"] == 2


@pytest.fixture
def spread(tmp_path: Path) -> Iterator[Store]:
    """Fixtures spread over the checklist: 1 untouched, 2 in progress, 3 full, 4 blocked, 5 overdue."""
    s = Store.open(tmp_path / "spread.sqlite")
    load(s, progress={2: 3, 3: 11, 5: 2, 6: 5, 7: 1}, blocked={4: "registered"})
    s.create_visit(visit(institution(5)["id"], "v5", date(2026, 11, 1), next_on=date(2026, 11, 20)))
    s.create_visit(visit(institution(6)["id"], "v6", date(2026, 11, 1), next_on=date(2026, 12, 20)))
    yield s
    s.close()


def ids(rows: list) -> list[int]:
    return [int(r.id[-4:]) for r in rows]


@pytest.mark.parametrize(
    "filter, expected",
    [
        ("all", [1, 2, 3, 4, 5, 6, 7, 8]),
        ("not_started", [1, 8]),
        ("in_progress", [2, 5, 6, 7]),
        ("blocked", [4]),
        ("full_process", [3]),
        ("follow_up_due", [5]),
    ],
)
def test_filters(spread: Store, filter: str, expected: list[int]) -> None:
    rows = spread.assignments(filter=filter, sort="county", today=TODAY)
    assert sorted(ids(rows)) == expected
    assert spread.count_assignments(filter=filter, today=TODAY) == len(expected)


def test_follow_up_due_depends_on_today(spread: Store) -> None:
    assert ids(spread.assignments(filter="follow_up_due", today=date(2026, 12, 31))) == [5, 6]
    assert spread.assignments(filter="follow_up_due", today=date(2026, 11, 1)) == []


def test_priority_puts_overdue_then_blocked_then_least_progress_first(spread: Store) -> None:
    order = ids(spread.assignments(sort="priority", today=TODAY))
    assert order[:2] == [5, 4]
    rest = spread.assignments(sort="priority", today=TODAY)[2:]
    assert [r.done for r in rest] == sorted(r.done for r in rest)
    assert order[-1] == 3


def test_sort_by_name_follows_pinyin_and_by_county_follows_the_code(spread: Store) -> None:
    by_name = spread.assignments(sort="name")
    assert [r.name for r in by_name][:3] == ["常德星火美术", "长沙博雅书法", "长沙星辰教育"]
    by_county = spread.assignments(sort="county")
    assert [r.division_code for r in by_county] == sorted(r.division_code for r in by_county)
    assert by_county[0].county == "芙蓉区"


def test_paging_walks_the_list_without_gaps_or_repeats(spread: Store) -> None:
    pages = [
        spread.assignments(sort="priority", limit=3, offset=o, today=TODAY) for o in (0, 3, 6, 9)
    ]
    assert [len(p) for p in pages] == [3, 3, 2, 0]
    assert ids([r for p in pages for r in p]) == ids(spread.assignments(today=TODAY))


def test_row_fields(spread: Store) -> None:
    full = spread.assignments(filter="full_process")[0]
    assert (full.done, full.next_step, full.full_process, full.blocked) == (11, None, True, False)
    blocked = spread.assignments(filter="blocked")[0]
    assert blocked.blocked and blocked.next_step == "registered"


def test_unknown_filter_or_sort_is_a_programming_error(store: Store) -> None:
    with pytest.raises(ValueError):
        store.assignments(filter="late")
    with pytest.raises(ValueError):
        store.assignments(sort="size")


def test_progress_per_county_and_city(spread: Store) -> None:
    counties = {p["division_code"]: p for p in spread.progress("county")}
    assert counties["430702"]["institutions"] == 2 and counties["430702"]["name"] == "武陵区"
    cities = {p["division_code"]: p for p in spread.progress("city")}
    changde = cities["430700"]
    assert changde["name"] == "常德市" and changde["institutions"] == 3
    assert changde["by_step"]["registered"] == 2  # 3 (all 11) and 5 (2 done); 4 is blocked
    assert cities["430100"]["full_process"] == 0 and changde["full_process"] == 1
    assert changde["bank_verified"] == 1
    assert sum(c["institutions"] for c in cities.values()) == 8


def test_local_stats_has_the_office_shape(spread: Store) -> None:
    stats = spread.local_stats()
    assert set(stats) == {
        "division",
        "institutions",
        "by_step",
        "bank_verified",
        "bank_verified_rate",
        "payment_enabled",
        "full_process",
        "orders",
        "order_amount_fen",
        "visits",
        "rectification_notices",
    }
    assert stats["institutions"] == 8 and stats["orders"] == sum(range(1, 9))
    assert stats["order_amount_fen"] == 10_000 * sum(range(1, 9))
    assert stats["full_process"] == 1 and stats["visits"] == 2
    assert stats["bank_verified_rate"] == round(1 / 8, 4)
    county = spread.local_stats("430702")
    assert county["division"] == "430702" and county["institutions"] == 2
    assert spread.local_stats("430700")["institutions"] == 3
    assert spread.local_stats("430000")["institutions"] == 8


def test_rectification_notices_are_counted(store: Store) -> None:
    store.create_visit(visit(I1, "v1", date(2026, 11, 2), rect=True))
    store.create_visit(visit(I1, "v2", date(2026, 11, 3)))
    stats = store.local_stats("430102")
    assert (stats["visits"], stats["rectification_notices"]) == (2, 1)


def test_writes_from_many_threads_are_serialised(tmp_path: Path) -> None:
    s = Store.open(tmp_path / "t.sqlite")
    insts = load(s)
    errors: list[BaseException] = []

    def work(inst_id: str) -> None:
        try:
            s.set_step(inst_id, "registered", "done", by="T1")
            for key in ("qualification", "personnel", "courses", "account", "parent_app"):
                s.set_step(inst_id, key, "done", by="T1")
                s.assignments(query="教育")
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i["id"],)) for i in insts]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert s.counts()["unsent"] == 6 * len(insts)
    assert {r.done for r in s.assignments()} == {6}
    stamps = [op["hlc"] for op in s.pending_ops(1000)]
    assert len(set(stamps)) == len(stamps)
    s.close()


def test_list_order_and_paging_match_a_plain_sort(tmp_path: Path) -> None:
    rng = random.Random(5)
    base = institution(3)
    insts, steps, visits, truth = [], [], [], {}
    for n in range(600):
        inst_id = f"JG430702{n:04d}"
        pinyin = "".join(rng.choice("abcdefgh") for _ in range(6))
        insts.append(
            {
                **base,
                "id": inst_id,
                "name": f"机构{n}",
                "pinyin": pinyin,
                "division_code": rng.choice(["430702", "430703", "430721"]),
            }
        )
        done = rng.choice([0, 1, 2, 5, 11])
        blocked = rng.random() < 0.15 and done < 11
        for i, key in enumerate(domain.STEP_KEYS):
            status = "done" if i < done else ("blocked" if blocked and i == done else "todo")
            steps.append(
                {
                    "institution_id": inst_id,
                    "step": key,
                    "status": status,
                    "reason": "x" if status == "blocked" else None,
                }
            )
        next_on = None
        if rng.random() < 0.3:
            next_on = date(2026, 11, 1) + timedelta(days=rng.randrange(60))
            visits.append(
                {
                    "seq": n,
                    "kind": "visit",
                    "id": f"v{n}",
                    "data": {
                        "visit_id": f"v{n}",
                        "institution_id": inst_id,
                        "technician_id": "T1",
                        "kind": "follow_up",
                        "started_at": "2026-10-01T09:00:00+08:00",
                        "next_visit_on": next_on.isoformat(),
                    },
                }
            )
        truth[inst_id] = (done, int(blocked), next_on, pinyin, insts[-1]["division_code"])
    s = Store.open(tmp_path / "order.sqlite")
    s.bulk_load(insts, steps)
    s.apply_changes(visits, cursor=len(visits))

    def priority(i: str) -> tuple[object, ...]:
        done, blocked, next_on, pinyin, _ = truth[i]
        due = next_on is not None and next_on <= TODAY
        return (not due, next_on if due else date.min, -blocked, done, pinyin, i)

    expected = {
        "priority": sorted(truth, key=priority),
        "name": sorted(truth, key=lambda i: (truth[i][3], f"机构{int(i[-4:])}", i)),
        "county": sorted(truth, key=lambda i: (truth[i][4], truth[i][3], i)),
    }
    for sort, order in expected.items():
        ones = [i for i in order if str(int(i[-4:])).startswith("1")]  # names 机构1...
        # everything and a broad search walk the sort's index; a narrow search sorts its matches
        for query, keep in (("", order), ("机构", order), ("机构1", ones)):
            got = [
                r.id
                for off in range(0, 700, 70)
                for r in s.assignments(query, sort=sort, limit=70, offset=off, today=TODAY)
            ]
            assert got == keep, (sort, query)
    s.close()


def test_a_file_held_by_another_writer_gives_a_clear_error_and_loses_nothing(
    tmp_path: Path,
) -> None:
    path = tmp_path / "held.sqlite"
    open_loaded(path).close()
    s = Store.open(path, timeout=0.2)
    s.set_step(I1, "registered", "done", by="T1")
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(CacheUnavailable) as err:
            s.set_step(I1, "parent_app", "in_progress", by="T1")
        assert "not saved" in err.value.en and "没有保存" in err.value.zh
        assert s.step_states(I1)["registered"].status == "done"  # reads still work
    finally:
        other.execute("ROLLBACK")
        other.close()
    s.set_step(I1, "parent_app", "in_progress", by="T1")
    assert len(s.pending_ops(10)) == 2
    s.close()


def test_a_load_giving_a_step_twice_counts_the_last(tmp_path: Path) -> None:
    with Store.open(tmp_path / "twice.sqlite") as s:
        inst = institution(1)
        s.bulk_load(
            [inst],
            [
                {
                    "institution_id": inst["id"],
                    "step": "registered",
                    "status": "done",
                    "reason": None,
                },
                {
                    "institution_id": inst["id"],
                    "step": "parent_app",
                    "status": "done",
                    "reason": None,
                },
                {
                    "institution_id": inst["id"],
                    "step": "parent_app",
                    "status": "blocked",
                    "reason": "家长端无法下载",
                },
                {"institution_id": inst["id"], "step": "drone", "status": "done", "reason": None},
            ],
        )
        row = s.assignments()[0]
        assert (row.done, row.blocked) == (1, True)
        assert s.step_states(inst["id"])["parent_app"].status == "blocked"
