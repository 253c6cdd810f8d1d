"""`fieldkit server backup` (a consistent copy while serving) and `restore` (a new epoch): the
laptops find the new epoch, pull afresh and send again what the office lost, each op once."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import httpx

from fieldkit import domain
from tests.live_server import LiveServer, admin, make_op, small_office, visit_data
from tests.test_sync_office import RealOffice, connect, disconnect, replica, visit


def count(db: Path, sql: str) -> int:
    conn = sqlite3.connect(db)
    try:
        return int(conn.execute(sql).fetchone()[0])
    finally:
        conn.close()


def test_a_backup_taken_while_technicians_push_is_one_consistent_moment(tmp_path: Path) -> None:
    built = small_office(tmp_path)
    copy = tmp_path / "backup.sqlite"
    with LiveServer(built.db) as server:
        stop = threading.Event()

        def push_all_along() -> None:
            clock = domain.HLC("laptop-a")
            with httpx.Client(base_url=server.url, headers=built.headers("tech_a")) as http:
                while not stop.is_set():
                    ops = [
                        make_op("visit.create", built.wuling[n % 3], visit_data(), clock)
                        for n in range(20)
                    ]
                    http.post("/api/v1/sync/push", json={"client_id": "a", "ops": ops})

        pusher = threading.Thread(target=push_all_along)
        pusher.start()
        try:
            while count(built.db, "SELECT count(*) FROM visits") < 40:
                pass
            code, out = admin(built.db, "backup", str(copy))
        finally:
            stop.set()
            pusher.join()
    assert code == 0 and "backed up" in out and "fieldkit server restore" in out, out
    visits = count(copy, "SELECT count(*) FROM visits")
    assert visits >= 40 and visits % 20 == 0  # whole batches only: one transaction each
    assert count(copy, "SELECT count(*) FROM ops WHERE kind = 'visit.create'") == visits
    assert count(copy, "SELECT count(*) FROM changes WHERE kind = 'visit'") == visits
    assert not Path(f"{copy}.partial").exists()


def test_restore_refuses_what_is_not_a_fieldkit_backup_and_changes_nothing(
    tmp_path: Path,
) -> None:
    built = small_office(tmp_path)
    before = built.db.read_bytes()
    text = tmp_path / "notes.txt"
    text.write_text("这不是数据库", encoding="utf-8")
    other = tmp_path / "other.sqlite"
    sqlite3.connect(other).execute("CREATE TABLE t (x)").connection.close()
    newer = tmp_path / "newer.sqlite"
    assert admin(built.db, "backup", str(newer))[0] == 0
    conn = sqlite3.connect(newer)
    conn.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    conn.commit()
    conn.close()
    for bad, words in (
        (text, "不是 fieldkit 办公室数据库的备份"),
        (other, "is not a backup of a fieldkit office store"),
        (newer, "newer fieldkit"),
        (tmp_path / "missing.sqlite", "cannot read"),
    ):
        code, out = admin(built.db, "restore", str(bad))
        assert code == 5 and words in out and "Traceback" not in out, out
        assert "not changed" in out or "cannot read" in out
    assert built.db.read_bytes() == before


async def test_restore_starts_a_new_epoch_and_every_laptop_resends_what_was_lost(
    tmp_path: Path,
) -> None:
    real = RealOffice(tmp_path, institutions=4)
    li, wang = real.add("李娜"), real.add("王强")
    real.assign(li, real.ids[:2])
    real.assign(wang, real.ids[2:])
    copy = tmp_path / "friday.sqlite"
    with LiveServer(real.db) as server:
        port = server.port
        for person in (li, wang):
            await connect(person, server.url)
            assert person.store and person.client
            await person.client.run_round()
        li.store.create_visit(visit(li, real.ids[0], 1, "周五"))
        await li.client.run_round()
        assert admin(real.db, "backup", str(copy))[0] == 0  # while serving
        li.store.create_visit(visit(li, real.ids[1], 2, "周六"))
        wang.store.set_step(real.ids[2], "registered", "done", by=wang.id)
        await li.client.run_round()
        await wang.client.run_round()
    code, out = admin(real.db, "restore", str(copy))
    assert code == 0 and "新的数据纪元" in out and "new epoch" in out, out
    assert real.visit_ids() == [f"{li.id}-v1"]
    with LiveServer(real.db, port=port):
        for person in (li, wang):
            await person.client.run_round()
            await person.client.run_round()
        assert real.visit_ids() == [f"{li.id}-v1", f"{li.id}-v2"]
        assert all(n == 1 for n, _ in real.op_counts().values())
        office_view = real.registers()
        assert office_view[real.ids[2]]["steps"]["registered"][0] == "done"
        assert replica(li.store) == {i: office_view[i] for i in real.ids[:2]}
        assert replica(wang.store) == {i: office_view[i] for i in real.ids[2:]}
    await disconnect(li, wang)
