"""Uploading 30 phone photos through a dropping connection, against one plain upload of the bytes.

Run: python -m benchmarks.bench_upload [--photos 30] [--runs 3] [--seed 13]

Each run: a fresh office and laptop; 30 photos (3–6 MB as the phone wrote them, reduced on
attach) on three visits taken offline; then sync rounds, as the app's background sync runs them,
through the fault proxy (drops before and after the office answers, truncated answers, 502s)
until every file is at the office. Printed per run and as median / p95 / worst:

- wire ratio: request bytes the proxy received during the sync (pushes, upload pieces, resent
  pieces, headers) against the stored files' total (goal: at most 1.1);
- time ratio: the sync's wall time against one plain upload of the same bytes in the same run
  (one POST of them all, through the same proxy with its faults off, to a server that reads and
  hashes the body).
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import uvicorn

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from fieldkit.evidence import Prepared, prepare  # noqa: E402
from fieldkit.sync import SyncError  # noqa: E402
from tests.evidence_files import phone_photos  # noqa: E402
from tests.fault_proxy import FaultProxy, Faults  # noqa: E402
from tests.live_server import LiveServer, free_port  # noqa: E402
from tests.test_sync_office import RealOffice, connect, disconnect, visit  # noqa: E402

HOTSPOT = Faults(drop_before=0.04, drop_after=0.04, truncate=0.03, bad_gateway=0.03)
LOST = ("drop_before", "bad_gateway")  # faults that lose the request's bytes before the office


async def _sink(scope: dict, receive: object, send: object) -> None:
    """A plain upload endpoint: read the whole body, answer its SHA-256."""
    assert scope["type"] == "http"
    digest = hashlib.sha256()
    while True:
        message = await receive()  # type: ignore[operator]
        digest.update(message.get("body", b""))
        if not message.get("more_body"):
            break
    body = digest.hexdigest().encode()
    await send(  # type: ignore[operator]
        {"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"64")]}
    )
    await send({"type": "http.response.body", "body": body})  # type: ignore[operator]


class PlainServer:
    """The baseline's server: uvicorn on 127.0.0.1 running `_sink`."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(_sink, host="127.0.0.1", port=self.port, log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> PlainServer:
        self.thread.start()
        while not self.server.started:
            time.sleep(0.01)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(10)


async def plain_upload(data: bytes) -> float:
    """Seconds for one POST of `data` through the proxy (no faults) to the plain server."""
    with PlainServer() as plain, FaultProxy(plain.url, enabled=False) as proxy:
        async with httpx.AsyncClient(base_url=proxy.url, timeout=120) as http:
            started = time.perf_counter()
            answer = await http.post("/upload", content=data)
            took = time.perf_counter() - started
    assert answer.text == hashlib.sha256(data).hexdigest()
    return took


async def one_run(
    kept: list[Prepared], seed: int, work: Path, faults: Faults = HOTSPOT
) -> tuple[float, float, int, dict]:
    """(sync seconds, wire bytes, stored total, fault counts) of one fresh office and laptop."""
    os.environ["FIELDKIT_HOME"] = str(work / "home")
    real = RealOffice(work, institutions=3)
    tech = real.add("李娜")
    real.assign(tech, real.ids)
    with LiveServer(real.db) as server, FaultProxy(server.url, seed=seed, faults=faults) as proxy:
        proxy.enabled = False
        await connect(tech, server.url, via=proxy.url)
        assert tech.store and tech.client
        try:
            await tech.client.run_round()
            per_visit = max(1, len(kept) // 3)
            for n in range(3):
                tech.store.create_visit(visit(tech, real.ids[n], n))
                for photo in kept[n * per_visit : (n + 1) * per_visit]:
                    tech.store.attach(
                        "visit", f"{tech.id}-v{n}", photo.data, photo.wire(), by=tech.id
                    )
            proxy.enabled = True
            before = proxy.bytes_up
            started = time.perf_counter()
            for _ in range(200):
                try:
                    await tech.client.run_round()
                except SyncError:
                    continue
                if not tech.store.uploads_waiting() and not tech.store.counts().get("unsent"):
                    break
            took = time.perf_counter() - started
            wire = proxy.bytes_up - before
            total = sum(a["size"] for a in tech.store.attachments())
            assert all(a["state"] == "sent" for a in tech.store.attachments())
        finally:
            await disconnect(tech)
    counts = dict(proxy.counts())
    puts = [e for e in proxy.events if e.method == "PUT"]
    counts["puts"] = len(puts)
    counts["lost_pieces"] = sum(e.fault in LOST for e in puts)
    return took, wire, total, counts


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=int, default=30)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=13)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-upload-") as tmp:
        root = Path(tmp)
        originals = phone_photos(root / "phone", args.photos)
        kept = [prepare(path) for path in originals]
        total_original = sum(p.stat().st_size for p in originals)
        stored = sum(k.size for k in kept)
        print(
            f"{args.photos} photos: {total_original / 1e6:.1f} MB as taken, "
            f"{stored / 1e6:.1f} MB stored after reduction"
        )
        wires, times = [], []
        clean, _, _, _ = await one_run(kept, args.seed, root / "clean", Faults())
        baseline = await plain_upload(b"".join(k.data for k in kept))
        print(
            f"without faults: sync {clean:.2f} s vs plain upload {baseline:.2f} s = "
            f"{clean / baseline:.2f}x (the protocol's own cost: pieces, hashes, fsyncs)"
        )
        for run in range(args.runs):
            took, wire, total, faults = await one_run(kept, args.seed + run, root / f"run{run}")
            baseline = await plain_upload(b"".join(k.data for k in kept))
            wires.append(wire / total)
            times.append(took / baseline)
            faulty = {k: v for k, v in faults.items() if k not in ("pass", "lost_pieces", "puts")}
            print(
                f"run {run + 1}: wire {wire / 1e6:.2f} MB / files {total / 1e6:.2f} MB = "
                f"{wire / total:.3f}x; sync {took:.2f} s vs plain upload {baseline:.2f} s = "
                f"{took / baseline:.2f}x; faults {faulty} of {sum(faulty.values()) + faults['pass']}"
                f" requests; {faults['lost_pieces']} of {faults['puts']} pieces lost before the "
                "office saw them"
            )
        lost = HOTSPOT.drop_before + HOTSPOT.bad_gateway
        print(
            f"wire ratio (goal <= 1.1): median {statistics.median(wires):.3f}, "
            f"p95 {p95(wires):.3f}, worst {max(wires):.3f}; the fault model's floor: "
            f"{lost:.0%} of requests lose their bytes whatever their size, so any piece size "
            f"sends 1 / (1 - {lost:.2f}) = {1 / (1 - lost):.3f}x on average"
        )
        print(
            f"time ratio vs one plain upload: median {statistics.median(times):.2f}, "
            f"p95 {p95(times):.2f}, worst {max(times):.2f}"
        )


if __name__ == "__main__":
    asyncio.run(main())
