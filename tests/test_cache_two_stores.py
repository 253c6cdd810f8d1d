"""Two Stores on one cache file in one process (the login's hand-over check opens a second one
while the app may hold the first): neither strips the other's file locks, so another process
never deletes the -shm file under them and always sees what they wrote."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from cache.store import Store

ROOT = Path(__file__).resolve().parents[1]


def _other_process_reads(path: Path, key: str) -> str:
    """Open the cache in another process, read one meta value, close it (the last to close)."""
    code = (
        "import sys\n"
        "from pathlib import Path\n"
        "from cache.store import Store\n"
        "with Store.open(Path(sys.argv[1])) as store:\n"
        "    print(store.get_meta(sys.argv[2]))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(path), key],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
        timeout=60,
    )
    return done.stdout.strip()


def test_a_second_store_opened_and_closed_leaves_the_first_one_whole(tmp_path: Path) -> None:
    path = tmp_path / "cache.sqlite"
    Store.open(path).close()
    first = Store.open(path)
    try:
        Store.open(path).close()  # e.g. `fieldkit login`'s hand-over check
        assert _other_process_reads(path, "probe") == "None"
        assert Path(f"{path}-shm").exists()  # not deleted while `first` holds the file
        first.set_meta("probe", "written by the first store")
        assert _other_process_reads(path, "probe") == "written by the first store"
    finally:
        first.close()
    with Store.open(path) as again:  # checked afresh once nothing here holds it
        assert again.get_meta("probe") == "written by the first store"
