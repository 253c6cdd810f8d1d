"""Migrations from an empty file and from each earlier schema; files that are not ours are left alone."""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from cache import CacheTooNew, CacheUnavailable, NotAFieldkitCache, Store, progress, schema
from fieldkit.domain import newer
from tests.test_cache_fixtures import institution

NAMES = schema.known_names()
I1, I2 = institution(1)["id"], institution(2)["id"]


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def siblings(path: Path) -> list[str]:
    return sorted(p.name for p in path.parent.iterdir() if p.name != path.name)


def tables(conn: sqlite3.Connection) -> set[str]:
    return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def build_at(path: Path, k: int) -> None:
    """A cache file with only the first k migrations applied, holding data of that schema.

    Rows are written with plain SQL as that older fieldkit would have left them.
    """
    conn = sqlite3.connect(path, isolation_level=None)
    schema.migrate(conn, stop_before=NAMES[k] if k < len(NAMES) else None)
    have = tables(conn)
    for n in (1, 2):
        inst = institution(n)
        conn.execute(
            "INSERT INTO institutions (id, name, uscc, division_code, address, "
            "contact_name, contact_phone, pinyin, initials, bank_status) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                inst["id"],
                inst["name"],
                inst["uscc"],
                inst["division_code"],
                inst["address"],
                inst["contact_name"],
                inst["contact_phone"],
                inst["pinyin"],
                inst["initials"],
                "passed",
            ),
        )
    conn.executemany(
        "INSERT INTO steps (institution_id, step, status, hlc, sync_state) VALUES (?, ?, ?, ?, ?)",
        [
            (I1, "registered", "done", "001790000000000-0000-office", "synced"),
            (I1, "account", "done", "001790000000000-0000-office", "synced"),
            (I1, "personnel", "blocked", "001790000000001-0000-c1", "unsent"),
        ],
    )
    conn.execute(
        "INSERT INTO outbox (op_id, hlc, kind, institution_id, register, data, state, "
        "created_at) VALUES ('op-1', '001790000000001-0000-c1', 'step.set', ?, ?, ?, "
        "'unsent', '2026-11-27T10:00:00+00:00')",
        (
            I1,
            f"step:{I1}:personnel",
            json.dumps(
                {"step": "personnel", "status": "blocked", "reason": "缺资格证", "note": None}
            ),
        ),
    )
    conn.executemany(
        "INSERT INTO meta VALUES (?, ?)",
        [("cursor", "42"), ("client_id", "c1"), ("clock", "001790000000001-0000-c1")],
    )
    if "visits" in have:
        conn.execute(
            "INSERT INTO visits (visit_id, institution_id, kind, started_at, "
            "next_visit_on) VALUES ('v1', ?, 'follow_up', '2026-11-01T09:00:00+08:00', "
            "'2026-11-20')",
            (I2,),
        )
    if "pending_removals" in have:
        conn.execute("INSERT INTO pending_removals VALUES (?, '2026-11-27')", (I2,))
    columns = {r[1] for r in conn.execute("PRAGMA table_info(institutions)")}
    if "done" in columns:  # that fieldkit kept progress on the row
        progress.refresh(conn, None)
    conn.close()


def test_a_new_file_gets_every_migration(tmp_path: Path) -> None:
    path = tmp_path / "new.sqlite"
    Store.open(path).close()
    with sqlite3.connect(path) as conn:
        applied = [
            r[0]
            for r in conn.execute(
                "SELECT name FROM _sqlite_migrations WHERE migration_set = ? ORDER BY id",
                (schema.MIGRATION_SET,),
            )
        ]
        assert applied == NAMES
        assert conn.execute("PRAGMA application_id").fetchone()[0] == schema.APPLICATION_ID
        assert {
            "meta",
            "institutions",
            "steps",
            "outbox",
            "visits",
            "events",
            "pending_removals",
            "search_keys",
        } <= tables(conn)
    assert len(NAMES) >= 5


def test_an_empty_file_is_initialised(tmp_path: Path) -> None:
    path = tmp_path / "empty.sqlite"
    path.write_bytes(b"")
    with Store.open(path) as store:
        assert store.counts()["institutions"] == 0


@pytest.mark.parametrize("k", range(1, len(NAMES)))
def test_migrating_from_each_earlier_schema_keeps_the_data(tmp_path: Path, k: int) -> None:
    path = tmp_path / f"at{k}.sqlite"
    build_at(path, k)
    with Store.open(path) as store:
        assert store.client_id == "c1"
        assert store.get_meta("cursor") == "42"
        assert store.institution(I1)["bank_status"] == "passed"  # type: ignore[index]
        states = store.step_states(I1)
        assert (states["registered"].status, states["account"].status) == ("done", "done")
        assert states["personnel"].sync_state == "unsent"
        assert [o["op_id"] for o in store.pending_ops(10)] == ["op-1"]
        row = store.assignments(query="星辰")[0]  # search index built or kept
        assert (row.done, row.blocked, row.unsent, row.next_step) == (2, True, 1, "qualification")
        assert [r.id for r in store.assignments(query="csx")] == [I1]
        assert sorted(r.id for r in store.assignments(query="长沙")) == [I1, I2]
        if k >= 2:
            assert [v["visit_id"] for v in store.visits(I2)] == ["v1"]
            assert store.assignments(query="博雅")[0].next_visit_on == "2026-11-20"
        # a new edit after the migration lands with its op
        op = store.set_step(I1, "qualification", "done", by="T1")
        assert newer(op["hlc"], "001790000000001-0000-c1")


def test_garbage_bytes_are_refused_and_left_untouched(tmp_path: Path) -> None:
    path = tmp_path / "cache.sqlite"
    path.write_bytes(b"\x00\xffnot a database at all\n" * 200)
    before = digest(path)
    with pytest.raises(NotAFieldkitCache) as err:
        Store.open(path)
    assert digest(path) == before and siblings(path) == []
    assert "不是" in err.value.zh and "not a fieldkit cache" in err.value.en
    assert "untouched" in str(err.value) and "未做任何改动" in str(err.value)


def test_a_corrupt_sqlite_file_is_refused_and_left_untouched(tmp_path: Path) -> None:
    path = tmp_path / "cache.sqlite"
    path.write_bytes(schema.SQLITE_HEADER + b"\x10\x00garbage" * 500)
    before = digest(path)
    with pytest.raises(NotAFieldkitCache):
        Store.open(path)
    assert digest(path) == before and siblings(path) == []


def test_another_programs_database_is_refused_and_left_untouched(tmp_path: Path) -> None:
    path = tmp_path / "cache.sqlite"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)")
        conn.execute("INSERT INTO notes (body) VALUES ('买菜')")
    conn.close()
    before = digest(path)
    with pytest.raises(NotAFieldkitCache) as err:
        Store.open(path)
    assert "another program" in err.value.en
    assert digest(path) == before and siblings(path) == []
    with sqlite3.connect(path) as conn:
        assert tables(conn) == {"notes"}
    conn.close()


def test_a_cache_from_a_newer_fieldkit_is_refused_and_left_untouched(tmp_path: Path) -> None:
    path = tmp_path / "cache.sqlite"
    Store.open(path).close()
    conn = sqlite3.connect(path)
    conn.execute(
        "INSERT INTO _sqlite_migrations (migration_set, name, applied_at) "
        "VALUES (?, '0099_from_the_future', '2027-01-01')",
        (schema.MIGRATION_SET,),
    )
    conn.commit()
    conn.execute("PRAGMA journal_mode = DELETE")
    conn.close()
    before = digest(path)
    with pytest.raises(CacheTooNew) as err:
        Store.open(path)
    assert err.value.unknown == ["0099_from_the_future"]
    assert "升级" in err.value.zh and "Upgrade fieldkit" in err.value.en
    assert digest(path) == before


def test_a_folder_in_the_way_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "cache.sqlite"
    path.mkdir()
    with pytest.raises(NotAFieldkitCache) as err:
        Store.open(path)
    assert "folder" in err.value.en and path.is_dir()


def test_an_unreadable_location_gives_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x")
    with pytest.raises(CacheUnavailable) as err:
        Store.open(blocker / "cache.sqlite")
    assert "Cannot open the cache" in err.value.en and "无法打开" in err.value.zh
    assert blocker.read_text() == "x"


def test_processes_opening_a_new_file_at_once_migrate_it_once(tmp_path: Path) -> None:
    path = tmp_path / "race.sqlite"
    code = (
        "import sys; from pathlib import Path; from cache import Store; "
        "s = Store.open(Path(sys.argv[1])); print(s.client_id); s.close()"
    )
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", code, str(path)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for _ in range(4)
    ]
    outs = [p.communicate(timeout=60) for p in procs]
    assert [p.returncode for p in procs] == [0] * 4, [err for _, err in outs]
    assert len({out.strip() for out, _ in outs}) == 1  # one client id for the one file
    with sqlite3.connect(path) as conn:
        names = [r[0] for r in conn.execute("SELECT name FROM _sqlite_migrations ORDER BY rowid")]
    assert names == NAMES


def test_the_known_names_are_the_migrations_defined() -> None:
    from cache.migrations import MIGRATIONS

    assert [m.name for m in MIGRATIONS._migrations] == list(schema.KNOWN)


def test_opening_a_current_cache_does_not_import_sqlite_utils(tmp_path: Path) -> None:
    import subprocess
    import sys

    path = tmp_path / "cache.sqlite"
    Store.open(path).close()
    code = (
        "import sys; from cache.store import Store; Store.open(sys.argv[1]).close(); "
        "print('sqlite_utils' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(path)], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "False"
