"""An institution new to the cache is written with its progress counted from its page's steps
(cache.pull.new_progress): the list must show what counting the steps table afterwards shows,
however the office's changes fall into pages, whatever the cache already held."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cache import progress
from cache.store import Store
from fieldkit import domain
from tests.test_cache_fixtures import institution
from tests.test_cache_pull_page import change, contents, step

A, B, C, D = (institution(n) for n in (1, 2, 3, 4))
VISIT_DAY = "2026-03-02T09:00:00+08:00"


def visit(seq: int, inst: str) -> dict[str, Any]:
    data = {
        "visit_id": f"v-{seq}",
        "institution_id": inst,
        "technician_id": "T0001",
        "kind": "onboarding",
        "started_at": VISIT_DAY,
        "ended_at": VISIT_DAY,
        "outcome": "progress",
        "steps_advanced": [],
        "issues": [],
        "rectification": None,
        "interview_recommended": False,
        "next_visit_on": "2026-03-09",
        "notes": "",
        "hlc": "000000000000000-0000-office",
    }
    return change(seq, "visit", data, data["visit_id"])


def recounted(path: Path) -> list[tuple[Any, ...]]:
    """The institutions rows once every progress column is summed again from the tables."""
    with sqlite3.connect(path) as conn:
        progress.refresh(conn, None)
        return conn.execute("SELECT * FROM institutions ORDER BY id").fetchall()


def pulled(path: Path, pages: list[list[dict[str, Any]]]) -> Store:
    """A new cache at `path` with the pages applied in order, each with its last seq as cursor."""
    store = Store.open(path)
    for page in pages:
        store.apply_changes(page, page[-1]["seq"] if page else 0)
    return store


def first_pull() -> list[dict[str, Any]]:
    """An office's first pull: A with its steps; B's steps running on past a page end; C's
    steps pulled before C itself; a visit of D before D; a step given twice, an unknown step."""
    return [
        change(1, "institution", A, A["id"]),
        step(2, A["id"], "registered", domain.DONE),
        step(3, A["id"], "qualification", domain.DONE),
        step(4, A["id"], "personnel", domain.BLOCKED, "负责人不在"),
        step(5, A["id"], "no_such_step", domain.DONE),
        change(6, "institution", B, B["id"]),
        step(7, B["id"], "registered", domain.DONE),
        step(8, C["id"], "registered", domain.DONE),  # before C
        step(9, B["id"], "qualification", domain.DONE),  # (a page ends before it below)
        step(10, B["id"], "registered", domain.TODO),  # the same step again: the later stands
        visit(11, D["id"]),
        change(12, "institution", C, C["id"]),
        step(13, C["id"], "qualification", domain.DONE),
        change(14, "institution", D, D["id"]),
        step(15, D["id"], "registered", domain.DONE),
    ]


def test_a_first_pull_shows_the_progress_the_steps_table_gives(tmp_path: Path) -> None:
    changes = first_pull()
    runs = [changes[:8], changes[8:10], changes[10:11], changes[11:]]
    paged = pulled(tmp_path / "paged.sqlite", [c for c in runs if c])
    rows = {r.id: r for r in paged.assignments(limit=10)}
    paged.close()
    one_by_one = pulled(tmp_path / "single.sqlite", [[c] for c in changes])
    one_by_one.close()

    written = contents(tmp_path / "paged.sqlite")
    assert written == contents(tmp_path / "single.sqlite")
    assert written["institutions"] == recounted(tmp_path / "paged.sqlite")
    # what the list shows: A blocked with two done; B with only qualification done (its
    # registered step set back to todo on the next page); C with both its steps, the one pulled
    # before it too; D with its step and the follow-up date of the visit pulled before it
    assert (rows[A["id"]].done, rows[A["id"]].blocked) == (2, True)
    assert (rows[B["id"]].done, rows[B["id"]].next_step) == (1, "registered")
    assert rows[C["id"]].done == 2
    assert rows[D["id"]].done == 1 and rows[D["id"]].next_visit_on is not None


def test_a_pulled_institution_with_an_unsent_edit_keeps_it_in_its_progress(tmp_path: Path) -> None:
    """An institution the cache holds, with a step edited here and not yet sent, pulled again
    (its row re-sent) in a page that also brings a new one."""
    store = pulled(tmp_path / "cache.sqlite", [first_pull()])
    store.set_step(A["id"], "account", domain.DONE, by="T1")
    again = [
        change(20, "institution", {**A, "name": "改名"}, A["id"]),
        step(21, A["id"], "account", domain.TODO),  # loses to the unsent edit
        step(22, A["id"], "qualification", domain.TODO),
        change(23, "institution", institution(5), institution(5)["id"]),
        step(24, institution(5)["id"], "registered", domain.BLOCKED, "停业"),
    ]
    store.apply_changes(again, 24)
    a, e = store.institution(A["id"]), store.institution(institution(5)["id"])
    store.close()
    assert a is not None and e is not None
    assert contents(tmp_path / "cache.sqlite")["institutions"] == recounted(
        tmp_path / "cache.sqlite"
    )
    with sqlite3.connect(tmp_path / "cache.sqlite") as conn:
        unsent, done = conn.execute(
            "SELECT unsent, done FROM institutions WHERE id = ?", (A["id"],)
        ).fetchone()
    assert (unsent, done) == (1, 2)  # registered and the unsent account; qualification undone


KINDS = ("institution", "step", "unassigned", "visit")
STEPS = domain.STEP_KEYS[:4]
STATUSES = (domain.TODO, domain.DONE, domain.BLOCKED)


@st.composite
def office_log(draw: st.DrawFn) -> tuple[list[dict[str, Any]], list[int]]:
    """Changes of three institutions in any order (steps before or after their institution, an
    institution taken away and sent again, visits), and where the pages end."""
    insts = [institution(n) for n in (1, 2, 3)]
    count = draw(st.integers(1, 40))
    changes = []
    for seq in range(1, count + 1):
        inst = draw(st.sampled_from(insts))
        kind = draw(st.sampled_from(KINDS) if seq > 1 else st.just("institution"))
        if kind == "institution":
            changes.append(change(seq, kind, inst, inst["id"]))
        elif kind == "step":
            key, status = draw(st.sampled_from(STEPS)), draw(st.sampled_from(STATUSES))
            changes.append(
                step(seq, inst["id"], key, status, "原因" if status == "blocked" else None)
            )
        elif kind == "unassigned":
            changes.append(change(seq, kind, None, inst["id"]))
        else:
            changes.append(visit(seq, inst["id"]))
    cuts = sorted(set(draw(st.lists(st.integers(1, count), max_size=5))) | {count})
    return changes, cuts


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(log=office_log())
def test_however_the_pages_fall_the_progress_is_the_steps_tables(
    tmp_path_factory: Any, log: tuple[list[dict[str, Any]], list[int]]
) -> None:
    changes, cuts = log
    folder = tmp_path_factory.mktemp("pull")
    pages = [changes[a:b] for a, b in zip([0, *cuts], cuts, strict=False) if changes[a:b]]
    pulled(folder / "paged.sqlite", pages).close()
    pulled(folder / "single.sqlite", [[c] for c in changes]).close()
    written = contents(folder / "paged.sqlite")
    assert written == contents(folder / "single.sqlite")
    assert written["institutions"] == recounted(folder / "paged.sqlite")
