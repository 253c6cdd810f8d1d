"""Many technicians pushing and pulling at once, then the office killed and restarted mid-load.

Run: /work/venv/bin/python -m benchmarks.bench_load [--technicians 200] [--ops 100]
Prints p50/p95 latency, throughput and the error rate of each phase, and checks on the store that
every op was applied exactly once (targets: error rate 0, nothing lost after the restart).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select

from fieldkit import domain
from fieldkit.server import office
from fieldkit.server.store import Store, ops, records, visits
from tests.live_server import INSTITUTION_HEADER, admin, free_port, institution_line, write_csv

COUNTIES = sorted(c for c, d in domain.DIVISIONS.items() if d.level == "county")
KINDS = ("visit.create",) * 4 + ("poster.printed",) * 3 + ("qr.checked",) * 2 + ("step.set",)


@dataclass
class Technician:
    """One simulated technician: token, institutions, clock and what they expect to see."""

    id: str
    token: str
    institutions: list[str]
    clock: domain.HLC
    sent: dict[str, int] = field(default_factory=lambda: {k: 0 for k in set(KINDS)})
    registered: str = domain.TODO

    @property
    def headers(self) -> dict[str, str]:
        """The technician's Authorization header."""
        return {"Authorization": f"Bearer {self.token}"}


@dataclass
class Figures:
    """What one phase measured."""

    push: list[float] = field(default_factory=list)
    pull: list[float] = field(default_factory=list)
    retries: int = 0
    errors: list[str] = field(default_factory=list)
    ops: int = 0
    requests: int = 0
    seconds: float = 0.0

    def lines(self, name: str) -> list[str]:
        """The figures as printed."""
        out = [
            f"{name}: {self.ops} ops in {self.seconds:.1f} s ({self.ops / self.seconds:.0f} "
            f"ops/s), {self.requests} requests, {self.retries} retried, "
            f"{len(self.errors)} errors (error rate {len(self.errors) / max(1, self.requests):.4f})"
        ]
        for what, times in (("push", self.push), ("pull", self.pull)):
            if times:
                q = statistics.quantiles(times, n=100) if len(times) > 1 else times * 99
                out.append(
                    f"  {what}: p50 {q[49] * 1000:.0f} ms, p95 {q[94] * 1000:.0f} ms, "
                    f"max {max(times) * 1000:.0f} ms over {len(times)} requests"
                )
        out += [f"  error: {e}" for e in self.errors[:10]]
        return out


# --- the office ---------------------------------------------------------------------------------
def build_office(db: Path, folder: Path, technicians: int, per_technician: int) -> list[Technician]:
    """A store with `technicians` technicians, each assigned `per_technician` institutions."""
    code, out = admin(db, "init")
    assert code == 0, out
    count = technicians * per_technician
    lines = [INSTITUTION_HEADER] + [
        institution_line(f"负载测试培训学校{i}号", i + 1, COUNTIES[i % len(COUNTIES)])
        for i in range(count)
    ]
    code, out = admin(db, "import-institutions", str(write_csv(folder / "load.csv", lines)))
    assert code == 0, out
    store = Store(db)
    people: list[Technician] = []
    try:
        with store.writing() as conn:
            ids = [r for county in COUNTIES for r in office.institutions_in(conn, county)]
            for n in range(technicians):
                mine = sorted(ids[n * per_technician : (n + 1) * per_technician])
                new = office.add_technician(conn, f"技术员{n}", "430000", False)
                office.assign(conn, new.id, mine)
                people.append(Technician(new.id, new.token, mine, domain.HLC(f"laptop-{n}")))
    finally:
        store.close()
    return people


def server_counts(db: Path) -> dict[str, dict[str, int]]:
    """Per technician, what the store holds: ops received, visits, audit records."""
    store = Store(db)
    try:
        with store.engine.connect() as conn:
            out: dict[str, dict[str, int]] = {}
            for name, table in (("ops", ops), ("visits", visits), ("records", records)):
                rows = conn.execute(
                    select(table.c.technician_id, func.count()).group_by(table.c.technician_id)
                ).all()
                out[name] = {r[0]: int(r[1]) for r in rows}
            return out
    finally:
        store.close()


class OfficeProcess:
    """`fieldkit serve` on a fixed port, as an office runs it; can be killed and started again."""

    def __init__(self, db: Path, port: int | None = None) -> None:
        self.db, self.port = db, port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 60) -> None:
        """Start serving and wait until /healthz answers."""
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "fieldkit.cli",
                "serve",
                "--db",
                str(self.db),
                "--port",
                str(self.port),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + timeout
        while True:
            try:
                httpx.get(self.url + "/healthz", timeout=1)
                return
            except httpx.TransportError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("fieldkit serve did not come up") from None
                time.sleep(0.05)

    def kill(self) -> None:
        """SIGKILL, as a power cut or an OOM killer would."""
        if self.process is not None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=20)

    def stop(self) -> None:
        """Stop it politely."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=20)


@contextlib.contextmanager
def running(db: Path) -> Iterator[OfficeProcess]:
    """An office process for the duration of the block."""
    server = OfficeProcess(db)
    server.start()
    try:
        yield server
    finally:
        server.stop()


# --- the technicians ----------------------------------------------------------------------------
def make_ops(tech: Technician, count: int, rng: random.Random) -> list[dict[str, Any]]:
    """`count` valid ops across the technician's institutions, each to be applied once."""
    out = []
    for n in range(count):
        kind, inst = rng.choice(KINDS), rng.choice(tech.institutions)
        tech.sent[kind] += 1
        digest = hashlib.sha256(f"{tech.id}-{n}-{rng.random()}".encode()).hexdigest()
        if kind == "visit.create":
            data: dict[str, Any] = {
                "visit_id": str(uuid.uuid4()),
                "kind": "guidance",
                "started_at": "2026-11-28T09:00:00",
                "ended_at": "2026-11-28T10:00:00",
                "outcome": "completed",
                "steps_advanced": [],
                "issues": ["前台未张贴收款码"],
                "rectification": None,
                "interview_recommended": False,
                "next_visit_on": None,
                "notes": f"第{n}次走访",
            }
        elif kind == "poster.printed":
            data = {"size": "a4", "payload_sha256": digest, "copies": 1}
        elif kind == "qr.checked":
            data = {"visit_id": None, "result": "match", "found": "emv", "content_sha256": digest}
        else:
            tech.registered = domain.DONE if tech.registered != domain.DONE else domain.IN_PROGRESS
            inst = tech.institutions[0]
            data = {"step": "registered", "status": tech.registered, "reason": None, "note": None}
        out.append(
            {
                "op_id": str(uuid.uuid4()),
                "hlc": tech.clock.now(),
                "kind": kind,
                "institution_id": inst,
                "data": data,
            }
        )
    return out


class Load:
    """Technicians pushing their ops in batches and pulling, through one bounded HTTP client."""

    def __init__(self, url: str, figures: Figures, concurrency: int, deadline: float) -> None:
        self.url, self.figures, self.deadline = url, figures, deadline
        self.gate = asyncio.Semaphore(concurrency)
        self.client = httpx.AsyncClient(
            timeout=30,
            limits=httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency),
        )
        self.acknowledged = 0

    async def request(
        self, method: str, path: str, tech: Technician, **kwargs: Any
    ) -> httpx.Response | None:
        """One request, retried with backoff and jitter on network errors and 5xx."""
        attempt = 0
        while time.monotonic() < self.deadline:
            async with self.gate:
                started = time.perf_counter()
                try:
                    answer = await self.client.request(
                        method, self.url + path, headers=tech.headers, **kwargs
                    )
                except httpx.TransportError:
                    answer = None
                elapsed = time.perf_counter() - started
            self.figures.requests += 1
            if answer is not None and answer.status_code < 500:
                (self.figures.push if method == "POST" else self.figures.pull).append(elapsed)
                return answer
            attempt += 1
            self.figures.retries += 1
            await asyncio.sleep(min(1.0, 0.05 * 2**attempt) * (0.5 + random.random()))
        self.figures.errors.append(f"{tech.id} {method} {path}: gave up at the deadline")
        return None

    async def push_all(self, tech: Technician, batch: list[dict[str, Any]], size: int) -> None:
        """Push ops in batches; every result must be applied (or duplicate, after a retry)."""
        for i in range(0, len(batch), size):
            chunk = batch[i : i + size]
            answer = await self.request(
                "POST",
                "/api/v1/sync/push",
                tech,
                json={"client_id": tech.clock.client_id, "ops": chunk},
            )
            if answer is None:
                return
            if answer.status_code != 200:
                self.figures.errors.append(f"{tech.id} push: {answer.status_code} {answer.text}")
                continue
            for result in answer.json()["results"]:
                if result["status"] not in ("applied", "duplicate"):
                    self.figures.errors.append(f"{tech.id} op {result}")
            self.acknowledged += len(chunk)
            self.figures.ops += len(chunk)

    async def pull_all(self, tech: Technician) -> int:
        """Pull every change in the technician's scope; the number of visits seen."""
        cursor, seen = 0, set()
        while True:
            answer = await self.request(
                "GET", "/api/v1/sync/pull", tech, params={"cursor": cursor, "limit": 1000}
            )
            if answer is None:
                return -1
            if answer.status_code != 200:
                self.figures.errors.append(f"{tech.id} pull: {answer.status_code}")
                return -1
            page = answer.json()
            seen |= {c["id"] for c in page["changes"] if c["kind"] == "visit"}
            cursor = page["cursor"]
            if not page["more"]:
                return len(seen)

    async def technician(self, tech: Technician, batch: list[dict[str, Any]], size: int) -> None:
        """One technician's round: push everything, then pull and check their visits came back."""
        await self.push_all(tech, batch, size)
        visits_seen = await self.pull_all(tech)
        if visits_seen != tech.sent["visit.create"]:
            self.figures.errors.append(
                f"{tech.id} pulled {visits_seen} visits, sent {tech.sent['visit.create']}"
            )

    async def aclose(self) -> None:
        """Close the HTTP client."""
        await self.client.aclose()


async def run_phase(
    url: str,
    people: list[Technician],
    ops_each: int,
    *,
    batch: int,
    concurrency: int,
    seed: int,
    time_limit: float,
    restart: OfficeProcess | None = None,
    restart_at: float = 0.4,
) -> Figures:
    """Every technician pushes `ops_each` ops and pulls, concurrently; optionally kill the office
    once `restart_at` of the ops were acknowledged, and start it again on the same port."""
    rng = random.Random(seed)
    batches = {t.id: make_ops(t, ops_each, rng) for t in people}
    figures = Figures()
    load = Load(url, figures, concurrency, time.monotonic() + time_limit)
    started = time.perf_counter()
    try:
        work = [asyncio.create_task(load.technician(t, batches[t.id], batch)) for t in people]
        if restart is not None:
            total = ops_each * len(people)
            while load.acknowledged < total * restart_at and not all(w.done() for w in work):
                await asyncio.sleep(0.01)
            restart.kill()
            down = time.perf_counter()
            await asyncio.to_thread(restart.start)
            print(
                f"  office killed after {load.acknowledged} of {total} ops acknowledged; "
                f"back after {time.perf_counter() - down:.1f} s"
            )
        await asyncio.gather(*work)
    finally:
        await load.aclose()
    figures.seconds = time.perf_counter() - started
    return figures


def check_counts(db: Path, people: list[Technician], phases: int, ops_each: int) -> list[str]:
    """Differences between what the technicians sent and what the store holds (none expected)."""
    counts = server_counts(db)
    problems = []
    for tech in people:
        expected = {
            "ops": phases * ops_each,
            "visits": tech.sent["visit.create"],
            "records": tech.sent["poster.printed"] + tech.sent["qr.checked"],
        }
        for what, wanted in expected.items():
            got = counts[what].get(tech.id, 0)
            if got != wanted:
                problems.append(f"{tech.id} {what}: store holds {got}, sent {wanted}")
    return problems


def main() -> None:
    """Build the office, run the load, restart the office mid-load, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--technicians", type=int, default=200)
    parser.add_argument("--ops", type=int, default=100, help="ops per technician and phase")
    parser.add_argument("--institutions", type=int, default=3, help="per technician")
    parser.add_argument("--batch", type=int, default=25)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--time-limit", type=float, default=600)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "office.sqlite"
        started = time.perf_counter()
        people = build_office(db, Path(tmp), args.technicians, args.institutions)
        print(
            f"office: {args.technicians} technicians, {args.technicians * args.institutions} "
            f"institutions, built in {time.perf_counter() - started:.1f} s"
        )
        common: dict[str, Any] = {
            "batch": args.batch,
            "concurrency": args.concurrency,
            "time_limit": args.time_limit,
        }
        with running(db) as server:
            steady = asyncio.run(run_phase(server.url, people, args.ops, seed=1, **common))
            print("\n".join(steady.lines("steady load")))
            problems = check_counts(db, people, 1, args.ops)
            print(f"  store: {'every op applied exactly once' if not problems else problems[:5]}")
            restarted = asyncio.run(
                run_phase(server.url, people, args.ops, seed=2, restart=server, **common)
            )
            print("\n".join(restarted.lines("restart mid-load")))
            problems = check_counts(db, people, 2, args.ops)
            print(
                f"  store: {'every op applied exactly once, nothing lost' if not problems else problems[:5]}"
            )


if __name__ == "__main__":
    main()
