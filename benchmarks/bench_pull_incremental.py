"""A laptop's minute-by-minute pull when nothing is new: its cost against the size of its scope.

Run: python -m benchmarks.bench_pull_incremental [--requests 200]
Seeds the province (7,750 institutions), then times pulls at the head of the change log (with
the mark the client echoes) through `fieldkit serve` for a technician holding one county's
institutions, one holding ten times as many, and the province's supervisor; against a baseline
in the same run, GET /healthz on the same server. Prints p50, p95 and worst per scope, and the
ratio of the largest scope's p50 to the smallest's (goal: about 1, whatever the scope).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

from benchmarks.bench_pull import office_process
from fieldkit.server import office
from fieldkit.server.store import Store, mark_of
from tests.live_server import admin, token_from


def timed_gets(
    client: httpx.Client, url: str, headers: dict[str, str], params: dict, n: int
) -> list[float]:
    """Wall times of n identical GETs."""
    out = []
    for _ in range(n):
        started = time.perf_counter()
        answer = client.get(url, headers=headers, params=params)
        out.append(time.perf_counter() - started)
        answer.raise_for_status()
    return out


def figures(times: list[float]) -> str:
    q = statistics.quantiles(times, n=100, method="inclusive")
    return f"p50 {q[49] * 1000:.1f} ms, p95 {q[94] * 1000:.1f} ms, worst {max(times) * 1000:.1f} ms"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-incremental-") as tmp:
        db = Path(tmp) / "office.sqlite"
        admin(db, "init")
        assert admin(db, "seed-demo")[0] == 0
        store = Store(db)
        try:
            with store.writing() as conn:
                small = office.institutions_in(conn, "430702")
                everything = office.institutions_in(conn, "430000")
                large = [i for i in everything if i not in set(small)][: len(small) * 10]
            scopes = {}
            for name, ids in (("one county", small), ("ten times that", large)):
                out = admin(db, "add-technician", name, "--zone", "430000")[1]
                tech = out.split()[1]
                assert admin(db, "assign", "--technician", tech, "--institution", *ids)[0] == 0
                scopes[f"technician, {len(ids)} institutions ({name})"] = token_from(out)
            out = admin(db, "add-technician", "省主管", "--zone", "430000", "--supervisor")[1]
            scopes[f"supervisor, the province ({len(everything)} institutions)"] = token_from(out)
            with store.engine.connect() as conn:
                head = store.head(conn)
                mark = mark_of(conn, head)
        finally:
            store.close()
        params = {"cursor": head, "limit": 5000, "mark": mark}
        results = {}
        with office_process(db) as url, httpx.Client(timeout=30) as client:
            base = timed_gets(client, url + "/healthz", {}, {}, args.requests)
            for name, token in scopes.items():
                headers = {"Authorization": f"Bearer {token}"}
                timed_gets(client, url + "/api/v1/sync/pull", headers, params, 10)  # warm up
                results[name] = timed_gets(
                    client, url + "/api/v1/sync/pull", headers, params, args.requests
                )
    print(f"{args.requests} pulls each at the head of the log (seq {head}), nothing new")
    print(f"baseline GET /healthz: {figures(base)}")
    for name, times in results.items():
        print(
            f"{name}: {figures(times)} ({statistics.median(times) / statistics.median(base):.1f}x /healthz)"
        )
    sizes = list(results.values())
    ratio = statistics.median(sizes[1]) / statistics.median(sizes[0])
    print(f"ten times the scope costs {ratio:.2f}x (goal: about 1)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
