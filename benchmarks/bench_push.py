"""Pushing to the office: one laptop's sync round, and the morning rush of many technicians.

Run: python -m benchmarks.bench_push [--ops N] [--batch B] [--rounds R]
Prints the round trips of a sync round (target: at most ceil(N/B) + 2) and its time as a ratio
to a baseline measured in the same run: the same ops posted to an identical office as one plain
JSON request with httpx (that office's batch limit raised so it accepts them in one go).

Run: python -m benchmarks.bench_push --throughput [--technicians 50] [--batch 200] [--no-postgres]
The morning rush: every technician posts one batch at the same moment to `fieldkit serve` (its
own process, SQLite; then PostgreSQL with 1 and 2 processes), against a baseline in the same run:
a minimal ASGI app under uvicorn that takes the same bodies, checks the bearer token and inserts
every op with one executemany per request in one transaction (benchmarks/baseline_push_app.py).
Prints wall time, ops/s, request p50/p95/worst, errors and the ratio to the baseline (goal: at
most 4x, 0 errors, no request slower than the client's 30 s timeout), and checks on the store
that every op was applied exactly once.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from cache.store import Store  # noqa: E402
from fieldkit.server import models  # noqa: E402
from fieldkit.sync import SyncClient, login  # noqa: E402
from fieldkit.sync.wire import wire_op  # noqa: E402
from tests.live_server import LiveServer  # noqa: E402
from tests.test_sync_office import RealOffice, visit  # noqa: E402


async def prepare(
    office_db: Path, token: str, tech_id: str, ids: list[str], n: int, home: Path
) -> tuple[Any, Store, list[dict[str, Any]]]:
    """A logged-in laptop with its first pull done and n unsent visits."""
    os.environ["FIELDKIT_HOME"] = str(home)
    with LiveServer(office_db) as server:
        settings = await login(server.url, token)
        store = Store.open(settings.cache_path)
        client = SyncClient(settings, store, token)
        await client.run_round()
        await client.aclose()
    from tests.test_sync_office import Person

    person = Person(tech_id, "李娜", token)
    for k in range(n):
        store.create_visit(visit(person, ids[k % len(ids)], k, f"走访记录 {k}：资料已核对"))
    return settings, store, [wire_op(op) for op in store.pending_ops(n)]


async def sync_round(
    office_db: Path, settings: Any, store: Store, token: str, batch: int
) -> tuple[float, int, int]:
    """(seconds, round trips, changes pulled) of one sync round pushing every unsent op."""
    with LiveServer(office_db) as server:
        client = SyncClient(
            replace(settings, server_url=server.url), store, token, batch_size=batch
        )
        await client.check_office()  # done once per session, not per round
        before = client.requests
        started = time.perf_counter()
        result = await client.run_round()
        elapsed = time.perf_counter() - started
        trips = client.requests - before
        await client.aclose()
    assert store.counts()["unsent"] == 0, "the round left ops unsent"
    return elapsed, trips, result.pulled


def baseline(office_db: Path, token: str, client_id: str, ops: list[dict[str, Any]]) -> float:
    """Seconds to post the same ops as one plain JSON request and read the answer."""
    limit, models.MAX_OPS = models.MAX_OPS, max(models.MAX_OPS, len(ops))
    try:
        with (
            LiveServer(office_db) as server,
            httpx.Client(base_url=server.url, timeout=300) as http,
        ):
            http.get("/healthz")  # connection open, as the sync client's is
            started = time.perf_counter()
            response = http.post(
                "/api/v1/sync/push",
                content=json.dumps({"client_id": client_id, "ops": ops}, ensure_ascii=False).encode(
                    "utf-8"
                ),
                headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
            )
            answer = response.json()
            elapsed = time.perf_counter() - started
    finally:
        models.MAX_OPS = limit
    assert response.status_code == 200 and len(answer["results"]) == len(ops), response.text
    return elapsed


async def main_async(n: int, batch: int, rounds: int) -> None:
    times, bases, trips_seen = [], [], []
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        office = RealOffice(tmp, institutions=60)
        tech = office.add("李娜")
        office.assign(tech, office.ids)
        for r in range(rounds):
            run = tmp / f"run{r}"
            run.mkdir()
            sync_db, base_db = run / "sync.sqlite", run / "base.sqlite"
            shutil.copy(office.db, sync_db)
            settings, store, ops = await prepare(
                sync_db, tech.token, tech.id, office.ids, n, run / "home"
            )
            shutil.copy(sync_db, base_db)  # the same office, the first pull done, nothing pushed
            bases.append(baseline(base_db, tech.token, store.client_id, ops))
            elapsed, trips, pulled = await sync_round(sync_db, settings, store, tech.token, batch)
            store.close()
            times.append(elapsed)
            trips_seen.append(trips)
            print(
                f"round {r + 1}: sync {elapsed * 1000:.0f} ms in {trips} round trips "
                f"({pulled} changes pulled); baseline {bases[-1] * 1000:.0f} ms"
            )
    bound = math.ceil(n / batch) + 2
    sync_ms, base_ms = statistics.median(times) * 1000, statistics.median(bases) * 1000
    print(f"ops={n} batch={batch}")
    print(
        f"round trips: {max(trips_seen)} (target <= ceil({n}/{batch}) + 2 = {bound}) "
        f"{'OK' if max(trips_seen) <= bound else 'OVER'}"
    )
    print(
        f"time: sync round {sync_ms:.0f} ms (push + pull of the results) vs baseline "
        f"{base_ms:.0f} ms (one plain POST) = {sync_ms / base_ms:.2f}x"
    )


# --- the morning rush ------------------------------------------------------------------------------
CLIENT_TIMEOUT = 30.0  # the sync client's own timeout
RUSH_KINDS = ("visit.create", "visit.create", "poster.printed", "qr.checked", "step.set")


@dataclass
class Rush:
    """What one storm of pushes measured."""

    seconds: float
    latencies: list[float]
    errors: list[str]
    ops: int

    def line(self, name: str) -> str:
        lat = self.latencies
        q = statistics.quantiles(lat, n=100, method="inclusive") if len(lat) > 1 else lat * 99
        return (
            f"{name}: {self.ops} ops in {self.seconds:.2f} s ({self.ops / self.seconds:.0f} ops/s); "
            f"request p50 {q[49]:.2f} s, p95 {q[94]:.2f} s, worst {max(self.latencies):.2f} s; "
            f"{len(self.errors)} errors"
            + (
                f" ({', '.join(f'{n} {e}' for e, n in Counter(self.errors).most_common())})"
                if self.errors
                else ""
            )
        )


def rush_office(db: str, folder: Path, technicians: int) -> list[tuple[str, list[str]]]:
    """An office with `technicians` technicians of one county, 4 institutions each; their
    (token, institution ids)."""
    from tests.live_server import INSTITUTION_HEADER, admin, institution_line, token_from, write_csv

    def run(*argv: str) -> str:
        code, out = admin(db, *argv)
        if code != 0:
            raise SystemExit(f"{argv[0]} failed: {out}")
        return out

    run("init")
    lines = [INSTITUTION_HEADER] + [
        institution_line(f"常德{n}号教育培训学校", n, "430702")
        for n in range(1, technicians * 4 + 1)
    ]
    run("import-institutions", str(write_csv(folder / "institutions.csv", lines)))
    people = []
    for t in range(technicians):
        token = token_from(run("add-technician", f"技术员{t}", "--zone", "430702"))
        ids = [f"JG430702{n:04d}" for n in range(t * 4 + 1, t * 4 + 5)]
        run("assign", "--technician", f"T{t + 1:04d}", "--institution", *ids)
        people.append((token, ids))
    return people


def rush_batch(ids: list[str], size: int, who: int) -> list[dict[str, Any]]:
    """A day of one technician's offline work: visits, posters, code checks, steps."""
    from fieldkit import domain
    from tests.live_server import make_op, visit_data

    clock = domain.HLC(f"laptop-{who}")
    out = []
    for n in range(size):
        kind, inst = RUSH_KINDS[n % len(RUSH_KINDS)], ids[n % len(ids)]
        if kind == "visit.create":
            data: dict[str, Any] = visit_data(f"第{n}次走访：资料已核对，前台收款码已张贴")
        elif kind == "poster.printed":
            data = {"size": "a4", "payload_sha256": "ab" * 32, "copies": 1}
        elif kind == "qr.checked":
            data = {
                "visit_id": None,
                "result": "match",
                "found": "supervised",
                "content_sha256": "cd" * 32,
            }
        else:
            data = {"step": "registered", "status": "done", "reason": None, "note": None}
        out.append(make_op(kind, inst, data, clock))
    return out


async def storm(urls: list[str], people: list[tuple[str, list[str]]], size: int) -> Rush:
    """Every technician posts one batch at once (spread over `urls`); what it measured."""
    bodies = [
        (token, {"client_id": f"laptop-{i}", "ops": rush_batch(ids, size, i)})
        for i, (token, ids) in enumerate(people)
    ]
    latencies: list[float] = []
    errors: list[str] = []
    limits = httpx.Limits(max_connections=len(people) + 10)
    async with httpx.AsyncClient(timeout=300, limits=limits) as http:

        async def one(i: int, token: str, body: dict[str, Any]) -> None:
            started = time.perf_counter()
            try:
                answer = await http.post(
                    urls[i % len(urls)] + "/api/v1/sync/push",
                    json=body,
                    headers={"Authorization": f"Bearer {token}"},
                )
                results = answer.json().get("results", []) if answer.status_code == 200 else []
                if answer.status_code != 200:
                    errors.append(f"HTTP {answer.status_code}")
                elif [r["status"] for r in results] != ["applied"] * len(body["ops"]):
                    errors.append("not every op applied")
            except httpx.HTTPError as exc:
                errors.append(type(exc).__name__)
            took = time.perf_counter() - started
            latencies.append(took)
            if took > CLIENT_TIMEOUT:
                errors.append(f"slower than the client's {CLIENT_TIMEOUT:.0f} s timeout")

        started = time.perf_counter()
        await asyncio.gather(*(one(i, t, b) for i, (t, b) in enumerate(bodies)))
        seconds = time.perf_counter() - started
    return Rush(seconds, latencies, errors, len(people) * size)


@contextlib.contextmanager
def serving(argv: list[str], env: dict[str, str] | None = None) -> Iterator[str]:
    """A server command in its own process on a free port; yields its URL."""
    from tests.live_server import free_port

    port = free_port()
    process = subprocess.Popen(
        [*argv, "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=os.environ | (env or {}),
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(url + "/healthz", timeout=1)
                break
            except httpx.TransportError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"{' '.join(argv)} did not start") from None
                time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


def applied_once(db: str, expected: int) -> str:
    """Check on the office store that every op was recorded exactly once."""
    from sqlalchemy import func, select

    from fieldkit.server.store import Store, ops

    store = Store(db)
    try:
        with store.engine.connect() as conn:
            total = conn.execute(select(func.count()).select_from(ops)).scalar_one()
            distinct = conn.execute(select(func.count(ops.c.op_id.distinct()))).scalar_one()
    finally:
        store.close()
    ok = total == distinct == expected
    return f"store: {total} ops recorded, {distinct} distinct, {expected} sent: {'OK' if ok else 'WRONG'}"


def rush_round(
    name: str, db: str, base_db: str, folder: Path, technicians: int, size: int, workers: int
) -> None:
    """One comparison: fieldkit serve against the baseline on the same kind of store."""
    import hashlib

    people = rush_office(db, folder, technicians)
    hashes = json.dumps([hashlib.sha256(t.encode()).hexdigest() for t, _ in people])
    baseline_cmd = [sys.executable, "-m", "uvicorn", "benchmarks.baseline_push_app:app"]
    baseline_cmd += ["--log-level", "warning", "--workers", str(workers)]
    with serving(baseline_cmd, {"BASELINE_DB": base_db, "BASELINE_TOKENS": hashes}) as url:
        base = asyncio.run(storm([url], people, size))
    serve = [sys.executable, "-m", "fieldkit", "serve", "--db", db, "--workers", str(workers)]
    with serving(serve) as url:
        ours = asyncio.run(storm([url], people, size))
    print(f"== {name} ==")
    print(base.line("  baseline (token check + one executemany)"))
    print(ours.line("  fieldkit serve"))
    ratio = ours.seconds / base.seconds
    goal = "OK" if ratio <= 4 and not ours.errors else "OVER"
    print(f"  ratio {ratio:.2f}x the baseline's time (goal <= 4x, 0 errors): {goal}")
    print(f"  {applied_once(db, ours.ops)}")


def throughput(technicians: int, size: int, postgres: bool) -> None:
    """The morning rush on SQLite, then PostgreSQL with 1 and 2 processes."""
    with tempfile.TemporaryDirectory(prefix="bench-rush-") as tmp:
        folder = Path(tmp)
        print(f"{technicians} technicians x {size}-op batches = {technicians * size} ops, at once")
        rush_round(
            "SQLite, 1 process",
            str(folder / "office.sqlite"),
            str(folder / "baseline.sqlite"),
            folder,
            technicians,
            size,
            1,
        )
        if not postgres:
            return
        from tests.pg_cluster import binaries, cluster, new_database

        if binaries() is None:
            print("PostgreSQL is not installed here: skipped the PostgreSQL figures")
            return
        with cluster(durable=True) as pg:
            for workers in (1, 2):
                sub = folder / f"pg{workers}"
                sub.mkdir()
                rush_round(
                    f"PostgreSQL, {workers} process{'es' if workers > 1 else ''}",
                    new_database(pg),
                    new_database(pg),
                    sub,
                    technicians,
                    size,
                    workers,
                )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ops", type=int, default=1000)
    parser.add_argument("--batch", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--throughput", action="store_true", help="the morning rush instead")
    parser.add_argument("--technicians", type=int, default=50)
    parser.add_argument("--no-postgres", dest="postgres", action="store_false")
    args = parser.parse_args()
    if args.throughput:
        throughput(args.technicians, args.batch, args.postgres)
        return
    asyncio.run(main_async(args.ops, args.batch, args.rounds))


if __name__ == "__main__":
    main()
