"""The search index kept on disk beside the cache: a start maps it instead of building it, and a
file that no longer tells the truth (changes made by another process while the app was closed,
a big load, an older build, a file cut short or damaged, one from another cache) is never
believed: the answers stay those of scanning every row, and the file is written anew."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cache import Store, schema, search, search_file
from tests.test_cache_fixtures import institution, open_loaded
from tests.test_cache_migrations import build_at
from tests.test_search_index import WORDS, keys, listed, many, pulled, scan

ROOT = Path(__file__).resolve().parents[1]


def index_file(store: Store) -> Path:
    return search.index_path(store.path)


def from_file(store: Store) -> bool:
    """Whether the store's index is the one read from its file (not built in this process)."""
    index = store._matcher._index
    return index is not None and index.file_bytes is not None


def answers_as_a_scan(store: Store, words: list[str] = WORDS) -> None:
    held = keys(store)
    for word in words:
        assert listed(store, word) == scan(held, word), word


def log_rows(path: Path) -> list[int]:
    conn = sqlite3.connect(path)
    try:
        return [r[0] for r in conn.execute("SELECT row FROM search_changes ORDER BY seq")]
    finally:
        conn.close()


def in_another_process(path: Path, code: str) -> None:
    """Run `code` with `store` open on the cache at `path`, in a process of its own."""
    script = (
        "import sys; from pathlib import Path; from cache import Store\n"
        "from tests.test_search_index import many, pulled\n"
        f"store = Store.open(Path({str(path)!r}))\n{code}\nstore.close()\n"
    )
    subprocess.run([sys.executable, "-c", script], cwd=ROOT, check=True, timeout=60)


@pytest.fixture
def kept(tmp_path: Path) -> Path:
    """A cache whose index was built and kept, then closed (as the app leaves it)."""
    path = tmp_path / "cache.sqlite"
    store = open_loaded(path)
    store.bulk_load(many(300), [])
    store.warm_search()
    assert index_file(store).exists() and not from_file(store)
    store.close()
    return path


def test_a_start_maps_the_kept_index_instead_of_building_it(kept: Path) -> None:
    store = Store.open(kept)
    store.warm_search()
    assert from_file(store) and store._matcher.ready
    answers_as_a_scan(store, WORDS + ["育才培训12", "cd10"])
    store.set_contact(institution(2)["id"], contact_name="欧阳修")  # followed on top of it
    assert listed(store, "欧阳修") == {r for r, t in keys(store).items() if "欧阳修" in t}
    assert from_file(store)
    store.close()


def test_changes_pulled_by_another_process_while_the_app_was_closed(kept: Path) -> None:
    renamed = [{**i, "name": "湘潭" + str(i["name"]), "pinyin": "xiangtan"} for i in many(20)]
    in_another_process(kept, f"store.apply_changes(pulled({renamed!r}), cursor=20)")
    store = Store.open(kept)
    store.warm_search()
    assert from_file(store)  # the file, and the 20 changes since it from the log
    answers_as_a_scan(store, WORDS + ["湘潭", "xiangtan", "湘潭常德育才培训1005"])
    assert len(listed(store, "湘潭常德育才")) == 20
    store.close()


def test_a_big_load_by_another_process_makes_the_file_stale(kept: Path) -> None:
    in_another_process(kept, "store.bulk_load(many(300, name='明德'), [])")
    store = Store.open(kept)
    store.warm_search()
    assert not from_file(store)  # built again: the log said every row may have changed
    answers_as_a_scan(store, WORDS + ["明德", "育才"])
    assert len(listed(store, "明德培训")) == 300 and listed(store, "育才培训") == set()
    store.close()
    again = Store.open(kept)
    again.warm_search()
    assert from_file(again)  # and the new one was kept
    assert len(listed(again, "明德培训")) == 300
    again.close()


def damage_cut(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def damage_flip(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[-100] ^= 0x40  # one bit of the arrays
    path.write_bytes(bytes(data))


def damage_garbage(path: Path) -> None:
    path.write_bytes(b"\x00" * 10 + b"not an index" * 100)


def damage_empty(path: Path) -> None:
    path.write_bytes(b"")


def damage_older_build(path: Path) -> None:
    data, now = path.read_bytes(), f'"format": {search_file.FORMAT}'.encode()
    assert now in data and search_file.FORMAT > 1
    path.write_bytes(data.replace(now, b'"format": 1', 1))  # (1: the pair-grouped layout)


def damage_delete(path: Path) -> None:
    path.unlink()


@pytest.mark.parametrize(
    "damage",
    [damage_cut, damage_flip, damage_garbage, damage_empty, damage_older_build, damage_delete],
)
def test_a_file_that_is_not_whole_or_not_current_is_built_again(kept: Path, damage) -> None:  # type: ignore[no-untyped-def]
    damage(search.index_path(kept))
    store = Store.open(kept)
    store.warm_search()
    assert not from_file(store) and store._matcher.ready
    answers_as_a_scan(store, WORDS + ["育才培训12"])
    store.close()
    again = Store.open(kept)
    again.warm_search()
    assert from_file(again)  # written anew
    again.close()


def test_the_file_of_another_cache_or_of_an_older_copy_is_not_believed(
    kept: Path, tmp_path: Path
) -> None:
    other = tmp_path / "other.sqlite"
    store = open_loaded(other)
    store.warm_search()
    store.close()
    backup = tmp_path / "backup.sqlite"
    shutil.copy(kept, backup)  # the cache as it was, with its kept index's token
    shutil.copy(search.index_path(other), search.index_path(kept))  # another cache's file
    mine = Store.open(kept)
    mine.warm_search()
    assert not from_file(mine)
    answers_as_a_scan(mine, WORDS + ["育才"])
    mine.bulk_load(many(40, name="树人"), [])  # the cache moves on; its new index is kept
    mine.warm_search()
    mine.close()
    shutil.copy(search.index_path(kept), search.index_path(backup))  # newer file, older cache
    old = Store.open(backup)
    old.warm_search()
    assert not from_file(old)  # the older copy never held that file's token
    assert listed(old, "树人") == set() and len(listed(old, "育才培训")) == 300
    old.close()


def test_an_empty_cache_keeps_its_index_too(tmp_path: Path) -> None:
    """The first run opens the list before its first sync has brought anything."""
    path = tmp_path / "cache.sqlite"
    store = Store.open(path)
    store.search_in_background()
    store.warm_search()
    assert store._matcher.ready and store.count_assignments("培训") == 0
    store.close()
    again = Store.open(path)
    again.warm_search()
    assert from_file(again) and again.count_assignments("培训") == 0
    again.bulk_load(many(30), [])  # the first sync
    assert len(listed(again, "育才培训")) == 30
    again.close()


def test_a_folder_that_cannot_hold_the_file_leaves_the_index_in_memory(tmp_path: Path) -> None:
    path = tmp_path / "cache.sqlite"
    store = open_loaded(path)
    search.index_path(path).mkdir()  # in the way: the file cannot be written
    store.warm_search()
    assert store._matcher.ready
    answers_as_a_scan(store)
    assert store.get_meta(search.TOKEN_KEY) is None
    store.close()


def test_the_log_is_emptied_of_what_the_kept_index_holds(kept: Path) -> None:
    store = Store.open(kept)
    store.warm_search()
    first = len(log_rows(kept))
    assert first == 1  # emptied up to the kept index's last change
    for n in range(5):
        store.set_contact(many(300)[n]["id"], contact_name=f"王{n}")
    assert len(log_rows(kept)) == 1 + 5
    store.close()


def test_another_process_behind_an_emptied_log_builds_again(
    kept: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    reading = Store.open(kept)
    reading.warm_search()
    assert from_file(reading)
    monkeypatch.setattr("cache.search.REWRITE_AFTER", 3)
    writing = Store.open(kept)
    writing.warm_search()
    for n in range(6):
        writing.set_contact(many(300)[n]["id"], contact_name=f"欧阳{n}")
    writing.warm_search()  # many rows changed since the file: built, kept, the log emptied
    writing.set_contact(many(300)[9]["id"], contact_name="欧阳9")
    assert len(log_rows(kept)) < 6
    assert listed(reading, "欧阳") == scan(keys(reading), "欧阳")  # changes it never saw: built
    assert len(listed(reading, "欧阳")) == 7 and not from_file(reading)
    reading.close()
    writing.close()


def test_the_log_is_bounded_where_no_index_empties_it(tmp_path: Path) -> None:
    path = tmp_path / "cache.sqlite"
    Store.open(path).close()
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("BEGIN")
    conn.executemany(
        "INSERT INTO search_changes (row) VALUES (?)",
        [(n,) for n in range(search.LOG_BOUND + 2000)],
    )
    conn.execute("COMMIT")
    rows = [r[0] for r in conn.execute("SELECT row FROM search_changes ORDER BY seq")]
    conn.close()
    assert len(rows) <= 1001 + 1 and rows[0] == search.RESET  # a reset mark, then what came after


def test_a_cache_of_any_older_schema_loses_the_trigram_index(tmp_path: Path) -> None:
    for k in range(3, len(schema.KNOWN)):  # 0003 made it
        path = tmp_path / f"at{k}.sqlite"
        build_at(path, k)
        store = Store.open(path)
        with store._read() as conn:
            names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
        assert not {n for n in names if n.startswith("search_fts")}, k
        assert {"search_keys", "search_changes", "search_changes_bound"} <= names, k
        answers_as_a_scan(store, ["培训", "changsha", "王"])
        store.set_contact(institution(1)["id"], contact_name="欧阳修")
        assert store.count_assignments("欧阳修") == 1
        store.close()


def test_in_the_app_a_search_before_the_index_never_waits_for_it(kept: Path) -> None:
    store = Store.open(kept)
    store.search_in_background()
    held = keys(store)
    hold = threading.Event()
    release = threading.Event()

    def busy() -> None:  # the index's file being read or built elsewhere
        with store._matcher._building:
            hold.set()
            release.wait(10)

    worker = threading.Thread(target=busy)
    worker.start()
    assert hold.wait(10)
    try:
        assert listed(store, "育才培训12") == scan(held, "育才培训12")  # SQLite answers
        other = Store.open(kept)  # another process changes a row meanwhile: not remembered
        other.set_contact(many(300)[3]["id"], contact_name="育才培训12号楼")
        other.close()
        assert (
            listed(store, "育才培训12")
            == scan(keys(store), "育才培训12")
            != scan(held, "育才培训12")
        )
        assert not store._matcher.ready
    finally:
        release.set()
        worker.join(10)
    listed(store, "育才")  # nothing loading now: a thread of its own loads the file
    builder = store._matcher._builder
    assert builder is not None
    builder.join(10)
    assert from_file(store) and listed(store, "育才") == scan(keys(store), "育才")
    store.close()


def test_in_the_app_the_index_is_built_by_a_process_of_its_own(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A build in the app's process would hold the interpreter's lock while keys are typed."""
    monkeypatch.setattr("cache.search.ELSEWHERE_FROM", 100)  # (7,750 rows and more, really)
    path = tmp_path / "cache.sqlite"
    store = open_loaded(path)
    store.bulk_load(many(300), [])
    store.search_in_background()
    held = keys(store)
    assert listed(store, "育才培训12") == scan(held, "育才培训12")  # SQLite, meanwhile
    builder = store._matcher._builder
    assert builder is not None
    builder.join(60)
    assert store._matcher.ready and from_file(store)  # read from the file the process wrote
    assert store.get_meta(search.TOKEN_KEY) and store.get_meta("search_index") is None
    answers_as_a_scan(store, WORDS + ["育才培训12"])
    store.set_contact(institution(2)["id"], contact_name="欧阳修")
    assert len(listed(store, "欧阳修")) == 1
    store.close()


def test_where_that_process_cannot_build_the_app_builds_the_index_itself(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("cache.search.ELSEWHERE_FROM", 1)
    monkeypatch.setattr("cache.search.sys.executable", str(tmp_path / "no-python"))
    store = open_loaded(tmp_path / "cache.sqlite")
    store.search_in_background()
    store.warm_search()
    assert store._matcher.ready and not from_file(store)
    answers_as_a_scan(store)
    store.close()


OPS = st.lists(
    st.one_of(
        st.tuples(st.just("edit"), st.integers(0, 29), st.sampled_from(["欧阳", "王伟", "蒋"])),
        st.tuples(st.just("pull"), st.integers(0, 29), st.sampled_from(["明德", "树人"])),
        st.tuples(st.just("big"), st.integers(0, 0), st.sampled_from(["明德", "育才"])),
        st.tuples(st.just("warm"), st.integers(0, 1), st.just("")),
        st.tuples(st.just("reopen"), st.integers(0, 1), st.just("")),
        st.tuples(st.just("damage"), st.integers(0, 2), st.just("")),
    ),
    min_size=1,
    max_size=12,
)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(OPS)
def test_two_processes_and_a_kept_file_always_answer_as_a_scan(
    tmp_path_factory: pytest.TempPathFactory, ops: list[tuple[str, int, str]]
) -> None:
    path = tmp_path_factory.mktemp("kept") / "cache.sqlite"
    base = many(30)
    stores = [Store.open(path), Store.open(path)]
    stores[0].bulk_load(base, [])
    stores[0].warm_search()
    seq = 0
    try:
        for op, n, word in ops:
            if op == "edit":
                stores[n % 2].set_contact(base[n]["id"], contact_name=word)
            elif op == "pull":
                seq += 1
                inst = {**base[n], "name": word + str(n), "pinyin": "p" + str(n)}
                stores[1 - n % 2].apply_changes(pulled([inst], seq), cursor=seq)
            elif op == "big":
                stores[1].bulk_load(many(30, name=word), [])
            elif op == "warm":
                stores[n].warm_search()
            elif op == "reopen":
                stores[n].close()
                stores[n] = Store.open(path)
            else:
                file = search.index_path(path)
                if file.exists():
                    [damage_cut, damage_flip, damage_delete][n](file)
            for store in stores:
                answers_as_a_scan(store, ["欧阳", "王伟", "明德", "树人", "育才", "p1", "培训"])
    finally:
        for store in stores:
            store.close()
