"""`fieldkit server restore` while the office is serving is refused in words, with the way out,
and changes nothing; once the server is stopped the same command restores."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import httpx

from fieldkit import domain
from tests.live_server import LiveServer, admin, make_op, small_office, visit_data
from tests.pg_cluster import cluster, new_database


def visits(db: Path) -> int:
    conn = sqlite3.connect(db)
    try:
        return int(conn.execute("SELECT count(*) FROM visits").fetchone()[0])
    finally:
        conn.close()


def test_restore_under_a_running_server_is_refused_and_works_once_it_stopped(
    tmp_path: Path,
) -> None:
    built = small_office(tmp_path)
    copy = tmp_path / "monday.sqlite"
    assert admin(built.db, "backup", str(copy))[0] == 0
    clock = domain.HLC("laptop-a")
    with LiveServer(built.db) as server:
        ops = [make_op("visit.create", built.wuling[0], visit_data("周二"), clock)]
        answer = httpx.post(
            server.url + "/api/v1/sync/push",
            headers=built.headers("tech_a"),
            json={"client_id": "laptop-a", "ops": ops},
        )
        assert answer.status_code == 200
        code, out = admin(built.db, "restore", str(copy))
        assert code == 1 and "Traceback" not in out, out
        assert "请先停止服务器" in out and "stop the server" in out and "not changed" in out
        assert visits(Path(built.db)) == 1
        assert httpx.get(server.url + "/healthz").status_code == 200  # still serving
    code, out = admin(built.db, "restore", str(copy))
    assert code == 0 and "new epoch" in out, out
    assert visits(Path(built.db)) == 0


def test_on_postgresql_any_serving_process_holds_the_restore_off(tmp_path: Path) -> None:
    with cluster() as url:
        db = new_database(url)
        built = small_office(tmp_path, db)
        copy = tmp_path / "monday.sqlite"
        assert admin(db, "backup", str(copy))[0] == 0
        with LiveServer(db):  # one of the office's processes (any machine): the lock is the db's
            code, out = admin(db, "restore", str(copy))
            assert code == 1 and "fieldkit serve" in out and "not changed" in out, out
        code, out = admin(db, "restore", str(copy))
        assert code == 0 and "new epoch" in out, out
        assert built.wuling  # the office came back whole: its people can log in again
        with LiveServer(db) as server:
            me = httpx.get(server.url + "/api/v1/me", headers=built.headers("tech_a"))
            assert me.status_code == 200 and me.json()["id"] == "T0001"
