"""A supervisor's full pull of the seeded province against serving the same rows pre-serialised.

Run: /work/venv/bin/python -m benchmarks.bench_pull [--rounds N] [--limit M]
Prints the time and bytes-on-the-wire ratios (targets: time ≤ 2x, bytes ≤ 1.1x).
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import json
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from fieldkit.server.pull import MAX_LIMIT
from tests.live_server import admin, free_port, token_from


def full_pull(client: httpx.Client, url: str, token: str, limit: int) -> tuple[list[Any], int]:
    """Every change in the supervisor's scope, page by page; (changes, bytes on the wire)."""
    changes: list[Any] = []
    cursor, wire = 0, 0
    headers = {"Authorization": f"Bearer {token}"}
    while True:
        answer = client.get(
            url + "/api/v1/sync/pull", headers=headers, params={"cursor": cursor, "limit": limit}
        )
        answer.raise_for_status()
        page = answer.json()
        wire += answer.num_bytes_downloaded
        changes += page["changes"]
        cursor = page["cursor"]
        if not page["more"]:
            return changes, wire


@contextlib.contextmanager
def office_process(db: Path) -> Iterator[str]:
    """`fieldkit serve` in its own process, as an office runs it; yields its URL."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "fieldkit.cli", "serve", "--db", str(db), "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                httpx.get(url + "/healthz", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=20)


def baseline_server(body: bytes) -> tuple[uvicorn.Server, threading.Thread, str]:
    """A server that answers one pre-serialised gzip JSON body."""

    async def serve(_request: Request) -> Response:
        return Response(body, media_type="application/json", headers={"Content-Encoding": "gzip"})

    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            Starlette(routes=[Route("/all", serve)]),
            host="127.0.0.1",
            port=port,
            log_level="warning",
            lifespan="off",
        )
    )
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


def timed(run: Any) -> tuple[float, Any]:
    """The wall time of one run and its result."""
    started = time.perf_counter()
    result = run()
    return time.perf_counter() - started, result


def main() -> None:
    """Seed, serve, pull both ways, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--limit", type=int, default=MAX_LIMIT)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "office.sqlite"
        admin(db, "init")
        started = time.perf_counter()
        code, out = admin(db, "seed-demo")
        assert code == 0, out
        print(f"seed-demo: {time.perf_counter() - started:.1f} s")
        token = token_from(
            admin(db, "add-technician", "省主管", "--zone", "430000", "--supervisor")[1]
        )
        with office_process(db) as office, httpx.Client(timeout=120) as client:
            changes, ours_bytes = full_pull(client, office, token, args.limit)  # warm up
            body = json.dumps(
                {"changes": changes, "cursor": changes[-1]["seq"], "more": False},
                ensure_ascii=False,
                separators=(",", ":"),
            ).encode()
            server, thread, url = baseline_server(gzip.compress(body, compresslevel=6))
            ours, base = [], []
            try:
                same, base_bytes = baseline_pull(client, url)  # warm up
                # Interleaved rounds, so load from elsewhere on the machine hits both alike.
                for _ in range(args.rounds):
                    ours.append(timed(lambda: full_pull(client, office, token, args.limit))[0])
                    base.append(timed(lambda: baseline_pull(client, url))[0])
            finally:
                server.should_exit = True
                thread.join()
    assert len(same) == len(changes)
    kinds = {k: sum(1 for c in changes if c["kind"] == k) for k in ("institution", "step")}
    print(
        f"changes: {len(changes)} ({kinds['institution']} institutions, {kinds['step']} steps),"
        f" JSON {len(body) / 1e6:.1f} MB, page limit {args.limit}, {args.rounds} rounds"
    )
    print(
        f"full pull:  best {min(ours):.3f} s, median {statistics.median(ours):.3f} s, "
        f"{ours_bytes / 1e6:.2f} MB on the wire"
    )
    print(
        f"baseline:   best {min(base):.3f} s, median {statistics.median(base):.3f} s, "
        f"{base_bytes / 1e6:.2f} MB on the wire"
    )
    pairs = statistics.median(o / b for o, b in zip(ours, base, strict=True))
    print(
        f"time ratio:  {min(ours) / min(base):.2f}x best-to-best, {pairs:.2f}x median of "
        "rounds (target ≤ 2x)"
    )
    print(f"bytes ratio: {ours_bytes / base_bytes:.3f}x (target ≤ 1.1x)")


if __name__ == "__main__":
    main()
