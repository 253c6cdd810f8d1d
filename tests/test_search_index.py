"""The in-memory search index: the same answers as scanning every row, for any word and any
change since it was built (local edits, pulled changes, another process, a big load)."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import threading
from datetime import date, timedelta
from pathlib import Path
from unittest.mock import patch

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cache import Store, search_index
from cache.search import Matcher, _grown, sparse, terms
from cache.search_index import Delta, SearchIndex, find_all
from tests.test_cache_fixtures import institution, open_loaded

# Few characters, so common characters and pairs (the bitsets) and rare ones (the positions)
# both occur; Chinese, pinyin letters, digits and a space between words.
ALPHABET = "培训学校长沙星辰蒋aixnueo0517-"
texts = st.text(alphabet=ALPHABET, max_size=24)
queries = st.text(alphabet=ALPHABET + "  ", min_size=1, max_size=8)
FEW = "培训ax"  # so long words are often nearly held: one character off


def scan(rows: dict[int, str], query: str) -> set[int]:
    """The brute-force answer: rows whose text holds every word of the query."""
    words = terms(query)
    return {r for r, text in rows.items() if all(w in text for w in words)}


def answer(index: SearchIndex, delta: Delta, query: str) -> set[int]:
    return set(np.flatnonzero(find_all(index, delta, terms(query))).tolist())


@settings(max_examples=300, deadline=None)
@given(st.lists(texts, min_size=1, max_size=60), st.lists(queries, min_size=1, max_size=6))
def test_the_index_answers_as_a_scan_of_every_row(rows: list[str], asked: list[str]) -> None:
    held = {n + 1: text for n, text in enumerate(rows)}
    index = SearchIndex(list(held.items()))
    for query in asked + [text[1:4] for text in rows[:5]] + [text for text in rows[:3]]:
        if terms(query):
            assert answer(index, Delta(), query) == scan(held, query), query


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.text(alphabet=FEW, max_size=30), min_size=1, max_size=60),
    st.lists(st.text(alphabet=FEW, min_size=1, max_size=14), min_size=1, max_size=8),
    st.sampled_from([(1, 2), (1, 4), (2, 4), (3, 3)]),
)
def test_a_sort_less_deep_than_the_words_answers_as_a_scan(
    rows: list[str], asked: list[str], sort: tuple[int, int]
) -> None:
    """Words longer than the sort's depth are checked beyond it, and a sort doubled pass by
    pass (from `first` characters to `depth`) orders the suffixes as one pass would."""
    first, depth = sort
    held = {n + 1: text for n, text in enumerate(rows)}
    with patch.object(search_index, "FIRST", first), patch.object(search_index, "DEPTH", depth):
        index = SearchIndex(list(held.items()))
    assert index.depth == depth
    padded = index.text.tolist() + [0] * depth  # (past the end reads as separators)
    order = [padded[p : p + depth] for p in index.order.tolist()]
    assert order == sorted(order)
    for query in asked + [text[1:13] for text in rows[:5]] + rows[:3]:
        if terms(query):
            assert answer(index, Delta(), query) == scan(held, query), query


def test_the_index_is_one_suffix_array_of_the_texts() -> None:
    index = SearchIndex([(1, "ab"), (2, "ba")])
    text = "ab\x00ba\x00"
    suffixes = [text[p:] for p in index.order.tolist()]
    assert suffixes == sorted(suffixes) and len(suffixes) == len(text)
    assert index.rows_in_order.tolist() == [1 if p < 3 else 2 for p in index.order.tolist()]


@settings(max_examples=200, deadline=None)
@given(
    st.lists(texts, min_size=1, max_size=40),
    st.dictionaries(st.integers(1, 50), st.one_of(st.none(), texts), max_size=12),
    st.lists(queries, min_size=1, max_size=6),
)
def test_rows_changed_since_the_build_are_answered_from_their_new_text(
    rows: list[str], changes: dict[int, str | None], asked: list[str]
) -> None:
    held = {n + 1: text for n, text in enumerate(rows)}
    index = SearchIndex(list(held.items()))
    delta = _grown(index, Delta(), changes)
    now = {**held, **{r: t for r, t in changes.items() if t is not None}}
    now = {r: t for r, t in now.items() if changes.get(r, "") is not None}
    for query in asked + [t[:3] for t in changes.values() if t]:
        if terms(query):
            assert answer(index, delta, query) == scan(now, query), query


def test_an_empty_cache_and_words_it_has_never_seen() -> None:
    empty = SearchIndex([])
    assert answer(empty, Delta(), "培训") == set()
    index = SearchIndex([(1, "培训"), (3, "沙")])
    assert answer(index, Delta(), "龙") == set()
    assert answer(index, Delta(), "培训 沙") == set()
    assert answer(index, Delta(), "训") == {1}


def keys(store: Store) -> dict[int, str]:
    with store._read() as conn:
        return {r[0]: r[1] for r in conn.execute("SELECT rowid, keys FROM search_keys")}


def listed(store: Store, query: str) -> set[int]:
    """The rowids the list shows for a query (every page), checked against its count."""
    rows = store.assignments(query, sort="name", limit=100_000)
    assert store.count_assignments(query) == len(rows)
    with store._read() as conn:
        ids = {r[0]: r[1] for r in conn.execute("SELECT id, rowid FROM institutions")}
    return {ids[r.id] for r in rows}


def many(count: int, name: str = "育才") -> list[dict[str, object]]:
    base = institution(3)
    return [
        {
            **base,
            "id": f"JG430702{n:04d}",
            "name": f"常德{name}培训{n}",
            "pinyin": f"changde{name}{n}",
            "initials": f"cd{n}",
            "contact_phone": f"1390736{n:04d}",
        }
        for n in range(1000, 1000 + count)
    ]


WORDS = [
    "培训",
    "育才",
    "changde",
    "cd1",
    "1390736",
    "常德育才培训19",
    "欧阳",
    "ouyang",
    "王",
    "lh",
]


def test_the_index_follows_edits_pulls_and_removals_without_being_built_again(
    tmp_path: Path,
) -> None:
    store = open_loaded(tmp_path / "cache.sqlite")
    store.bulk_load(many(300), [])
    store.warm_search()
    built = store._matcher._index
    assert built is not None and store._matcher.ready
    for word in WORDS:
        assert listed(store, word) == scan(keys(store), word), word
    store.set_contact("JG4307021001", contact_name="欧阳修", contact_phone="13711112222")
    renamed = {**many(1)[0], "id": "JG4307021002", "name": "湘潭黑白围棋", "pinyin": "ouyang"}
    store.apply_changes(
        [
            {"seq": 1, "kind": "institution", "id": renamed["id"], "data": renamed},
            {"seq": 2, "kind": "unassigned", "id": "JG4307021003", "data": {}},
        ],
        cursor=2,
    )
    new = {**many(1)[0], "id": "JG4307029999", "name": "新来的欧阳培训", "pinyin": "xinlai"}
    store.apply_changes([{"seq": 3, "kind": "institution", "id": new["id"], "data": new}], 3)
    assert listed(store, "欧阳修") == {rowid_of(store, "JG4307021001")}
    assert listed(store, "黑白") == {rowid_of(store, "JG4307021002")}
    assert listed(store, "常德育才培训1002") == set()  # its old name is gone
    assert listed(store, "常德育才培训1003") == set()  # unassigned
    assert listed(store, "新来的") == {rowid_of(store, "JG4307029999")}
    for word in WORDS + ["黑白", "1111", "xinlai", "欧阳 培训"]:
        assert listed(store, word) == scan(keys(store), word), word
    assert store.count_assignments("") == len(keys(store)) == 8 + 300 - 1 + 1
    assert store._matcher._index is built  # followed, not rebuilt
    store.close()


def rowid_of(store: Store, inst_id: str) -> int:
    with store._read() as conn:
        return int(
            conn.execute("SELECT rowid FROM institutions WHERE id = ?", (inst_id,)).fetchone()[0]
        )


def test_a_big_load_makes_the_index_build_again_and_another_process_is_followed(
    tmp_path: Path,
) -> None:
    path = tmp_path / "shared.sqlite"
    first = open_loaded(path)
    first.warm_search()
    built = first._matcher._index
    second = Store.open(path)
    try:
        second.set_contact(institution(7)["id"], contact_name="欧阳修")
        assert listed(first, "欧阳修") == {rowid_of(first, institution(7)["id"])}
        assert first._matcher._index is built
        second.bulk_load(many(300, name="明德"), [])  # another process's big load
        assert listed(first, "明德培训") == scan(keys(first), "明德培训")
        assert len(listed(first, "明德培训")) == 300
        assert first._matcher._index is not built  # built again after the reset mark
        first.bulk_load(many(300, name="树人"), [])  # and this process's own
        assert listed(first, "明德") == set() and len(listed(first, "树人培训")) == 300
    finally:
        first.close()
        second.close()


def test_the_page_in_list_order_whether_the_matches_are_few_or_many(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "page.sqlite")
    store.bulk_load(many(1900), [])  # more matches than sparse(1,900) = 194 ... and fewer
    store.set_step("JG4307021500", "registered", "blocked", by="T1", reason="缺材料")
    store.apply_changes(follow_ups([1003, 1150, 1151, 1502, 1777, 1999], [1004, 1152]), cursor=1)
    everything = store.assignments("", limit=100_000)
    assert everything[0].id == "JG4307021003"  # the longest overdue first
    assert sparse(1900) == 194  # 10 and 100 matches: their rowids; 1,000 and 1,900: a mask
    for word, expected in (("培训", 1900), ("培训1", 1000), ("培训15", 100), ("培训150", 10)):
        held = keys(store)
        rowids = {rowid_of(store, r.id): r.id for r in everything}
        wanted = [r.id for r in everything if word in held[rowid_of(store, r.id)]]
        assert len(wanted) == expected and set(rowids.values()) >= set(wanted)
        for offset in (0, 60, expected - 10):
            page = store.assignments(word, limit=60, offset=offset)
            assert [r.id for r in page] == wanted[offset : offset + 60], (word, offset)
        assert store.count_assignments(word) == expected
        assert store.count_assignments(word, filter="blocked") == int("JG4307021500" in wanted)
        for filter in ("not_started", "blocked"):  # walked, and not
            ids = [r.id for r in store.assignments(word, filter=filter, limit=100_000)]
            alone = [r.id for r in store.assignments("", filter=filter, limit=100_000)]
            assert ids == [i for i in alone if i in wanted], (word, filter)
    page = [r.id for r in store.assignments("培训")]  # as without a search: overdue, then blocked
    assert page[0] == "JG4307021003" and page[6] == "JG4307021500"
    store.close()


def follow_ups(overdue: list[int], ahead: list[int]) -> list[dict[str, object]]:
    """Pulled visits setting follow-ups: overdue ones (the first longest overdue), later ones."""
    today = date.today()
    dates = [(n, today - timedelta(days=30 - k)) for k, n in enumerate(overdue)]
    dates += [(n, today + timedelta(days=5 + k)) for k, n in enumerate(ahead)]
    return [
        {
            "seq": k + 1,
            "kind": "visit",
            "id": f"v{n}",
            "data": {
                "visit_id": f"v{n}",
                "institution_id": f"JG430702{n:04d}",
                "technician_id": "T1",
                "kind": "guidance",
                "started_at": (on - timedelta(days=30)).isoformat() + "T09:00",
                "next_visit_on": on.isoformat(),
            },
        }
        for k, (n, on) in enumerate(dates)
    ]


def test_a_keystroke_reads_the_log_and_nothing_else_once_built(tmp_path: Path) -> None:
    store = open_loaded(tmp_path / "cache.sqlite")
    store.warm_search()
    statements: list[str] = []
    store._conn.set_trace_callback(statements.append)
    Matcher.match(store._matcher, "长沙")
    store._conn.set_trace_callback(None)
    assert statements and all("search_changes" in s for s in statements), statements
    store.close()


def test_the_log_is_kept_by_the_file_itself(tmp_path: Path) -> None:
    store = open_loaded(tmp_path / "cache.sqlite")
    store.set_contact(institution(2)["id"], contact_name="欧阳修")
    store.close()
    conn = sqlite3.connect(tmp_path / "cache.sqlite")
    logged = [r[0] for r in conn.execute("SELECT row FROM search_changes ORDER BY seq")]
    conn.close()
    assert logged[-1] != -1 and len(logged) >= 2


def test_opening_the_cache_does_not_load_numpy() -> None:
    """numpy (~0.1 s to import) is loaded by the index's build in a worker, never at start."""
    code = "import sys, cache, cache.store, cache.search; print('numpy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def pulled(insts: list[dict[str, object]], first: int = 1) -> list[dict[str, object]]:
    return [
        {"seq": first + n, "kind": "institution", "id": i["id"], "data": i}
        for n, i in enumerate(insts)
    ]


def test_a_big_pulled_page_or_many_small_ones_build_the_index_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = open_loaded(tmp_path / "cache.sqlite")
    store.warm_search()
    built = store._matcher._index
    store.apply_changes(pulled(many(250)), cursor=250)  # a big page: marks the log reset
    assert len(listed(store, "育才培训")) == 250
    assert store._matcher._index is not built
    rebuilt = store._matcher._index
    monkeypatch.setattr("cache.search.REBUILD_AFTER", 5)
    for n, inst in enumerate(many(8, name="明德")):
        store.apply_changes(pulled([inst], 300 + n), cursor=300 + n)  # small pages, one by one
        assert listed(store, "明德") == scan(keys(store), "明德")
    assert store._matcher._index is not rebuilt  # past 5 changed rows: built again
    assert listed(store, "育才") == scan(keys(store), "育才") and len(listed(store, "明德")) == 8
    store.close()


def test_a_search_while_the_index_is_being_built_does_not_wait_for_it(tmp_path: Path) -> None:
    """Right after start the app builds the index in a worker; a word typed then is answered
    by SQLite reading every row, the same answer, without waiting for the build."""
    store = Store.open(tmp_path / "cache.sqlite")
    store.bulk_load(many(1900), [])
    held = keys(store)
    building, done = threading.Event(), threading.Event()

    def warm_up() -> None:  # holds the build's lock, as the warm-up worker does while it builds
        with store._matcher._building:
            building.set()
            done.wait(10)

    worker = threading.Thread(target=warm_up, daemon=True)
    worker.start()
    assert building.wait(10)
    try:
        for word in ("培训", "培训1", "培训15", "培训150", "cd19 1390736", "不存在"):
            assert listed(store, word) == scan(held, word), word
        assert not store._matcher.ready  # answered without waiting for a build
    finally:
        done.set()
        worker.join(10)
    assert listed(store, "培训19") == scan(held, "培训19") and store._matcher.ready
    store.close()
