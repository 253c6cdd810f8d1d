"""Due list and ledger of a city against the assignment list, in the same run of the same app.

A city's cache (常德市: about 560 institutions, 2,000 cases pulled through the cache's own pull
path, a look-back round, 200 follow-up dates set by visits), the real app headless at 120x40:
each round opens the assignment list, the due list (F6) and the ledger (F7) in turn, each timed
from the key to its rows drawn on screen. Prints median, p95 and worst of each and the ratios.

Run: python benchmarks/bench_cases.py [--rounds N] [--cases N]
Target: due list and ledger open in at most 1.5x the assignment list's time (p95).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

TARGET = 1.5
CITY = "430700"  # 常德市
TODAY = date(2026, 11, 28)
SIZE = (120, 40)


def build_cache(path: Path, cases: int) -> int:
    """A supervisor's cache of one city with its cases (not timed); the institutions held."""
    from cache.rows import INSTITUTION_FIELDS
    from cache.store import Store
    from fieldkit.demo_data import generate_province
    from tests.case_data import follow_up_visits, load_cases

    province = generate_province()
    insts = [
        {k: i[k] for k in INSTITUTION_FIELDS}
        for i in province.institutions
        if i["division_code"].startswith(CITY[:4])
    ]
    ids = {i["id"] for i in insts}
    store = Store.open(path)
    store.bulk_load(insts, [s for s in province.steps if s["institution_id"] in ids])
    ordered = sorted(ids)
    load_cases(store, ordered, cases, TODAY)
    follow_up_visits(store, ordered[::2], TODAY, 200)
    store.close()
    return len(ids)


def p95(values: list[float]) -> float:
    """The 95th percentile (nearest rank)."""
    ordered = sorted(values)
    return ordered[max(0, round(0.95 * len(ordered)) - 1)]


async def drawn(screen: Any) -> None:
    """Until the screen has been drawn with what it holds now."""
    done = asyncio.Event()
    screen.refresh()
    screen.call_after_refresh(done.set)
    await done.wait()


async def until(condition: Any, pilot: Any) -> None:
    for _ in range(100_000):
        if condition():
            return
        await pilot.pause(0.0005)
    raise RuntimeError("the screen never showed its rows")


def run(cache: Path, rounds: int) -> dict[str, list[float]]:
    """Open each screen `rounds` times in one app; seconds per open."""
    from cache.store import Store
    from fieldkit import config
    from screens.app import make_app
    from screens.assignments import AssignmentsScreen
    from screens.due_list import DueListScreen
    from screens.ledger import LedgerScreen

    settings = config.Settings(
        profile="bench",
        server_url="http://127.0.0.1:9",
        office_name="常德市教育局",
        office_public_key="AAAA",
        technician=config.Technician("S0002", "常德主管", "supervisor", CITY),
        language="zh",
    )
    store = Store.open(cache)
    app = make_app(settings, store, None)
    times: dict[str, list[float]] = {"assignments": [], "due": [], "ledger": []}

    async def pilot(p: Any) -> None:
        await until(
            lambda: isinstance(p.app.screen, AssignmentsScreen) and p.app.screen.pages_shown, p
        )
        await drawn(p.app.screen)

        async def assignments() -> None:
            await p.app.push_screen(AssignmentsScreen())
            screen = p.app.screen
            await until(lambda: screen.pages_shown > 0, p)
            await drawn(screen)

        async def due() -> None:
            p.app.action_open_due_list()  # what F6 runs
            await until(lambda: isinstance(p.app.screen, DueListScreen), p)
            screen = p.app.screen
            await until(lambda: screen.loads > 0, p)
            await drawn(screen)

        async def ledger() -> None:
            p.app.action_open_ledger()  # what F7 runs
            await until(lambda: isinstance(p.app.screen, LedgerScreen), p)
            screen = p.app.screen
            await until(lambda: screen.loads > 0, p)
            await drawn(screen)

        steps = {"assignments": assignments, "due": due, "ledger": ledger}
        for n in range(rounds + 1):
            order = list(steps) if n % 2 else list(reversed(steps))
            for name in order:
                started = time.perf_counter()
                await steps[name]()
                took = time.perf_counter() - started
                if n:  # the first round warms imports and caches; not counted
                    times[name].append(took)
                await p.app.pop_screen()
                await drawn(p.app.screen)
        p.app.exit()

    app.run(headless=True, size=SIZE, auto_pilot=pilot)
    store.close()
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--cases", type=int, default=2000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        cache = Path(tmp) / "cache.sqlite"
        held = build_cache(cache, args.cases)
        times = run(cache, args.rounds)
    base = p95(times["assignments"])
    print(f"city {CITY}: {held} institutions, {args.cases} cases, {args.rounds} rounds at 120x40")
    for name, values in times.items():
        ms = [v * 1000 for v in values]
        print(
            f"  {name:<12} median {statistics.median(ms):7.1f} ms   p95 {p95(ms):7.1f} ms   "
            f"worst {max(ms):7.1f} ms"
        )
    ok = True
    for name in ("due", "ledger"):
        ratio = p95(times[name]) / base
        worst = max(times[name]) / max(times["assignments"])
        verdict = "ok" if ratio <= TARGET else "OVER"
        ok = ok and ratio <= TARGET
        print(
            f"  {name} / assignment list: p95 {ratio:.2f}x (worst {worst:.2f}x), "
            f"target <= {TARGET}x: {verdict}"
        )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
