"""Importing a province-sized institution list: rows per second and peak memory of the command.

Run: python -m benchmarks.bench_import [--rows 100000]
Writes a CSV of ROWS valid institutions spread over Hunan's counties (GB18030, as Excel saves),
runs `fieldkit server import-institutions` on it in a fresh process, and prints its wall time,
rows per second and peak memory (goal: at most 300 MB, whatever the file's size), next to a
baseline measured in the same run: a process that reads the same file with csv and inserts every
row into one SQLite table with one executemany (no checks, no steps, no change log).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from fieldkit import domain
from tests.live_server import INSTITUTION_HEADER, institution_line, write_csv

COUNTIES = sorted(c for c, d in domain.DIVISIONS.items() if d.level == "county")
NAMES = ("星辰教育培训学校", "童趣美术培训中心", "明理书法培训学校", "启航编程培训学校")
MEMORY_GOAL_MB = 300

BASELINE = """
import csv, sqlite3, sys
conn = sqlite3.connect(sys.argv[2])
conn.execute("CREATE TABLE institutions (name, uscc, licence_no, division_code, address, "
             "contact_name, contact_phone, kind)")
with open(sys.argv[1], encoding="gb18030", newline="") as f:
    reader = csv.reader(f)
    next(reader)
    with conn:
        conn.executemany("INSERT INTO institutions VALUES (?,?,?,?,?,?,?,?)", reader)
print(conn.execute("SELECT count(*) FROM institutions").fetchone()[0])
"""


def make_file(path: Path, rows: int) -> Path:
    """A valid institution list of `rows` rows; the first county gets over 10,000 of them."""
    lines = [INSTITUTION_HEADER]
    for n in range(rows):
        county = COUNTIES[0] if n % 8 == 0 else COUNTIES[n % len(COUNTIES)]
        lines.append(institution_line(f"{NAMES[n % 4]}{n}", n + 1, county))
    return write_csv(path, lines, "gb18030")


def run(argv: list[str]) -> tuple[float, float, str]:
    """(wall seconds, peak memory MB, output) of a command in a fresh process."""
    script = (
        "import resource, subprocess, sys; "
        "p = subprocess.run(sys.argv[1:], capture_output=True, text=True); "
        "print(p.stdout + p.stderr); "
        "print('MAXRSS', resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss); "
        "sys.exit(p.returncode)"
    )
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", script, *argv], capture_output=True, text=True, check=False
    )
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"command failed: {' '.join(argv)}\n{done.stdout}{done.stderr}")
    output, _, rss = done.stdout.rpartition("MAXRSS ")
    return seconds, int(rss) / 1024, output.strip()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-import-") as tmp:
        folder = Path(tmp)
        csv_file = make_file(folder / "institutions.csv", args.rows)
        size_mb = csv_file.stat().st_size / 1e6
        db = folder / "office.sqlite"
        fieldkit = [sys.executable, "-m", "fieldkit"]
        subprocess.run(
            [*fieldkit, "server", "init", "--db", str(db)], check=True, capture_output=True
        )
        base_s, base_mb, _ = run(
            [sys.executable, "-c", BASELINE, str(csv_file), str(folder / "b.db")]
        )
        fk_s, fk_mb, out = run(
            [*fieldkit, "server", "import-institutions", str(csv_file), "--db", str(db)]
        )
        again_s, again_mb, again = run(
            [*fieldkit, "server", "import-institutions", str(csv_file), "--db", str(db)]
        )
    print(f"file: {args.rows} rows, {size_mb:.1f} MB (GB18030)")
    print(
        f"baseline (csv + one executemany): {base_s:.1f} s, {args.rows / base_s:.0f} rows/s, "
        f"peak {base_mb:.0f} MB"
    )
    print(
        f"fieldkit import-institutions:      {fk_s:.1f} s, {args.rows / fk_s:.0f} rows/s, "
        f"peak {fk_mb:.0f} MB  -> {fk_s / base_s:.1f}x the baseline's time"
    )
    print(f"  {out.splitlines()[-1]}")
    print(
        f"re-import (every row unchanged):  {again_s:.1f} s, {args.rows / again_s:.0f} rows/s, "
        f"peak {again_mb:.0f} MB"
    )
    print(f"  {again.splitlines()[-1]}")
    worst = max(fk_mb, again_mb)
    verdict = "ok" if worst <= MEMORY_GOAL_MB else "OVER"
    print(f"peak memory {worst:.0f} MB against the goal of {MEMORY_GOAL_MB} MB: {verdict}")
    return 0 if worst <= MEMORY_GOAL_MB else 1


if __name__ == "__main__":
    sys.exit(main())
