"""`fieldkit attach`, then `fieldkit status` and `fieldkit sync`, as a technician runs them."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from cache.store import Store
from fieldkit import config
from fieldkit.cli import main
from fieldkit.sync import login
from tests.evidence_files import photo, write
from tests.live_server import LiveServer
from tests.test_sync_office import Person, RealOffice, visit


@pytest.fixture
def logged_in(tmp_path: Path) -> Iterator[tuple[Person, RealOffice]]:
    real = RealOffice(tmp_path, institutions=2)
    tech = real.add("李娜")
    real.assign(tech, real.ids)
    with LiveServer(real.db) as server:
        asyncio.run(login(server.url, tech.token))
        yield tech, real


def test_attach_then_sync_sends_the_photo_after_its_visit(
    logged_in: tuple[Person, RealOffice], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tech, real = logged_in
    assert main(["sync"]) == 0
    with Store.open(config.load().cache_path) as store:
        store.create_visit(visit(tech, real.ids[0], 1, "价目表与平台不符"))
    phone = tmp_path / "phone"
    write(phone / "IMG_0001.jpg", photo(1, size=(2400, 1800)))
    write(phone / "notes.pdf", b"%PDF-1.4 cut short")
    capsys.readouterr()
    assert main(["attach", "--visit", f"{tech.id}-v", str(phone)]) == 1  # a folder: both files
    out, err = capsys.readouterr()
    assert "✓ IMG_0001.jpg → 走访" in out and "1536×2048" in out and "未发送" in out
    assert "✗ notes.pdf" in err and "不完整" in err and "the others are saved" in err
    assert main(["status"]) == 0
    assert "待上传 / to upload: 1" in capsys.readouterr().out
    assert main(["sync"]) == 0
    out, err = capsys.readouterr()
    assert "上传文件" in out and "uploading files" in out and "MiB" in out
    assert "文件：1 个已在办公室" in out and not err.strip()
    assert main(["status", "--json"]) == 0
    assert '"waiting": 0' in capsys.readouterr().out


def test_attach_to_an_unknown_visit_says_so(
    logged_in: tuple[Person, RealOffice], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["sync"]) == 0
    capsys.readouterr()
    source = write(tmp_path / "a.jpg", photo(2, size=(800, 600)))
    assert main(["attach", "--visit", "nosuchvisit", str(source)]) == 1
    err = capsys.readouterr().err
    assert "本地没有走访" in err and "No visit" in err and "Traceback" not in err


def test_attach_takes_the_visit_short_id_as_the_app_shows_it(
    logged_in: tuple[Person, RealOffice], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tech, real = logged_in
    assert main(["sync"]) == 0
    with Store.open(config.load().cache_path) as store:
        store.create_visit(visit(tech, real.ids[0], 1, "价目表与平台不符"))
        [saved] = store.visits(real.ids[0])
    source = write(tmp_path / "a.jpg", photo(3, size=(800, 600)))
    capsys.readouterr()
    typed = f" #{saved['visit_id'][:8].upper()} "  # the visit's line in the app, pasted
    assert main(["attach", "--visit", typed, str(source)]) == 0
    assert "✓ a.jpg → 走访" in capsys.readouterr().out
