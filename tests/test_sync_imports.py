"""`fieldkit sync` loads what syncing needs and not httpx's own command line (rich, click)."""

from __future__ import annotations

import subprocess
import sys

import pytest


def test_the_sync_command_does_not_load_the_httpx_command_line() -> None:
    code = (
        "import sys, fieldkit.cli.client, httpx\n"
        "print(' '.join(m for m in ('httpx._main', 'rich', 'click') if sys.modules.get(m)))\n"
        "httpx.main()\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.stdout.splitlines()[0] == ""  # none of them
    # httpx's stub stands in for its command line, and says why it cannot run
    assert done.returncode == 1 and "command line client could not run" in done.stdout


@pytest.mark.parametrize("first", ["httpx", "fieldkit.sync"])
def test_httpx_works_whichever_is_imported_first(first: str) -> None:
    code = (
        f"import {first}\n"
        "import httpx, fieldkit.sync\n"
        "print(httpx.Client(base_url='http://127.0.0.1:9').base_url.port)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "9"
