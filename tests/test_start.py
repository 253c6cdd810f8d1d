"""Start: the list is painted before anything it does not need is loaded or started.

Each test runs a fresh Python (a subprocess), as `fieldkit` starts, so what an earlier test
imported cannot hide what the start itself loads. The time it takes is measured by
benchmarks/bench_app.py; these pin the laziness it rests on, so it cannot silently regress.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from cache.store import Store
from fieldkit import config, paths
from fieldkit.cli import build_parser, parse_command_line
from tests.test_app_fixtures import county_rows, technician_settings

# What the first paint of the list never needs: the sync (httpx and what it pulls), QR codes,
# images, PDFs, spreadsheets, pinyin, signatures, the office's server.
HEAVY = (
    "httpx",
    "httpcore",
    "anyio",
    "h11",
    "PIL",
    "qrcode",
    "zxingcpp",
    "textual_image",
    "fpdf",
    "openpyxl",
    "pypinyin",
    "sqlite_utils",
    "cryptography",
    "fastapi",
    "uvicorn",
    "sqlalchemy",
    "numpy",  # the search index: built in a worker once the list is shown
    "hashlib",  # (OpenSSL) photos' and files' digests
)
# The project's modules that only other screens and commands use.
LATER = (
    "fieldkit.sync",
    "fieldkit.cli.client",
    "fieldkit.evidence",
    "fieldkit.payment",
    "fieldkit.server",
    "fieldkit.documents",
    "screens.institution",
    "screens.visit",
    "screens.qr",
    "screens.dashboard",
    "screens.sync_screen",
    "screens.settings",
    "screens.ledger",
    "screens.due_list",
    "screens.first_run",
    "screens.help",
    "screens.photo_watch",
    "screens.dialogs.preview",  # and with it the terminal's image question
)

# Starts the app as `fieldkit` does (the command line, the profile's services, the app) headless,
# and reports what was loaded when the app started its services: right after the first paint.
START = """
import asyncio, json, sys
from fieldkit import config
from fieldkit.cli import parse_command_line
from screens.start import services_for
from screens.app import make_app
from screens.widgets.virtual_table import VirtualTable

report = {}

async def main():
    args = parse_command_line([])
    settings = config.load(args.profile)
    store, sync, notice = services_for(settings)
    app = make_app(settings, store, sync)
    start_services = app.start_services

    def watched():
        report["rows_painted"] = app.screen.query_one(VirtualTable).row_count
        report["loaded_at_first_paint"] = sorted(sys.modules)
        start_services()

    app.start_services = watched
    async with app.run_test(size=(120, 40)) as pilot:
        for _ in range(100):
            await pilot.pause(0.05)
            if app.sync is not None:
                break
        report["sync_built"] = app.sync is not None
        report["loaded_later"] = sorted(sys.modules)
    store.close()

asyncio.run(main())
print(json.dumps(report))
"""


@pytest.fixture
def logged_in_profile(tmp_path: Path) -> Path:
    """A technician's profile with a synced cache of one county; its office does not answer."""
    config.save(technician_settings())
    config.save_token("default", "b" * 43)
    with Store.open(paths.cache_file("default")) as store:
        store.bulk_load(*county_rows())
    return paths.home()


def _run(code: str, home: Path) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        encoding="utf-8",
        env={**os.environ, "FIELDKIT_HOME": str(home)},  # pictures on: asked at the first one
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    report: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return report


def _among(loaded: object, prefixes: tuple[str, ...]) -> list[str]:
    assert isinstance(loaded, list)
    return [m for m in loaded if any(m == p or m.startswith(p + ".") for p in prefixes)]


def test_the_list_is_painted_before_the_sync_and_the_other_screens_are_loaded(
    logged_in_profile: Path,
) -> None:
    report = _run(START, logged_in_profile)
    assert report["rows_painted"] == len(county_rows()[0])  # the first page, on the first paint
    assert _among(report["loaded_at_first_paint"], HEAVY) == []
    assert _among(report["loaded_at_first_paint"], LATER) == []
    # afterwards the background sync is built (in a thread worker) and runs
    assert report["sync_built"] is True
    assert "httpx" in _among(report["loaded_later"], HEAVY)
    assert "screens.photo_watch" in _among(report["loaded_later"], LATER)


def test_plain_fieldkit_is_read_as_the_full_parser_reads_it(
    logged_in_profile: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`fieldkit` alone skips building every command's parser; it must mean the same."""
    for named in (None, "work"):
        if named:
            monkeypatch.setenv("FIELDKIT_PROFILE", named)
        fast, full = parse_command_line([]), build_parser("en").parse_args([])
        assert vars(fast) == vars(full)
        assert fast.profile.chosen_by == full.profile.chosen_by
