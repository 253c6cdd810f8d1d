"""Thirty photos through a connection that drops: resumed, checked, none twice, none lost."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import func, select

from fieldkit import config
from fieldkit.cli.attach import attach_file
from fieldkit.evidence import Prepared, prepare
from fieldkit.server.store import attachments, stored_files, visits
from fieldkit.sync import SyncError
from tests.evidence_files import phone_photos, write
from tests.fault_proxy import FaultProxy, Faults
from tests.live_server import LiveServer
from tests.test_sync_office import Person, RealOffice, connect, disconnect, visit

HOTSPOT = Faults(drop_before=0.04, drop_after=0.04, truncate=0.03, bad_gateway=0.03)


@pytest.fixture(scope="module")
def thirty(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[Path, Prepared]]:
    """Thirty phone photos of 3–6 MB and what attaching keeps of each (made once)."""
    folder = tmp_path_factory.mktemp("phone")
    return [(path, prepare(path)) for path in phone_photos(folder, 30)]


@pytest.fixture
def office(tmp_path: Path) -> Iterator[tuple[RealOffice, LiveServer]]:
    real = RealOffice(tmp_path, institutions=3)
    with LiveServer(real.db) as server:
        yield real, server


async def sync_until_done(person: Person, rounds: int = 60) -> None:
    """Run rounds (as the app's background sync would) until nothing waits; at most `rounds`."""
    assert person.client and person.store
    for _ in range(rounds):
        try:
            await person.client.run_round()
        except SyncError:
            continue
        if not person.store.counts().get("unsent") and not person.store.uploads_waiting():
            return
    raise AssertionError("sync did not finish")


def office_counts(real: RealOffice) -> tuple[int, int]:
    with real.server_store() as store, store.engine.connect() as conn:
        return (
            conn.execute(select(func.count()).select_from(visits)).scalar_one(),
            conn.execute(select(func.count()).select_from(stored_files)).scalar_one(),
        )


async def test_thirty_photos_taken_offline_get_through_a_dropping_hotspot(
    office: tuple[RealOffice, LiveServer], thirty: list[tuple[Path, Prepared]], tmp_path: Path
) -> None:
    real, server = office
    tech = real.add("李娜")
    real.assign(tech, real.ids)
    seen_at_first_upload: list[tuple[int, int]] = []

    def watch(method: str, path: str) -> None:
        if method == "PUT" and not seen_at_first_upload:
            seen_at_first_upload.append(office_counts(real))

    with FaultProxy(server.url, seed=13, faults=HOTSPOT, on_request=watch) as proxy:
        await connect(tech, server.url, via=proxy.url)
        assert tech.store and tech.client
        try:
            proxy.enabled = False
            await tech.client.run_round()
            proxy.enabled = True
            for n in range(3):  # offline: three visits, ten photos each
                tech.store.create_visit(visit(tech, real.ids[n], n))
                for path, _ in thirty[n * 10 : n * 10 + 10]:
                    attach_file(tech.store, "visit", f"{tech.id}-v{n}", None, path, tech.id)
            total = sum(p.size for _, p in thirty)
            assert all(3_000_000 <= path.stat().st_size <= 6_000_000 for path, _ in thirty)
            before = proxy.bytes_up
            await sync_until_done(tech)
            wire = proxy.bytes_up - before
        finally:
            await disconnect(tech)
    faults = proxy.counts()
    assert sum(n for kind, n in faults.items() if kind != "pass") >= 5, faults
    assert seen_at_first_upload == [(3, 0)]  # the visits were at the office before any file
    assert office_counts(real) == (3, 30)
    for _, kept in thirty:  # every byte checked: the office's copy hashes to its name
        stored = tmp_path / "office.files" / "files" / kept.sha256[:2] / kept.sha256
        assert hashlib.sha256(stored.read_bytes()).hexdigest() == kept.sha256
    assert not any((tmp_path / "office.files" / "partial").glob("*/*"))  # no piece left over
    with real.server_store() as store, store.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(attachments)).scalar_one() == 30
    assert total < wire < total * 1.25, (wire, total, faults)


def noisy_png() -> bytes:
    """A screenshot-sized PNG that does not compress (so it takes many upload pieces)."""
    import io

    from PIL import Image

    size = (1800, 1200)
    image = Image.merge("RGB", [Image.effect_noise(size, 80) for _ in range(3)])
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


async def test_a_killed_sync_resumes_the_upload_where_it_stopped(
    office: tuple[RealOffice, LiveServer], thirty: list[tuple[Path, Prepared]], tmp_path: Path
) -> None:
    real, server = office
    tech = real.add("李娜")
    real.assign(tech, real.ids)
    puts: list[tuple[str, int]] = []
    killer: dict[str, subprocess.Popen[bytes]] = {}
    killed = threading.Event()

    def note(method: str, path: str) -> None:
        if method != "PUT":
            return
        parts = urlsplit(path)
        puts.append((parts.path.rsplit("/", 1)[-1], int(parse_qs(parts.query)["offset"][0])))
        if len(puts) == 5 and "proc" in killer:  # the office has stored this piece
            os.kill(killer["proc"].pid, signal.SIGKILL)
            killed.set()

    with FaultProxy(server.url, seed=1, on_forwarded=note) as proxy:
        await connect(tech, server.url, via=proxy.url)
        assert tech.store and tech.client
        try:
            config.save(tech.client.settings)  # the command below goes through the proxy too
            await tech.client.run_round()
            tech.store.create_visit(visit(tech, real.ids[0], 1))
            for path, _ in thirty[:2]:  # two photos, then a screenshot of many pieces
                attach_file(tech.store, "visit", f"{tech.id}-v1", None, path, tech.id)
            big = attach_file(
                tech.store,
                "visit",
                f"{tech.id}-v1",
                None,
                write(tmp_path / "s.png", noisy_png()),
                tech.id,
            )
            assert big["size"] > 8 * 512 * 1024
            killer["proc"] = subprocess.Popen(
                [sys.executable, "-m", "fieldkit", "--profile", tech.id, "sync", "--quiet"],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
            )
            killer["proc"].wait(120)
            assert killed.is_set() and killer["proc"].returncode == -signal.SIGKILL
            first_run = list(puts)
            held = office_counts(real)[1]
            await sync_until_done(tech)
        finally:
            await disconnect(tech)
    again = puts[len(first_run) :]
    interrupted, offset = first_run[-1]
    resumed = [o for sha, o in again if sha == interrupted]
    assert resumed and resumed[0] > offset  # went on after the last piece the office held
    assert len(set(first_run) & set(again)) == 0  # no piece sent twice
    assert office_counts(real)[1] == 3 and held < 3


async def test_after_a_lost_piece_smaller_pieces_are_sent_then_larger_again(
    office: tuple[RealOffice, LiveServer], tmp_path: Path
) -> None:
    real, server = office
    tech = real.add("李娜")
    real.assign(tech, real.ids)
    offsets: list[int] = []
    proxy = FaultProxy(server.url, faults=Faults(drop_before=1.0, max_faults=1), enabled=False)

    def note(method: str, path: str) -> None:
        if method == "PUT":
            offsets.append(int(parse_qs(urlsplit(path).query)["offset"][0]))
            proxy.enabled = len(offsets) == 2  # the second piece is lost before the office

    proxy.on_request = note
    with proxy:
        await connect(tech, server.url, via=proxy.url)
        assert tech.store and tech.client
        try:
            await tech.client.run_round()
            tech.store.create_visit(visit(tech, real.ids[0], 1))
            big = attach_file(
                tech.store,
                "visit",
                f"{tech.id}-v1",
                None,
                write(tmp_path / "s.png", noisy_png()),
                tech.id,
            )
            await sync_until_done(tech)
        finally:
            await disconnect(tech)
    kib = 1024
    pieces = [b - a for a, b in zip(offsets, offsets[1:], strict=False)]
    # 512 KiB, then the lost one resent as 128 KiB, then 256, then 512 KiB pieces again
    assert offsets[:2] == [0, 512 * kib] and offsets[2] == 512 * kib
    assert pieces[:5] == [512 * kib, 0, 128 * kib, 256 * kib, 512 * kib], offsets
    assert proxy.counts()["drop_before"] == 1
    assert held_whole(real, big["sha256"])


def held_whole(real: RealOffice, sha256: str) -> bool:
    with real.server_store() as store, store.engine.connect() as conn:
        return (
            conn.execute(select(stored_files).where(stored_files.c.sha256 == sha256)).first()
            is not None
        )
