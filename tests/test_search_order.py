"""The list's order held in memory (cache.search_order): the page it picks is the page SQLite
sorts, row for row, for any matches, offset and day, and it is never used once the cache has
changed (this connection's write, another process's, a big load) until it is read again."""

from __future__ import annotations

import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from unittest.mock import patch

from hypothesis import given, settings
from hypothesis import strategies as st

from cache import Store, queries, search_order
from cache.search import Matcher
from fieldkit import domain
from tests.test_cache_fixtures import institution, steps_for

TODAY = date(2026, 12, 1)
WORDS = ("培训", "长沙", "学", "a", "星辰", "zz", "1")


def inst(n: int, name: str, pinyin: str) -> dict[str, Any]:
    return {**institution(1 + n % 5), "id": f"JG4301{n:06d}", "name": name, "pinyin": pinyin}


def visit(seq: int, inst_id: str, next_on: date | None) -> dict[str, Any]:
    return {
        "seq": seq,
        "kind": "visit",
        "id": f"v{seq}",
        "data": {
            "visit_id": f"v{seq}",
            "institution_id": inst_id,
            "technician_id": "T1",
            "kind": "guidance",
            "started_at": "2026-10-01T09:00",
            "next_visit_on": next_on.isoformat() if next_on else None,
        },
    }


Row = tuple[str, str, int, bool, int | None]  # name, pinyin, steps done, blocked, follow-up in days
rows_strategy = st.lists(
    st.tuples(
        st.text(alphabet="培训长沙学星辰", min_size=1, max_size=6),
        st.text(alphabet="az1", min_size=1, max_size=4),  # (ties in pinyin: then by id)
        st.integers(0, 3),
        st.booleans(),
        st.one_of(st.none(), st.integers(-3, 3)),
    ),
    min_size=1,
    max_size=40,
)


def loaded(path: Path, rows: list[Row]) -> Store:
    """The cache of these rows opened as the app does (the order read into memory). SQLite's
    own page is asked of the same store (`sorted_by_sqlite`): a second Store on the file in
    this process would cancel the first one's locks when it checks the file's header (a
    Python open and close of the file; SQLite's "how to corrupt" 2.2)."""
    insts = [inst(n, name, pinyin) for n, (name, pinyin, *_rest) in enumerate(rows)]
    steps: list[dict[str, Any]] = []
    for i, (_, _, done, blocked, _) in zip(insts, rows, strict=True):
        steps += steps_for(i["id"], done, domain.STEP_KEYS[done] if blocked else None)
    app = Store.open(path)
    app.bulk_load(insts, steps)
    visits = [
        visit(n + 1, i["id"], TODAY + timedelta(days=r[4]))
        for n, (i, r) in enumerate(zip(insts, rows, strict=True))
        if r[4] is not None
    ]
    if visits:
        app.apply_changes(visits, cursor=1)
    app.search_in_background()
    app.warm_search()
    return app


def sorted_by_sqlite(store: Store, query: str, limit: int, offset: int, day: date) -> list[str]:
    matches = store._matcher.match(query)
    with store._read() as conn:
        page = queries.assignments(conn, matches, "all", "priority", limit, offset, day)
    return [r.id for r in page]


def from_order(store: Store, query: str, limit: int, offset: int, day: date) -> list[str] | None:
    matches = store._matcher.match(query)
    with store._read() as conn:
        page = store._matcher.page(conn, matches, "all", "priority", limit, offset, day)
    return None if page is None else [r.id for r in page]


@settings(max_examples=40, deadline=None)
@given(rows_strategy, st.lists(st.sampled_from(WORDS), min_size=1, max_size=3))
def test_the_page_from_the_order_is_the_page_sqlite_sorts(
    tmp_path_factory: Any, rows: list[Row], words: list[str]
) -> None:
    path = tmp_path_factory.mktemp("order") / "cache.sqlite"
    app = loaded(path, rows)
    for word in words:
        for day in (TODAY, TODAY + timedelta(days=2), TODAY - timedelta(days=5)):
            for limit, offset in ((60, 0), (3, 0), (3, 2), (5, 4), (60, 100)):
                picked = from_order(app, word, limit, offset, day)
                assert picked == sorted_by_sqlite(app, word, limit, offset, day), (word, day)
    app.close()


def test_many_matches_are_walked_in_order(tmp_path: Path) -> None:
    """More matches than are sorted by rank: the order is walked a stretch at a time."""
    rows: list[Row] = [
        (f"培训{n}", f"p{n % 97:02d}", n % 4, n % 11 == 0, (n % 7) - 3 if n % 5 == 0 else None)
        for n in range(search_order.SORT_BY_RANK_UP_TO + 900)
    ]
    app = loaded(tmp_path / "many.sqlite", rows)
    for stretch in (search_order.STRETCH, 100):  # one stretch, and pages across many
        with patch.object(search_order, "STRETCH", stretch):
            for limit, offset in ((60, 0), (60, 500), (60, 4900), (10, 1000), (60, 77), (7, 95)):
                picked = from_order(app, "培训", limit, offset, TODAY)
                assert picked is not None
                assert len(picked) == min(limit, max(0, len(rows) - offset))
                assert picked == sorted_by_sqlite(app, "培训", limit, offset, TODAY)
    app.close()


def test_a_change_is_never_answered_from_the_order_read_before_it(tmp_path: Path) -> None:
    rows: list[Row] = [(f"长沙培训{n}", f"c{n:02d}", 1, False, None) for n in range(30)]
    app = loaded(tmp_path / "cache.sqlite", rows)
    last = sorted_by_sqlite(app, "培训", 60, 0, TODAY)[-1]
    assert from_order(app, "培训", 60, 0, TODAY) == sorted_by_sqlite(app, "培训", 60, 0, TODAY)
    # This process blocks the last one: it comes first at once (SQLite answers meanwhile).
    app.set_step(last, domain.STEP_KEYS[1], domain.BLOCKED, by="T1", reason="缺材料")
    assert from_order(app, "培训", 60, 0, TODAY) is None
    assert [r.id for r in app.assignments("培训", limit=60, today=TODAY)][0] == last
    wait_for_order(app)
    assert from_order(app, "培训", 60, 0, TODAY) == sorted_by_sqlite(app, "培训", 60, 0, TODAY)
    # Another process gives another a follow-up already due: it leads the list.
    other = sorted_by_sqlite(app, "培训", 60, 0, TODAY)[-1]
    script = (
        "import sys; from pathlib import Path; from cache import Store; "
        "from tests.test_search_order import visit, TODAY; from datetime import timedelta; "
        "s = Store.open(Path(sys.argv[1])); "
        "s.apply_changes([visit(900, sys.argv[2], TODAY - timedelta(days=1))], cursor=900); "
        "s.close()"
    )
    subprocess.run([sys.executable, "-c", script, str(app.path), other], check=True)
    assert from_order(app, "培训", 60, 0, TODAY) is None
    assert [r.id for r in app.assignments("培训", limit=60, today=TODAY)][0] == other
    wait_for_order(app)
    assert from_order(app, "培训", 60, 0, TODAY) == sorted_by_sqlite(app, "培训", 60, 0, TODAY)
    assert from_order(app, "培训", 60, 0, TODAY)[0] == other  # type: ignore[index]
    # A rename (the index answers it from the row's new text) and a new institution.
    target = sorted_by_sqlite(app, "培训", 60, 0, TODAY)[3]
    renamed = {**inst(7, "星辰学堂", "xingchen"), "id": target}
    added = inst(999_999, "长沙星辰培训", "a")
    app.apply_changes(
        [
            {"seq": 901, "kind": "institution", "id": target, "data": renamed},
            {"seq": 902, "kind": "institution", "id": added["id"], "data": added},
        ],
        cursor=902,
    )
    assert from_order(app, "培训", 60, 0, TODAY) is None
    wait_for_order(app)
    for word in ("培训", "星辰", "星辰学堂"):
        assert from_order(app, word, 60, 0, TODAY) == sorted_by_sqlite(app, word, 60, 0, TODAY)
    assert from_order(app, "星辰学堂", 60, 0, TODAY) == [target]
    assert set(from_order(app, "星辰", 60, 0, TODAY) or ()) == {target, added["id"]}
    app.close()


def wait_for_order(store: Store, ordered: bool = True) -> None:
    thread = store._matcher._ordering  # (None: read by the warm-up itself)
    if thread is not None:
        thread.join(10)
    held = store._matcher._order
    assert held is not None and (held[1] is not None) == ordered


def test_follow_up_dates_that_do_not_sort_as_numbers_leave_every_page_to_sqlite(
    tmp_path: Path,
) -> None:
    rows: list[Row] = [(f"培训{n}", f"p{n}", 0, False, None) for n in range(5)]
    path = tmp_path / "cache.sqlite"
    app = loaded(path, rows)
    assert app._matcher._order is not None and app._matcher._order[1] is not None
    with app._tx() as conn:
        conn.execute("UPDATE institutions SET next_visit_on = '2026-1-5' WHERE rowid = 2")
    assert from_order(app, "培训", 60, 0, TODAY) is None  # (changed: read again)
    wait_for_order(app, ordered=False)
    ids = [r.id for r in app.assignments("培训", limit=60, today=TODAY)]
    assert ids == sorted_by_sqlite(app, "培训", 60, 0, TODAY) and len(ids) == 5
    before = app._matcher._ordering
    assert from_order(app, "培训", 60, 0, TODAY) is None
    assert app._matcher._ordering is before  # not read again until the next change
    app.close()


def test_the_command_line_and_the_discrepancy_filter_ask_sqlite(tmp_path: Path) -> None:
    rows: list[Row] = [(f"培训{n}", f"p{n}", 0, False, None) for n in range(5)]
    app = loaded(tmp_path / "cache.sqlite", rows)
    wait_for_order(app)
    matches = app._matcher.match("培训")
    with app._read() as conn:
        for sort in queries.SORTS:
            assert app._matcher.page(conn, matches, "discrepancy", sort, 60, 0, TODAY) is None
        assert app._matcher.count(conn, matches, "discrepancy", TODAY) is None
        line = Matcher(app._read, app._tx, None)  # (the command line's: no order read)
        for sort, filter in (("priority", "all"), ("name", "all"), ("priority", "blocked")):
            assert line.page(conn, matches, filter, sort, 60, 0, TODAY) is None
        assert line.count(conn, matches, "blocked", TODAY) is None
    assert from_order(app, "", 60, 0, TODAY) is None  # (no search: SQLite walks its index)
    app.close()


FILTERS = [f for f in queries.FILTERS if f != "discrepancy"]


def by_sqlite(
    store: Store, query: str, filter: str, sort: str, limit: int, offset: int, day: date
) -> tuple[list[str], int]:
    matches = store._matcher.match(query)
    with store._read() as conn:
        page = queries.assignments(conn, matches, filter, sort, limit, offset, day)
        return [r.id for r in page], queries.count_assignments(conn, matches, filter, day)


def by_order(
    store: Store, query: str, filter: str, sort: str, limit: int, offset: int, day: date
) -> tuple[list[str] | None, int | None]:
    matches = store._matcher.match(query)
    with store._read() as conn:
        page = store._matcher.page(conn, matches, filter, sort, limit, offset, day)
        count = store._matcher.count(conn, matches, filter, day)
    return (None if page is None else [r.id for r in page]), count


@settings(max_examples=30, deadline=None)
@given(
    rows_strategy,
    st.lists(st.sampled_from(("", *WORDS)), min_size=1, max_size=3),
    st.lists(
        st.tuples(st.sampled_from(FILTERS), st.sampled_from(list(queries.SORTS))),
        min_size=1,
        max_size=4,
    ),
)
def test_every_sort_and_filter_from_the_order_is_what_sqlite_answers(
    tmp_path_factory: Any, rows: list[Row], words: list[str], views: list[tuple[str, str]]
) -> None:
    """The name and county sorts and every filter but the discrepancy one (the platform's)
    are answered from the order held in memory, with or without a search, page for page and
    count for count as SQLite answers them."""
    app = loaded(tmp_path_factory.mktemp("views") / "cache.sqlite", rows)
    wait_for_order(app)
    for word in words:
        for filter, sort in views:
            if not word and (filter, sort) == ("all", "priority"):
                continue  # (SQLite walks its index for the whole default list)
            for day in (TODAY, TODAY - timedelta(days=5)):
                for limit, offset in ((60, 0), (3, 0), (3, 2), (60, 100)):
                    got = by_order(app, word, filter, sort, limit, offset, day)
                    assert got[0] is not None, (word, filter, sort)
                    want = by_sqlite(app, word, filter, sort, limit, offset, day)
                    assert got[0] == want[0], (word, filter, sort, day, limit, offset)
                    if filter != "all":
                        assert got[1] == want[1], (word, filter, day)
    app.close()


def test_the_other_sorts_follow_a_change_and_a_touched_institution(tmp_path: Path) -> None:
    """A step done here or a new institution pulled: the name sort and the filters are never
    answered from the order read before it, and once read again they show it."""
    rows: list[Row] = [(f"长沙培训{n}", f"c{n:02d}", 0, False, None) for n in range(12)]
    rows += [("长沙培训全", "c99", len(domain.STEP_KEYS), False, None)]  # (every step done)
    app = loaded(tmp_path / "cache.sqlite", rows)
    wait_for_order(app)
    assert by_order(app, "培训", "in_progress", "name", 60, 0, TODAY) == ([], 0)
    first = by_sqlite(app, "培训", "not_started", "name", 60, 0, TODAY)[0][0]
    assert (
        by_order(app, "培训", "not_started", "name", 60, 0, TODAY)[0]
        == by_sqlite(app, "培训", "not_started", "name", 60, 0, TODAY)[0]
    )
    app.set_step(first, domain.STEP_KEYS[0], domain.DONE, by="T1")
    assert by_order(app, "培训", "not_started", "name", 60, 0, TODAY) == (None, None)
    wait_for_order(app)
    page, count = by_order(app, "培训", "not_started", "name", 60, 0, TODAY)
    assert page is not None and first not in page and count == 11
    assert by_order(app, "培训", "in_progress", "county", 60, 0, TODAY)[0] == [first]
    added = inst(999_999, "长沙星辰培训", "a")  # (sorts first by name)
    app.apply_changes(
        [{"seq": 901, "kind": "institution", "id": added["id"], "data": added}], cursor=901
    )
    wait_for_order_again(app)
    assert (
        by_order(app, "培训", "all", "name", 3, 0, TODAY)[0]
        == by_sqlite(app, "培训", "all", "name", 3, 0, TODAY)[0]
    )
    assert by_order(app, "培训", "all", "name", 3, 0, TODAY)[0][0] == added["id"]  # type: ignore[index]
    app.close()


def wait_for_order_again(store: Store) -> None:
    """Ask once (the order is stale: SQLite answers and the order is read anew), then wait."""
    store.assignments("培训", sort="name", limit=1, today=TODAY)
    wait_for_order(store)
