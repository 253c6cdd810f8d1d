"""A bounded load: technicians pushing and pulling at once, and the office killed mid-load."""

from __future__ import annotations

import asyncio
from pathlib import Path

from benchmarks.bench_load import build_office, check_counts, run_phase, running

TECHNICIANS, OPS = 16, 30


def test_concurrent_technicians_and_a_restart_lose_nothing(tmp_path: Path) -> None:
    db = tmp_path / "office.sqlite"
    people = build_office(db, tmp_path, TECHNICIANS, 3)
    with running(db) as server:
        steady = asyncio.run(
            run_phase(server.url, people, OPS, seed=1, batch=10, concurrency=8, time_limit=90)
        )
        assert steady.errors == [] and steady.retries == 0
        assert steady.ops == TECHNICIANS * OPS
        assert check_counts(db, people, 1, OPS) == []
        restarted = asyncio.run(
            run_phase(
                server.url,
                people,
                OPS,
                seed=2,
                batch=10,
                concurrency=8,
                time_limit=90,
                restart=server,
                restart_at=0.3,
            )
        )
        assert restarted.errors == []
        assert restarted.retries > 0  # the outage was felt and recovered from
        assert restarted.ops == TECHNICIANS * OPS
        assert check_counts(db, people, 2, OPS) == []  # every op applied exactly once
