"""Platform imports at province scale: the 7,750-row platform export and a 50,000-course list.

Run: python benchmarks/bench_platform.py [--rounds N] [--only import-platform|import-courses]
Each import runs through the real command (`fieldkit server import-platform|import-courses`, in
process) into a seeded office; the baseline reads the same file with the library alone in the
same run (openpyxl read_only for .xlsx, the csv module for .csv). Target: at most 3x the
baseline's time. Peak memory (tracemalloc) is measured in a separate pass of each.

The floor column is what no import could beat: the file parsed, plus the rows the import writes
as one bare sqlite3 executemany (no checks, no change log). Where the floor is itself over 3x
(writing 77,500 step rows costs more than parsing the file), the target cannot be met by any
import that writes; the ratio is then read against the floor.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import io
import random
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Iterator, Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from fieldkit import cli  # noqa: E402
from fieldkit.demo_data import generate_province  # noqa: E402
from fieldkit.domain.platform import PLATFORM_STEPS  # noqa: E402

TARGET = 3.0
COURSES = 50_000


def platform_rows(shift: int) -> tuple[list[str], list[list[Any]]]:
    """The province's export as the platform would write it (dates moved by `shift` days)."""
    province = generate_province()
    status = {(s["institution_id"], s["step"]): s["status"] for s in province.steps}
    header = (
        ["统一社会信用代码"] + [f"{k}_on" for k in PLATFORM_STEPS] + ["订单数", "订单金额（元）"]
    )
    rows = []
    for i, inst in enumerate(province.institutions):
        day = date(2025, 3, 1) + timedelta(days=(i % 90) + shift)
        dates = [
            day.isoformat() if status[(inst["id"], k)] == "done" else "" for k in PLATFORM_STEPS
        ]
        yuan = f"{inst['order_amount_fen'] / 100:,.2f}"
        rows.append([inst["uscc"], *dates, inst["orders"], yuan])
    return header, rows


def course_rows(count: int, price: int) -> tuple[list[str], list[list[Any]]]:
    """`count` charging plans spread over the province's institutions."""
    province = generate_province()
    rng = random.Random(12)
    header = "uscc,course_id,name,kind,class_hours,start_on,end_on,charge_amount,charge_hours,charge_months,collect_from".split(
        ","
    )
    rows = []
    codes = [i["uscc"] for i in province.institutions]
    for n in range(count):
        start = date(2026, 9, 1) + timedelta(days=rng.randrange(60))
        hours = rng.choice((24, 36, 48, 60, 72))
        rows.append(
            [
                codes[n % len(codes)],
                f"KC{n:06d}",
                f"课程{n}",
                "non_academic",
                hours,
                start.isoformat(),
                (start + timedelta(days=88)).isoformat(),
                f"{price + rng.randrange(4000):.2f}",
                hours,
                3,
                (start - timedelta(days=20)).isoformat(),
            ]
        )
    return header, rows


def write_csv(path: Path, header: list[str], rows: list[list[Any]]) -> Path:
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def write_xlsx(path: Path, header: list[str], rows: list[list[Any]]) -> Path:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet()
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


def read_alone(path: Path) -> int:
    """The baseline: every cell of the file read by the library alone."""
    count = 0
    if path.suffix == ".xlsx":
        from openpyxl import load_workbook

        book = load_workbook(path, read_only=True, data_only=True)
        for _row in book.active.iter_rows(values_only=True):
            count += 1
        book.close()
    else:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            for _row in csv.reader(handle):
                count += 1
    return count


def bare_writes(db: Path, command: str, path: Path) -> float:
    """The floor: the rows the import writes, as one bare sqlite3 executemany, rolled back.

    The same file is parsed by the csv module (or openpyxl) alone, then each platform step or
    each course becomes one row of a single executemany in one transaction: no checks, no
    change log, no SQLAlchemy. No import that writes these rows can be faster; its time
    against the library's is printed next to the import's.
    """
    import json
    import sqlite3

    rows = list(_cells(path))
    header, body = rows[0], rows[1:]
    conn = sqlite3.connect(db, isolation_level=None)
    try:
        ids = dict(conn.execute("SELECT uscc, id FROM institutions"))
        start = time.perf_counter()
        conn.execute("BEGIN")
        if command == "import-platform":
            steps = [h.removesuffix("_on") for h in header[1 : 1 + len(PLATFORM_STEPS)]]
            conn.executemany(
                "UPDATE platform_steps SET done_on = ? WHERE institution_id = ? AND step = ?",
                [
                    (str(day) if day else None, ids[row[0]], key)
                    for row in body
                    for key, day in zip(steps, row[1 : 1 + len(steps)], strict=True)
                ],
            )
        else:
            conn.execute("DELETE FROM courses")
            conn.executemany(
                "INSERT INTO courses VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (ids[r[0]], r[1], r[2], r[3], r[4], r[5], r[6], json.dumps([r[7:]]), "x")
                    for r in ([str(c) for c in row] for row in body)
                ],
            )
        took = time.perf_counter() - start
        conn.execute("ROLLBACK")
    finally:
        conn.close()
    return took


def _cells(path: Path) -> Iterator[Sequence[Any]]:
    if path.suffix == ".xlsx":
        from openpyxl import load_workbook

        book = load_workbook(path, read_only=True, data_only=True)
        yield from book.active.iter_rows(values_only=True)
        book.close()
    else:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            yield from csv.reader(handle)


def run_import(db: Path, command: str, path: Path) -> None:
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        code = cli.main(["server", command, str(path), "--db", str(db)])
    if code != 0:
        raise SystemExit(f"{command} failed: {out.getvalue()[-2000:]}")


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def peak_mb(fn: Callable[[], object]) -> float:
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1] / 1e6
    finally:
        tracemalloc.stop()


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--only", choices=("import-platform", "import-courses"), help="run one of the two imports"
    )
    args = parser.parse_args()
    commands = (args.only,) if args.only else ("import-platform", "import-courses")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        db = folder / "office.sqlite"
        for argv in (["init"], ["seed-demo"]):
            with contextlib.redirect_stdout(io.StringIO()):
                assert cli.main(["server", *argv, "--db", str(db)]) == 0
        cases = []
        for fmt, writer in (("xlsx", write_xlsx), ("csv", write_csv)):
            for n in range(
                args.rounds + 1 if "import-platform" in commands else 0
            ):  # each round's file differs, so every row is written
                header, rows = platform_rows(n + (10 if fmt == "csv" else 0))
                cases.append(
                    (
                        "import-platform",
                        fmt,
                        writer(folder / f"p{fmt}{n}.{fmt}", header, rows),
                        len(rows),
                    )
                )
            for n in range(args.rounds + 1 if "import-courses" in commands else 0):
                header, rows = course_rows(COURSES, 1000 + n * 10 + (5 if fmt == "csv" else 0))
                cases.append(
                    (
                        "import-courses",
                        fmt,
                        writer(folder / f"c{fmt}{n}.{fmt}", header, rows),
                        len(rows),
                    )
                )
        print(
            f"{'import':16} {'fmt':4} {'rows':>6} {'rows/s':>8} {'ratio p95':>9} {'worst':>6} "
            f"{'floor':>6} {'peak MB':>8} {'lib MB':>7}"
        )
        for command in commands:
            for fmt in ("xlsx", "csv"):
                files = [c for c in cases if c[0] == command and c[1] == fmt]
                ratios, seconds, floors = [], [], []
                for _cmd, _fmt, path, _rows in files[1:]:
                    base = timed(lambda p=path: read_alone(p))
                    took = timed(lambda p=path, c=command: run_import(db, c, p))
                    ratios.append(took / base)
                    seconds.append(took)
                    floors.append((base + bare_writes(db, command, path)) / base)
                memory_file = files[0][2]
                lib_mb = peak_mb(lambda m=memory_file: read_alone(m))
                imp_mb = peak_mb(lambda m=memory_file, c=command: run_import(db, c, m))
                rows = files[0][3]
                print(
                    f"{command:16} {fmt:4} {rows:>6} {rows / max(seconds):>8.0f} "
                    f"{p95(ratios):>8.2f}x {max(ratios):>5.2f}x {min(floors):>5.2f}x "
                    f"{imp_mb:>8.1f} {lib_mb:>7.1f}"
                    f"  {'ok' if max(ratios) <= TARGET else 'OVER TARGET'}"
                )
        print(
            "rows/s: the slowest round; ratio: the import's time over reading the same file with "
            "the library alone (p95 and worst of the rounds); floor: parsing plus one bare sqlite3 "
            "executemany of the rows the import writes, over parsing alone (the best an import "
            "that writes them could do)"
        )


if __name__ == "__main__":
    main()
