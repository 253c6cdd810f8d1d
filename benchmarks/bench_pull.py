"""A supervisor's full pull of the seeded province against serving the same rows pre-serialised.

Run: /work/venv/bin/python -m benchmarks.bench_pull [--rounds N] [--limit M]
Prints the time and bytes-on-the-wire ratios (targets: time ≤ 2x, bytes ≤ 1.1x).
"""

from __future__ import annotations

import argparse
import gzip
import json
import statistics
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from fieldkit.server.pull import MAX_LIMIT
from tests.live_server import LiveServer, admin, free_port, token_from


def full_pull(client: httpx.Client, url: str, token: str, limit: int) -> tuple[list[Any], int]:
    """Every change in the supervisor's scope, page by page; (changes, bytes on the wire)."""
    changes: list[Any] = []
    cursor, wire = 0, 0
    headers = {"Authorization": f"Bearer {token}"}
    while True:
        answer = client.get(url + "/api/v1/sync/pull", headers=headers,
                            params={"cursor": cursor, "limit": limit})
        answer.raise_for_status()
        page = answer.json()
        wire += answer.num_bytes_downloaded
        changes += page["changes"]
        cursor = page["cursor"]
        if not page["more"]:
            return changes, wire


def baseline_server(body: bytes) -> tuple[uvicorn.Server, threading.Thread, str]:
    """A server that answers one pre-serialised gzip JSON body."""

    async def serve(_request: Request) -> Response:
        return Response(body, media_type="application/json",
                        headers={"Content-Encoding": "gzip"})

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(Starlette(routes=[Route("/all", serve)]),
                                           host="127.0.0.1", port=port, log_level="warning",
                                           lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    return server, thread, f"http://127.0.0.1:{port}/all"


def baseline_pull(client: httpx.Client, url: str) -> tuple[list[Any], int]:
    """The same rows fetched as one body."""
    answer = client.get(url)
    answer.raise_for_status()
    return answer.json()["changes"], answer.num_bytes_downloaded


def timed(run: Any, rounds: int) -> tuple[float, Any]:
    """The median wall time of `rounds` runs and the last result."""
    times, result = [], None
    for _ in range(rounds):
        started = time.perf_counter()
        result = run()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def main() -> None:
    """Seed, serve, pull both ways, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--limit", type=int, default=MAX_LIMIT)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "office.sqlite"
        admin(db, "init")
        started = time.perf_counter()
        code, out = admin(db, "seed-demo")
        assert code == 0, out
        print(f"seed-demo: {time.perf_counter() - started:.1f} s")
        token = token_from(admin(db, "add-technician", "省主管", "--zone", "430000",
                                 "--supervisor")[1])
        with LiveServer(db) as office, httpx.Client(timeout=120) as client:
            full_pull(client, office.url, token, args.limit)  # warm up
            ours_s, (changes, ours_bytes) = timed(
                lambda: full_pull(client, office.url, token, args.limit), args.rounds)
            body = json.dumps({"changes": changes, "cursor": changes[-1]["seq"], "more": False},
                              ensure_ascii=False, separators=(",", ":")).encode()
            server, thread, url = baseline_server(gzip.compress(body, compresslevel=6))
            try:
                baseline_pull(client, url)  # warm up
                base_s, (same, base_bytes) = timed(lambda: baseline_pull(client, url),
                                                   args.rounds)
            finally:
                server.should_exit = True
                thread.join()
    assert len(same) == len(changes)
    kinds = {k: sum(1 for c in changes if c["kind"] == k) for k in ("institution", "step")}
    print(f"changes: {len(changes)} ({kinds['institution']} institutions, {kinds['step']} steps),"
          f" JSON {len(body) / 1e6:.1f} MB, page limit {args.limit}")
    print(f"full pull:  {ours_s:.3f} s, {ours_bytes / 1e6:.2f} MB on the wire")
    print(f"baseline:   {base_s:.3f} s, {base_bytes / 1e6:.2f} MB on the wire")
    print(f"time ratio:  {ours_s / base_s:.2f}x (target ≤ 2x)")
    print(f"bytes ratio: {ours_bytes / base_bytes:.3f}x (target ≤ 1.1x)")


if __name__ == "__main__":
    main()
