"""Search over name (any length), shipped pinyin and initials, credit code, address and contact."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from cache import Store
from tests.test_cache_fixtures import institution, open_loaded


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = open_loaded(tmp_path / "cache.sqlite")
    yield s
    s.close()


def found(store: Store, query: str, filter: str = "all") -> list[int]:
    """Fixture numbers the search lists (checked against its count)."""
    rows = store.assignments(query=query, filter=filter, sort="county", limit=1000)
    assert store.count_assignments(query=query, filter=filter) == len(rows)
    return sorted(int(r.id[-4:]) for r in rows)


@pytest.mark.parametrize(
    "query, expected",
    [
        ("星", [1, 3]),  # one character
        ("书", [2, 7]),
        ("长沙", [1, 2]),  # two characters
        ("星辰", [1]),
        ("星辰教", [1]),  # three and more
        ("长沙星辰教育", [1]),
        ("小天鹅舞蹈", [5]),
        ("舞", [5]),
        ("不存在的机构", []),
        ("蹈x", []),
    ],
)
def test_chinese_names_of_any_length(store: Store, query: str, expected: list[int]) -> None:
    assert found(store, query) == expected


@pytest.mark.parametrize(
    "query, expected",
    [
        ("xingchen", [1]),  # full pinyin, from the middle of the name
        ("changsha", [1, 2]),
        ("XingChen", [1]),  # case does not matter
        ("csxcjy", [1]),  # initials
        ("csx", [1]),
        ("cs", [1, 2]),  # two letters
        ("wq", [8]),
        ("dcxtewd", [5]),
    ],
)
def test_pinyin_full_and_initials(store: Store, query: str, expected: list[int]) -> None:
    assert found(store, query) == expected


def test_credit_code_prefix_and_whole(store: Store) -> None:
    code = institution(6)["uscc"]
    assert found(store, code) == [6]
    assert found(store, code[:12]) == [6]
    assert found(store, code.lower()) == [6]
    assert found(store, "52430702") == [3, 4]


@pytest.mark.parametrize(
    "query, expected",
    [
        ("人民路", [3]),  # address
        ("武陵区", [3, 4]),
        ("王伟", [1]),  # contact name (two characters)
        ("李", [2]),
        ("13807310001", [1]),  # contact phone, whole and in part
        ("0007", [7]),
        ("0736", [3, 4, 5]),
    ],
)
def test_address_and_contact(store: Store, query: str, expected: list[int]) -> None:
    assert found(store, query) == expected


def test_several_words_must_all_match(store: Store) -> None:
    assert found(store, "长沙 书法") == [2]
    assert found(store, "武陵\u3000qh") == [4]
    assert found(store, "cs 星") == [1]
    assert found(store, "  ") == list(range(1, 9))


@pytest.mark.parametrize("query", ['"', '"星辰', "%", "_", "a'b", "星*", "NEAR(", "AND", "OR x"])
def test_odd_characters_are_searched_for_literally(store: Store, query: str) -> None:
    assert found(store, query) == []


def test_search_uses_the_shipped_pinyin_and_never_computes_it(store: Store) -> None:
    odd = {
        **institution(1),
        "id": "JG4301029001",
        "name": "测试机构",
        "pinyin": "shippedkey",
        "initials": "qq",
    }
    store.bulk_load([odd], [])
    assert found(store, "shippedkey") == [9001]
    assert found(store, "ceshi") == []  # the name's real pinyin was not shipped
    assert found(store, "qq") == [9001]


def test_search_follows_local_edits_and_pulled_changes(store: Store) -> None:
    store.set_contact(institution(7)["id"], contact_name="欧阳修", contact_phone="13711112222")
    assert found(store, "欧阳修") == [7]
    assert found(store, "1111222") == [7]
    assert found(store, "黄丽") == []
    renamed = {
        **institution(8),
        "name": "湘潭黑白围棋",
        "pinyin": "xiangtanheibaiweiqi",
        "initials": "xthbwq",
    }
    store.apply_changes(
        [{"seq": 1, "kind": "institution", "id": renamed["id"], "data": renamed}], cursor=1
    )
    assert found(store, "黑白") == [8] and found(store, "heibai") == [8]
    assert found(store, "弈道") == [] and found(store, "xtydwq") == []
    store.apply_changes(
        [{"seq": 2, "kind": "unassigned", "id": renamed["id"], "data": {}}], cursor=2
    )
    assert found(store, "黑白") == [] and found(store, "围棋") == []


def test_search_combines_with_filters_and_paging(store: Store) -> None:
    store.set_step(institution(1)["id"], "registered", "done", by="T1")
    assert found(store, "长沙", filter="in_progress") == [1]
    assert found(store, "长沙", filter="not_started") == [2]
    assert store.count_assignments("长沙", filter="not_started") == 1
    first = store.assignments("长沙", sort="name", limit=1)
    second = store.assignments("长沙", sort="name", limit=1, offset=1)
    assert {first[0].id, second[0].id} == {institution(1)["id"], institution(2)["id"]}


def many(count: int, name: str = "育才") -> list[dict[str, object]]:
    """`count` institutions in 430702 named 常德{name}培训{n}."""
    base = institution(3)
    return [
        {
            **base,
            "id": f"JG430702{n:04d}",
            "name": f"常德{name}培训{n}",
            "pinyin": f"changde{n}",
            "initials": f"cd{n}",
            "contact_phone": f"1390736{n:04d}",
        }
        for n in range(1000, 1000 + count)
    ]


def test_a_big_load_is_searchable_at_once_and_its_mark_cleared_once_indexed(
    tmp_path: Path,
) -> None:
    with Store.open(tmp_path / "big.sqlite") as s:
        s.bulk_load(many(300), [])
        assert s.get_meta("search_index") == "stale"
        assert s.count_assignments("育") == 300  # short words never wait for the index
        assert s.count_assignments("培训1299") == 1  # nor long ones: the in-memory index answers
        s.warm_search()  # the index taking the load in is kept: the load's mark cleared
        assert s.get_meta("search_index") is None
        assert s.count_assignments("培训1299") == 1
        s.bulk_load(many(300, name="明德"), [])  # the same ids, renamed
        assert s.count_assignments("育才") == 0 and s.count_assignments("明德培训") == 300
        s.set_contact("JG4307021000", contact_name="欧阳修")
        assert s.count_assignments("欧阳修") == 1 and s.count_assignments("欧阳") == 1


def test_a_big_pulled_page_is_searchable(tmp_path: Path) -> None:
    with Store.open(tmp_path / "pull.sqlite") as s:
        changes = [
            {"seq": n, "kind": "institution", "id": inst["id"], "data": inst}
            for n, inst in enumerate(many(250), 1)
        ]
        s.apply_changes(changes, cursor=250)
        assert s.count_assignments("cd1249") == 1 and s.count_assignments("育才培训") == 250
        assert s.count_assignments("才") == 250


def test_another_process_changing_the_file_is_seen_by_short_searches(tmp_path: Path) -> None:
    path = tmp_path / "shared.sqlite"
    first = open_loaded(path)
    second = Store.open(path)
    try:
        assert found(first, "欧阳") == []
        second.set_contact(institution(7)["id"], contact_name="欧阳修")
        assert found(first, "欧阳") == [7]
        assert found(first, "欧阳修") == [7]
    finally:
        first.close()
        second.close()


def test_search_works_while_another_writer_holds_the_file(tmp_path: Path) -> None:
    path = tmp_path / "held.sqlite"
    with Store.open(path) as s:
        s.bulk_load(many(300), [])
    s = Store.open(path, timeout=0.1)
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        assert s.count_assignments("育才培训12") == 100  # the in-memory index answers
        assert s.get_meta("search_index") == "stale"
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert s.count_assignments("育才培训129") == 10
    assert s.get_meta("search_index") == "stale"  # a search never rebuilds it
    s.close()
