"""A served SQLite store's log is copied into the database file by a thread of its own, never by
the request whose commit fills it; nothing is lost when the server stops."""

from __future__ import annotations

import threading
import time
import uuid
from pathlib import Path

import httpx

from fieldkit import domain
from tests.live_server import LiveServer, make_op, small_office, visit_data
from tests.test_server_push_batch import rows


def in_file(path: Path, text: str) -> bool:
    """Whether the database file itself (not its log) holds this text."""
    return text.encode("utf-8") in path.read_bytes()


def test_the_log_is_copied_into_the_store_while_serving_and_not_by_the_push(
    tmp_path: Path,
) -> None:
    built = small_office(tmp_path)
    db, log = Path(built.db), Path(f"{built.db}-wal")
    marker = f"核对标记{uuid.uuid4().hex}"
    clock = domain.HLC("laptop-a")
    ops = [
        make_op("visit.create", built.wuling[n % 3], visit_data(f"{marker} 第{n}次"), clock)
        for n in range(40)
    ]
    with LiveServer(built.db) as server:
        with server.app.state.store.engine.connect() as conn:  # no commit ever checkpoints
            assert conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == 0
        answer = httpx.post(
            server.url + "/api/v1/sync/push",
            headers=built.headers("tech_a"),
            json={"client_id": "laptop-a", "ops": ops},
            timeout=30,
        )
        assert answer.status_code == 200, answer.text
        assert log.stat().st_size > 0  # the batch went to the log first
        deadline = time.monotonic() + 10
        while not in_file(db, marker):  # then into the file, while the server goes on
            assert time.monotonic() < deadline, "the log was not copied while serving"
            time.sleep(0.1)
        assert any(t.name == "fieldkit-checkpoint" for t in threading.enumerate())
    assert not any(t.name == "fieldkit-checkpoint" for t in threading.enumerate())
    assert not log.exists() or log.stat().st_size == 0  # all of it in the file after the stop
    assert rows(built.db, "SELECT count(*) FROM visits")[0][0] == 40


def test_the_store_keeps_every_batch_while_the_log_is_copied_under_load(tmp_path: Path) -> None:
    """Batches committed while the thread copies the log: every one readable, during and after."""
    built = small_office(tmp_path)
    clock = domain.HLC("laptop-a")
    with LiveServer(built.db) as server, httpx.Client(timeout=30) as http:
        for round_ in range(12):
            ops = [
                make_op("visit.create", built.wuling[n % 3], visit_data(f"第{round_}轮{n}"), clock)
                for n in range(25)
            ]
            answer = http.post(
                server.url + "/api/v1/sync/push",
                headers=built.headers("tech_a"),
                json={"client_id": "laptop-a", "ops": ops},
            )
            assert [r["status"] for r in answer.json()["results"]] == ["applied"] * 25
            assert rows(built.db, "SELECT count(*) FROM visits")[0][0] == 25 * (round_ + 1)
            time.sleep(0.1)  # let a checkpoint run between some of them
    assert rows(built.db, "SELECT count(*) FROM visits")[0][0] == 300
    assert rows(built.db, "PRAGMA integrity_check") == [("ok",)]
