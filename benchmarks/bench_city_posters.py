"""City-wide posters: `fieldkit posters --division 430700` over 490 institutions, peak memory.

Runs the real command (a subprocess on a profile cache in a temporary FIELDKIT_HOME) and reads
its peak resident memory from the kernel. Baselines measured in the same run: the same command
over a tenth of the institutions (memory must not grow with the pages) and `fieldkit status`
(what any command costs to start). Target: peak ≤ 300 MB for 490 A4 pages.
Run: python benchmarks/bench_city_posters.py [--institutions 490] [--rounds 3] [--size a4]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from cache import Store
from fieldkit import config, domain
from fieldkit.payment import emv, signing

TARGET_MB = 300
CITY = "430700"


def make_profile(home: Path, count: int) -> None:
    """A logged-in profile whose cache holds `count` signed institutions spread over the city."""
    os.environ["FIELDKIT_HOME"] = str(home)
    key = signing.generate_private_key()
    counties = sorted(d.code for d in domain.counties_of(CITY))
    institutions = []
    for n in range(count):
        county = counties[n % len(counties)]
        inst_id = f"JG{county}{n + 1:04d}"
        name = f"{domain.full_name(county)[-3:]}星辰教育培训学校{n + 1}号"
        payload = emv.build_payload(
            inst_id, f"6222020000{n:06d}", "Xingchen Jiaoyu", "Changde", name, "常德"
        )
        institutions.append(
            {
                "id": inst_id,
                "name": name,
                "uscc": "91430702MA4L0000X1",
                "licence_no": "教民1234",
                "division_code": county,
                "address": "常德市武陵区人民路1号",
                "contact_name": "王老师",
                "contact_phone": "13800000000",
                "kind": "non_academic",
                "pinyin": "xingchen",
                "initials": "xc",
                "bank_status": "passed",
                "bank_reason": None,
                "payment": {"payload": payload, "signature": signing.sign(key, payload)},
                "orders": 0,
                "order_amount_fen": 0,
            }
        )
    settings = config.Settings(
        profile="default",
        server_url="http://127.0.0.1:9",
        office_name="常德市教育局",
        office_public_key=signing.public_key_of(key),
        technician=config.Technician("T0001", "李娜", "supervisor", CITY),
    )
    config.save(settings)
    with Store.open(settings.cache_path) as store:
        store.bulk_load(institutions, [])


def run(home: Path, *argv: str) -> tuple[float, float, str]:
    """(seconds, peak resident MB, stdout) of `python -m fieldkit ARGV…` on that home."""
    env = {**os.environ, "FIELDKIT_HOME": str(home)}
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "fieldkit", *argv],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    assert process.stdout is not None
    out = process.stdout.read().decode("utf-8", "replace")
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"fieldkit {' '.join(argv)} failed:\n{out[-2000:]}")
    return seconds, usage.ru_maxrss / 1024, out  # ru_maxrss is in KiB on Linux


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--institutions", type=int, default=490)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--size", choices=["a4", "a6", "strip"], default="a4")
    args = parser.parse_args()
    small_count = max(1, args.institutions // 10)
    with tempfile.TemporaryDirectory() as tmp:
        big, small = Path(tmp, "big"), Path(tmp, "small")
        make_profile(big, args.institutions)
        make_profile(small, small_count)
        command = ["posters", "--division", CITY, "--size", args.size]
        _, floor_mb, _ = run(big, "status")
        big_runs, small_runs = [], []
        for n in range(args.rounds):  # alternate, so a busy machine slows both alike
            small_runs.append(run(small, *command, "--pdf", str(Path(tmp, f"s{n}.pdf"))))
            big_runs.append(run(big, *command, "--pdf", str(Path(tmp, f"b{n}.pdf"))))
        pdf_mb = Path(tmp, "b0.pdf").stat().st_size / 1e6
        pages = big_runs[0][2].count(" ✓")
    peaks = sorted(r[1] for r in big_runs)
    small_peak = max(r[1] for r in small_runs)
    seconds = sorted(r[0] for r in big_runs)
    per_page = [s / args.institutions * 1000 for s in seconds]
    worst_peak = peaks[-1]
    print(
        f"{pages} {args.size} pages, PDF {pdf_mb:.1f} MB ({pdf_mb * 1000 / pages:.0f} KB a page), "
        f"{args.rounds} runs each"
    )
    print(f"`fieldkit status` (start-up floor): peak {floor_mb:.0f} MB")
    print(
        f"{small_count} institutions: peak {small_peak:.0f} MB; {args.institutions}: peak "
        f"median {statistics.median(peaks):.0f} MB, worst {worst_peak:.0f} MB"
    )
    print(
        f"memory growth {args.institutions} vs {small_count} pages: "
        f"{worst_peak / small_peak:.2f}x; over the start-up floor: "
        f"{(worst_peak - floor_mb):.0f} MB"
    )
    print(
        f"time: median {statistics.median(seconds):.1f} s ({statistics.median(per_page):.0f} ms "
        f"a page), worst {seconds[-1]:.1f} s ({per_page[-1]:.0f} ms a page)"
    )
    ok = worst_peak <= TARGET_MB
    print(f"peak {worst_peak:.0f} MB vs target ≤ {TARGET_MB} MB: {'OK' if ok else 'TOO MUCH'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
