"""App figures with 7,750 institutions cached: start to the first interactive list against a bare
Textual app showing one Static (same run), keystroke-to-updated-list p95 while searching, and RSS.

Run: /work/venv/bin/python benchmarks/bench_app.py [--rounds N]
Targets: start <= 1.5x the bare app; keystroke p95 <= 50 ms; resident memory <= 200 MB.
Each measurement runs in a fresh process (python -c …), headless, driven by Textual's auto pilot.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

START_TARGET = 1.5
KEY_TARGET_MS = 50.0
RSS_TARGET_MB = 200.0
SEARCHES = [
    "csxc",
    "changsha",
    "长沙星辰",
    "524301",
    "人民路",
    "王",
    "wlq",
    "jiaoyu",
    "常德",
    "cdwl",
    "yinyue",
    "美术",
    "hnsx",
    "430702",
    "xuexiao",
    "武陵",
    "tiyu",
    "张",
]
SIZE = (120, 40)


def build_cache(path: Path) -> None:
    """A cache file holding the whole generated province (not timed)."""
    from cache.rows import INSTITUTION_FIELDS
    from cache.store import Store
    from fieldkit.demo_data import generate_province

    province = generate_province()
    insts = [{k: i[k] for k in INSTITUTION_FIELDS} for i in province.institutions]
    store = Store.open(path)
    store.bulk_load(insts, province.steps)
    store.close()


def child_bare() -> None:
    """A bare Textual app with one Static; exits once it is shown."""
    from textual.app import App, ComposeResult
    from textual.widgets import Static

    class Bare(App[None]):
        def compose(self) -> ComposeResult:
            yield Static("fieldkit")

    async def pilot(p: Any) -> None:
        await drawn(p.app.screen)
        p.app.exit()

    Bare().run(headless=True, size=SIZE, auto_pilot=pilot)


async def drawn(screen: Any) -> None:
    """Until the screen has been drawn with what it holds now (same test for both apps)."""
    import asyncio

    done = asyncio.Event()
    screen.refresh()  # a frame is due whether or not anything changed since the last one
    screen.call_after_refresh(done.set)
    await done.wait()


def _app(cache: str, lang: str = "zh") -> Any:
    from cache.store import Store
    from fieldkit import config
    from screens.app import make_app

    settings = config.Settings(
        profile="bench",
        server_url="http://127.0.0.1:9",
        office_name="湖南省",
        office_public_key="AAAA",
        technician=config.Technician("S0001", "省级主管", "supervisor", "430000"),
        language=lang,
    )
    return make_app(settings, Store.open(Path(cache)), None)


async def _first_page(p: Any) -> Any:
    """Wait (bounded) until the assignment list shows rows; return the screen."""
    from screens.assignments import AssignmentsScreen

    for _ in range(20_000):
        screen = p.app.screen
        if isinstance(screen, AssignmentsScreen) and screen.pages_shown:
            return screen
        await p.pause(0.001)
    raise RuntimeError("the assignment list never showed")


def child_app(cache: str) -> None:
    """The app on the province cache; exits once the first page of the list is shown."""

    async def pilot(p: Any) -> None:
        await drawn(await _first_page(p))
        p.app.exit()

    _app(cache).run(headless=True, size=SIZE, auto_pilot=pilot)


def child_search(cache: str) -> None:
    """Type each search key by key; print per-keystroke latency to the updated list, and RSS."""
    import asyncio
    import resource

    from textual import events

    latencies: list[float] = []

    async def shown(screen: Any, before: int) -> None:
        """Until the new page is in the table and the screen has been redrawn with it."""
        for _ in range(100_000):
            if screen.pages_shown > before and not screen.loading_query:
                break
            await asyncio.sleep(0.0002)
        await drawn(screen)

    async def pilot(p: Any) -> None:
        screen = await _first_page(p)
        await p.press("slash")
        await p.pause()
        for text in SEARCHES:
            for char in text:
                before = screen.pages_shown
                started = time.perf_counter()
                p.app.post_message(events.Key(char, char))  # as the terminal driver does
                await shown(screen, before)
                latencies.append((time.perf_counter() - started) * 1000)
            before = screen.pages_shown
            screen.query_one("#search").value = ""
            await shown(screen, before)
        p.app.exit()

    _app(cache).run(headless=True, size=SIZE, auto_pilot=pilot)
    print(json.dumps({"latencies_ms": latencies, "rss_mb": peak_rss_mb(resource)}))


def peak_rss_mb(resource: Any) -> float:
    """This process's peak resident memory (VmHWM on Linux, else ru_maxrss)."""
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def timed(mode: str, cache: str) -> float:
    """Wall seconds of one child process, from spawn to exit."""
    code = (
        f"import sys; sys.path.insert(0, {str(ROOT)!r}); "
        f"from benchmarks.bench_app import child_{mode} as run; "
        + ("run()" if mode == "bare" else f"run({cache!r})")
    )
    env = dict(os.environ, FIELDKIT_HOME=str(Path(cache).parent / "home"))
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-c", code],
        check=True,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return time.perf_counter() - started


def search_figures(cache: str) -> dict[str, Any]:
    """Run the search child and read its figures."""
    code = (
        f"import sys; sys.path.insert(0, {str(ROOT)!r}); "
        f"from benchmarks.bench_app import child_search; child_search({cache!r})"
    )
    env = dict(os.environ, FIELDKIT_HOME=str(Path(cache).parent / "home"))
    out = subprocess.run(
        [sys.executable, "-c", code], check=True, env=env, capture_output=True, text=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    """Print the figures and whether each target is met."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        cache = str(Path(tmp) / "province.sqlite")
        build_cache(Path(cache))
        timed("bare", cache)  # warm the file cache for both
        timed("app", cache)
        bare, app = [], []
        for _ in range(args.rounds):  # interleaved, so both see the same machine load
            bare.append(timed("bare", cache))
            app.append(timed("app", cache))
        search = search_figures(cache)
    bare_s, app_s = statistics.median(bare), statistics.median(app)
    ratio = app_s / bare_s
    lat = sorted(search["latencies_ms"])
    p50 = statistics.median(lat)
    p95 = lat[min(len(lat) - 1, int(round(0.95 * (len(lat) - 1))))]
    ok = lambda good: "OK" if good else "OVER"  # noqa: E731
    print(f"start, bare Textual app + Static : {bare_s * 1000:7.0f} ms (median of {args.rounds})")
    print(f"start, fieldkit list of 7,750    : {app_s * 1000:7.0f} ms (median of {args.rounds})")
    print(
        f"start ratio                      : {ratio:7.2f}x  (target <= {START_TARGET}x) "
        f"{ok(ratio <= START_TARGET)}"
    )
    print(
        f"keystroke to updated list        : p50 {p50:5.1f} ms, p95 {p95:5.1f} ms, "
        f"max {lat[-1]:5.1f} ms over {len(lat)} keys  (target p95 <= {KEY_TARGET_MS} ms) "
        f"{ok(p95 <= KEY_TARGET_MS)}"
    )
    print(
        f"resident memory (max RSS)        : {search['rss_mb']:7.1f} MB  "
        f"(target <= {RSS_TARGET_MB} MB) {ok(search['rss_mb'] <= RSS_TARGET_MB)}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
