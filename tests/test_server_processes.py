"""Several `fieldkit serve` processes on one PostgreSQL database: the same ops raced to all of
them (a re-send after a timeout, two devices) are applied once and answered, never a 5xx."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, text

from fieldkit import domain
from tests.live_server import SmallOffice, free_port, make_op, small_office, visit_data
from tests.pg_cluster import cluster, new_database


@pytest.fixture(scope="module")
def pg() -> Iterator[str]:
    with cluster() as url:
        yield url


class Served:
    """`fieldkit serve` in a process of its own, until stopped."""

    def __init__(self, db: str, home: Path, *extra: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = os.environ | {"FIELDKIT_HOME": str(home)}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "fieldkit", "serve", "--db", db, "--port", str(self.port)]
            + list(extra),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env=env,
        )
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                out = self.process.communicate(timeout=5)[0].decode(errors="replace")
                raise RuntimeError(f"fieldkit serve did not start: {out}")
            time.sleep(0.1)

    def stop(self) -> str:
        self.process.terminate()
        return self.process.communicate(timeout=30)[0].decode(errors="replace")


def race(
    built: SmallOffice, urls: list[str], batches: list[list[dict[str, Any]]], who: str = "tech_a"
) -> list[httpx.Response]:
    """Send every batch to every url at the same moment; all the answers."""
    answers: list[httpx.Response] = []
    lock = threading.Lock()

    def send(url: str, batch: list[dict[str, Any]], start: threading.Barrier) -> None:
        start.wait()
        answer = httpx.post(
            url + "/api/v1/sync/push",
            headers=built.headers(who),
            json={"client_id": "laptop-a", "ops": batch},
            timeout=60,
        )
        with lock:
            answers.append(answer)

    for batch in batches:
        start = threading.Barrier(len(urls) * 2)
        threads = [
            threading.Thread(target=send, args=(url, list(order), start))
            for url in urls
            for order in (batch, batch[::-1])  # and in another order: no deadlock either
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    return answers


def counts(db: str) -> dict[str, int]:
    engine = create_engine(db.replace("postgresql://", "postgresql+psycopg://"))
    with engine.connect() as conn:
        found = {
            table: int(conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())
            for table in ("ops", "visits", "records")
        }
    engine.dispose()
    return found


def ops_for(built: SmallOffice, clock: domain.HLC, n: int) -> list[dict[str, Any]]:
    out = []
    for i in range(n):
        inst = built.wuling[i % 3]
        if i % 3 == 0:
            out.append(make_op("visit.create", inst, visit_data(f"第{i}次"), clock))
        elif i % 3 == 1:
            data = {"size": "a6", "payload_sha256": "ab" * 32, "copies": 1}
            out.append(make_op("poster.printed", inst, data, clock))
        else:
            data = {"step": "registered", "status": "done", "reason": None, "note": None}
            out.append(make_op("step.set", inst, data, clock))
    return out


def test_two_serve_processes_on_one_database_apply_raced_ops_once(pg: str, tmp_path: Path) -> None:
    db = new_database(pg)
    built = small_office(tmp_path, db)
    first, second = Served(db, tmp_path / "one"), Served(db, tmp_path / "two")
    try:
        clock = domain.HLC("laptop-a")
        batches = [ops_for(built, clock, 30) for _ in range(6)]
        answers = race(built, [first.url, second.url], batches)
    finally:
        logs = first.stop() + second.stop()
    assert [a.status_code for a in answers] == [200] * 24, [a.text for a in answers[:3]]
    by_op: dict[str, list[str]] = {}
    for answer in answers:
        for result in answer.json()["results"]:
            by_op.setdefault(result["op_id"], []).append(result["status"])
    assert len(by_op) == 180
    assert all(
        sorted(s) == ["applied", "duplicate", "duplicate", "duplicate"] for s in by_op.values()
    )
    assert counts(db) == {"ops": 180, "visits": 60, "records": 60}
    assert "Traceback" not in logs and " 500 " not in logs


def test_serve_workers_2_on_postgresql_runs_two_processes_that_apply_once(
    pg: str, tmp_path: Path
) -> None:
    db = new_database(pg)
    built = small_office(tmp_path, db)
    served = Served(db, tmp_path / "home", "--workers", "2")
    try:
        children = subprocess.run(
            ["ps", "--ppid", str(served.process.pid), "-o", "pid="],
            capture_output=True,
            text=True,
        ).stdout.split()
        clock = domain.HLC("laptop-a")
        batches = [ops_for(built, clock, 20) for _ in range(4)]
        answers = race(built, [served.url, served.url], batches)
    finally:
        logs = served.stop()
    assert len(children) >= 2, logs
    assert {a.status_code for a in answers} == {200}
    assert counts(db) == {"ops": 80, "visits": 28, "records": 28}
    assert "2 processes" in logs


def test_two_processes_noting_a_technicians_first_contact_at_once_both_go_on(
    pg: str, tmp_path: Path
) -> None:
    """The 500 the raced pushes sometimes got: each process notes a technician's first contact
    (last seen); two doing it at once both inserted the status row, and the second failed."""
    from fieldkit.server import tokens
    from fieldkit.server.store import Store

    db = new_database(pg)
    small_office(tmp_path, db)
    one, two = Store(db), Store(db)
    failed: list[BaseException] = []
    try:
        with one.engine.begin() as first:  # process one notes T0001, not yet committed
            tokens._set_status(first, "T0001", last_seen="2026-12-01T08:00:00+00:00")

            def second() -> None:  # process two notes T0001 too (it waits for the first)
                try:
                    with two.engine.begin() as conn:
                        tokens._set_status(conn, "T0001", last_seen="2026-12-01T08:00:01+00:00")
                except Exception as exc:  # noqa: BLE001 (the failure this test looks for)
                    failed.append(exc)

            racing = threading.Thread(target=second)
            racing.start()
            time.sleep(0.5)  # the second is waiting on the first's row
        racing.join(timeout=30)
        with one.engine.connect() as conn:
            seen = conn.execute(
                text("SELECT last_seen FROM technician_status WHERE technician_id = 'T0001'")
            ).scalar_one()
    finally:
        one.close()
        two.close()
    assert failed == [] and seen == "2026-12-01T08:00:01+00:00"
