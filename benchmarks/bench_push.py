"""Pushing 1,000 unsent ops and pulling their results, against posting them as one plain request.

Run: /work/venv/bin/python -m benchmarks.bench_push [--ops N] [--batch B] [--rounds R]
Prints the round trips of a sync round (target: at most ceil(N/B) + 2) and its time as a ratio
to a baseline measured in the same run: the same ops posted to an identical office as one plain
JSON request with httpx (that office's batch limit raised so it accepts them in one go).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import replace
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ops", type=int, default=1000)
    parser.add_argument("--batch", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    asyncio.run(main_async(args.ops, args.batch, args.rounds))


if __name__ == "__main__":
    main()
