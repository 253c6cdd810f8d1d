"""A pulled page is written kind by kind in stretches (cache.pull): it must leave the cache as
applying its changes one at a time does, local edits kept, and name the change it cannot store."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from cache import MalformedChange, Store
from fieldkit import domain
from tests.test_cache_fixtures import institution, open_loaded

I1, I2, I3, I9 = (institution(n)["id"] for n in (1, 2, 3, 4))
STAMP = "000000000000000-0000-office"
# What a pull writes (the local edits' own stamps and op ids differ from one cache to another).
TABLES = {
    "institutions": "* FROM institutions ORDER BY id",
    "steps": "institution_id, step, status, reason, note, sync_state FROM steps ORDER BY 1, 2",
    "platform_readings": "* FROM platform_readings ORDER BY institution_id",
    "search_keys": "* FROM search_keys ORDER BY rowid",
    "pending_removals": "institution_id FROM pending_removals ORDER BY 1",
    "outbox": "kind, institution_id, register, state FROM outbox ORDER BY seq",
}


def change(seq: int, kind: str, data: dict[str, Any] | None, id_: str = "") -> dict[str, Any]:
    return {"seq": seq, "kind": kind, "id": id_ or f"{kind}-{seq}", "data": data}


def step(seq: int, inst: str, key: str, status: str, reason: str | None = None) -> dict[str, Any]:
    data = {"institution_id": inst, "step": key, "status": status, "reason": reason}
    return change(seq, "step", {**data, "hlc": STAMP, "updated_by": "office"})


def reading(seq: int, inst: str) -> dict[str, Any]:
    return change(seq, "platform", {"institution_id": inst, "steps": {"registered": True}})


def page() -> list[dict[str, Any]]:
    """A page as an office interleaves it: each institution, its reading, its steps; an
    unassignment and the same institution back; a step the page sets twice."""
    renamed = {**institution(1), "name": "长沙星辰教育（新址）", "contact_phone": "13800000000"}
    fresh = {**institution(4), "id": "JG4307029999", "name": "新来的机构"}
    return [
        change(1, "institution", renamed, I1),
        reading(2, I1),
        step(3, I1, "registered", domain.DONE),
        step(4, I1, "qualification", domain.DONE),  # edited here, unsent: kept
        step(5, I1, "no_such_step", domain.DONE),  # unknown to this version: skipped
        change(6, "institution", fresh, fresh["id"]),
        step(7, fresh["id"], "registered", domain.BLOCKED, "负责人不在"),
        reading(8, "JG0000000000"),  # not cached: dropped
        change(9, "unassigned", None, I2),
        change(10, "institution", {**institution(2), "name": "回来了"}, I2),
        step(11, I2, "registered", domain.DONE),
        step(12, I1, "registered", domain.TODO),  # the same step again: the later one stands
        reading(13, fresh["id"]),
    ]


def contents(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the tables a pull writes, straight from the file."""
    with sqlite3.connect(path) as conn:
        return {
            table: conn.execute(f"SELECT {query}").fetchall() for table, query in TABLES.items()
        }


def prepared(path: Path) -> Store:
    """The fixture cache with unsent local edits: a contact and a step of I1."""
    store = open_loaded(path)
    store.set_contact(I1, contact_name="本地改的联系人")
    store.set_step(I1, "qualification", domain.BLOCKED, "银行未受理", by="T1")
    return store


def test_a_page_written_in_runs_leaves_what_one_change_at_a_time_leaves(tmp_path: Path) -> None:
    whole, single = prepared(tmp_path / "whole.sqlite"), prepared(tmp_path / "single.sqlite")
    whole.apply_changes(page(), 13)
    for each in page():
        single.apply_changes([each], each["seq"])
    whole.close(), single.close()
    written = contents(tmp_path / "whole.sqlite")
    assert written == contents(tmp_path / "single.sqlite")

    rows = {r[0]: r for r in written["institutions"]}
    assert rows[I1][1] == "长沙星辰教育（新址）"
    with sqlite3.connect(tmp_path / "whole.sqlite") as conn:
        conn.row_factory = sqlite3.Row
        one = conn.execute("SELECT * FROM institutions WHERE id = ?", (I1,)).fetchone()
        assert one["contact_name"] == "本地改的联系人"  # the unsent edit wins
        assert one["contact_phone"] == "13800000000"  # the field not edited here follows
        steps = dict(
            conn.execute(
                "SELECT step, status FROM steps WHERE institution_id = ?", (I1,)
            ).fetchall()
        )
        assert steps["qualification"] == domain.BLOCKED and steps["registered"] == domain.TODO
        assert "no_such_step" not in steps
        fresh = conn.execute("SELECT * FROM institutions WHERE id = 'JG4307029999'").fetchone()
        assert fresh["blocked"] == 1 and fresh["next_step"] == "registered"  # progress refreshed
        readings = [r[0] for r in conn.execute("SELECT institution_id FROM platform_readings")]
        assert sorted(readings) == sorted([I1, "JG4307029999"])


def test_a_reading_sent_before_its_institution_in_one_stretch_is_kept(tmp_path: Path) -> None:
    store = open_loaded(tmp_path / "cache.sqlite")
    new = {**institution(4), "id": "JG4307028888"}
    store.apply_changes([reading(1, new["id"]), change(2, "institution", new, new["id"])], 2)
    assert store.platform_reading(new["id"]) is not None
    store.close()


@pytest.mark.parametrize(
    ("bad", "why"),
    [
        (step(3, I1, "registered", "finished"), "unknown status"),
        (change(3, "institution", {"id": I3, "name": "缺少区划"}, I3), "division_code"),
        (change(3, "platform", {"institution_id": I1}), "without steps"),
    ],
)
def test_a_change_that_cannot_be_stored_is_named_and_nothing_of_its_page_is_kept(
    tmp_path: Path, bad: dict[str, Any], why: str
) -> None:
    store = open_loaded(tmp_path / "cache.sqlite")
    before = contents(tmp_path / "cache.sqlite")
    with pytest.raises(MalformedChange) as raised:
        store.apply_changes([step(1, I1, "registered", domain.DONE), reading(2, I1), bad], 3)
    assert raised.value.change == bad and why in str(raised.value)
    store.close()
    assert contents(tmp_path / "cache.sqlite") == before


def test_a_big_pulled_run_is_found_by_search_and_so_is_a_later_rename(tmp_path: Path) -> None:
    """A run of 200+ institutions gets its search keys in one statement after the rows."""
    store = open_loaded(tmp_path / "cache.sqlite")
    many = [
        change(
            n, "institution", {**institution(3), "id": f"JG43070{n:05d}", "name": f"第{n}号培训"}
        )
        for n in range(1, 251)
    ]
    store.apply_changes(many, 250)
    assert [r.id for r in store.assignments("第123号")] == ["JG4307000123"]
    assert len(store.assignments("cdxhms", limit=500)) == 251  # pinyin initials, and the fixture's
    renamed = {**institution(3), "id": "JG4307000123", "name": "改名后的学校"}
    store.apply_changes([change(251, "institution", renamed, renamed["id"])], 251)
    assert [r.id for r in store.assignments("改名后")] == ["JG4307000123"]
    assert store.assignments("第123号") == []
    store.close()


def test_a_pulled_page_is_committed_without_waiting_for_the_disk_and_nothing_else_is(
    tmp_path: Path,
) -> None:
    """A page the office can give again is committed with synchronous=NORMAL (atomic, not
    waited for); every other write, and a page that fails, leave the connection at FULL."""
    store = open_loaded(tmp_path / "cache.sqlite")
    seen: list[int] = []
    real = store._apply_one

    def noting(conn: sqlite3.Connection, one: dict[str, Any], dirty: set[str]) -> set[str]:
        seen.append(conn.execute("PRAGMA synchronous").fetchone()[0])
        return real(conn, one, dirty)

    store._apply_one = noting  # type: ignore[method-assign]
    store.apply_changes([change(1, "unassigned", None, I3)], 1)
    with pytest.raises(MalformedChange):
        store.apply_changes([change(2, "unassigned", None, I2), step(3, I1, "x", "finished")], 3)
    store.set_step(I1, "registered", domain.DONE, by="T1")
    after = store._conn.execute("PRAGMA synchronous").fetchone()[0]
    store.close()
    assert seen == [1, 1]  # NORMAL inside both pages
    assert after == 2  # FULL again for the edit and everything after


def busy_page() -> list[dict[str, Any]]:
    """300 institutions, each with its steps, then every step of the first 60 set again: more
    rows of each kind than one statement takes, a key set twice across statements."""
    insts = [
        {**institution(3), "id": f"JG43070{n:05d}", "name": f"第{n}号培训"} for n in range(300)
    ]
    changes: list[dict[str, Any]] = []
    statuses = (domain.DONE, domain.TODO, domain.BLOCKED)
    for n, inst in enumerate(insts):
        changes.append(change(len(changes) + 1, "institution", inst, inst["id"]))
        for k, key in enumerate(domain.STEP_KEYS[:4]):
            changes.append(step(len(changes) + 1, inst["id"], key, statuses[(n + k) % 3], "原因"))
    for n, inst in enumerate(insts[:60]):
        for key in domain.STEP_KEYS[:4]:
            changes.append(step(len(changes) + 1, inst["id"], key, statuses[(n + 1) % 3], "再次"))
    return changes


def test_a_busy_page_is_written_in_a_few_statements_as_one_change_at_a_time_leaves(
    tmp_path: Path,
) -> None:
    """Many rows go in each statement (statements.insert_rows): 1,500 step rows in a dozen
    statements, not 1,500, and the cache holds what applying them one by one leaves (the later
    of a step set twice)."""
    whole, single = prepared(tmp_path / "whole.sqlite"), prepared(tmp_path / "single.sqlite")
    statements: list[str] = []
    whole._conn.set_trace_callback(statements.append)
    whole.apply_changes(busy_page(), len(busy_page()))
    whole._conn.set_trace_callback(None)
    for each in busy_page():
        single.apply_changes([each], each["seq"])
    whole.close(), single.close()
    assert contents(tmp_path / "whole.sqlite") == contents(tmp_path / "single.sqlite")
    # (steps have no trigger: SQLite traces each of their statements once)
    assert sum(s.startswith("INSERT INTO steps") for s in statements) <= 15
    with sqlite3.connect(tmp_path / "whole.sqlite") as conn:
        again = conn.execute(
            "SELECT status, reason FROM steps WHERE institution_id = 'JG4307000000' AND step = ?",
            (domain.STEP_KEYS[0],),
        ).fetchone()
    assert again == (domain.TODO, "再次")


def test_a_text_field_holding_a_list_deep_in_a_busy_page_keeps_nothing_of_it(
    tmp_path: Path,
) -> None:
    store = open_loaded(tmp_path / "cache.sqlite")
    before = contents(tmp_path / "cache.sqlite")
    changes = busy_page()
    changes[901]["data"] = {**changes[901]["data"], "note": ["不是", "文本"]}
    with pytest.raises(MalformedChange) as raised:
        store.apply_changes(changes, len(changes))
    assert "ProgrammingError" in str(raised.value)
    store.close()
    assert contents(tmp_path / "cache.sqlite") == before
