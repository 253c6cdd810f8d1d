"""Province sync into an empty cache through the real command against the download alone.

The office (`fieldkit serve` on the seeded province, 7,750 institutions and their steps) runs in
its own process. Each round, interleaved:
- ours: `fieldkit sync --quiet` for the province's supervisor into an empty cache (download and
  apply: the cache created, every page written to it with its cursor; the search index file is
  the app's to build when the list opens), wall time of the process;
- the download alone: a Python process fetching the same pull pages (same page size, same
  token, gzip) with httpx and parsing each page's JSON, nothing written.

Run: .venv/bin/python -m benchmarks.bench_sync [--rounds N]
Target: ours <= 2x the download alone.
"""

from __future__ import annotations

import argparse
import inspect
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.bench_pull import office_process  # noqa: E402
from fieldkit.sync.client import SyncClient  # noqa: E402
from tests.live_server import admin, token_from  # noqa: E402

TARGET = 2.0
PAGE = int(inspect.signature(SyncClient).parameters["page_limit"].default)  # the client's page

DOWNLOAD = """
import sys, httpx
url, token, limit = sys.argv[1], sys.argv[2], int(sys.argv[3])
cursor, changes = 0, 0
with httpx.Client(timeout=120, headers={"Authorization": "Bearer " + token}) as client:
    while True:
        page = client.get(url + "/api/v1/sync/pull", params={"cursor": cursor, "limit": limit})
        page.raise_for_status()
        body = page.json()
        changes += len(body["changes"])
        cursor = body["cursor"]
        if not body["more"]:
            break
print(changes)
"""


def fieldkit_argv() -> list[str]:
    command = Path(sys.executable).with_name("fieldkit")
    return [str(command)] if command.exists() else [sys.executable, "-m", "fieldkit"]


def timed(argv: list[str], env: dict[str, str]) -> tuple[float, str]:
    """Wall seconds of one process, and what it printed."""
    started = time.perf_counter()
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=600)
    took = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"{argv[:3]} exited {done.returncode}: {done.stderr[-2000:]}")
    return took, done.stdout


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        db = folder / "office.sqlite"
        admin(db, "init")
        code, out = admin(db, "seed-demo")
        assert code == 0, out
        _, out = admin(db, "add-technician", "省主管", "--zone", "430000", "--supervisor")
        token = token_from(out)
        (folder / "token").write_text(token, encoding="utf-8")
        home = folder / "home"
        # bytecode kept, as an installed fieldkit has it (see bench_app.env_for): without it a
        # PYTHONDONTWRITEBYTECODE shell compiles every project module at every `fieldkit sync`
        env = {
            **os.environ,
            "FIELDKIT_HOME": str(home),
            "FIELDKIT_LANG": "zh",
            "PYTHONPYCACHEPREFIX": str(folder / "bytecode"),
        }
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        with office_process(db) as url:
            login = [*fieldkit_argv(), "login", url, "--token-file", str(folder / "token")]
            timed(login, env)
            cache = home / "profiles" / "default" / "cache.sqlite"
            download = [sys.executable, "-c", DOWNLOAD, url, token, str(PAGE)]
            sync = [*fieldkit_argv(), "sync", "--quiet"]
            timed(download, env)  # warm up both
            ours, base = [], []
            for n in range(args.rounds + 1):
                for leftover in cache.parent.glob("cache.sqlite*"):
                    leftover.unlink()  # an empty cache, as after a first login
                took, _ = timed(sync, env)
                got, printed = timed(download, env)
                if n:  # the first round warms the office's pages
                    ours.append(took)
                    base.append(got)
            changes = int(printed.strip())
    o, b = statistics.median(ours), statistics.median(base)
    ratio = o / b
    rounds = sorted(o_ / b_ for o_, b_ in zip(ours, base, strict=True))
    worst = rounds[-1]
    p95 = rounds[min(len(rounds) - 1, round(0.95 * (len(rounds) - 1)))]
    print(
        f"province pull: {changes:,} changes in pages of {PAGE:,}, {args.rounds} rounds "
        f"(load average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after)"
    )
    print(f"download alone (httpx, JSON parsed): median {b:.2f} s, best {min(base):.2f} s")
    print(
        f"fieldkit sync into an empty cache:  median {o:.2f} s, best {min(ours):.2f} s, "
        f"worst {max(ours):.2f} s"
    )
    print(
        f"ratio {ratio:.2f}x median (rounds: p95 {p95:.2f}x, worst {worst:.2f}x), target <= "
        f"{TARGET}x "
        f"{'OK' if ratio <= TARGET else 'OVER'}"
    )
    return 0 if ratio <= TARGET else 1


if __name__ == "__main__":
    raise SystemExit(main())
