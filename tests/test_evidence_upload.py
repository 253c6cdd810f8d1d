"""Evidence reaching the office: after its record, resumable, hash-checked, never twice, by scope."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from fieldkit.cli.attach import attach_file
from fieldkit.server.store import attachments, stored_files, visits
from fieldkit.sync import SyncError
from fieldkit.sync.client import RoundResult
from fieldkit.sync.uploads import Uploader, fetch
from tests.evidence_files import pdf_document, photo, write
from tests.live_server import LiveServer
from tests.test_sync_office import Person, RealOffice, connect, disconnect, visit


@pytest.fixture
def office(tmp_path: Path) -> Iterator[tuple[RealOffice, LiveServer]]:
    real = RealOffice(tmp_path, institutions=4)
    with LiveServer(real.db) as server:
        yield real, server


@pytest.fixture
async def people(
    office: tuple[RealOffice, LiveServer],
) -> AsyncIterator[tuple[Person, Person, Person]]:
    """A technician with the first three institutions, another with the fourth, a supervisor."""
    real, server = office
    tech, other, boss = real.add("李娜"), real.add("王芳"), real.add("主管", supervisor=True)
    real.assign(tech, real.ids[:3])
    real.assign(other, real.ids[3:])
    for person in (tech, other, boss):
        await connect(person, server.url)
    yield tech, other, boss
    await disconnect(tech, other, boss)


def held(real: RealOffice) -> dict[str, int]:
    """sha256 -> size of every file the office holds whole."""
    with real.server_store() as store, store.engine.connect() as conn:
        return {r.sha256: r.size for r in conn.execute(select(stored_files))}


def office_file(tmp_path: Path, sha256: str) -> bytes:
    return (tmp_path / "office.files" / "files" / sha256[:2] / sha256).read_bytes()


async def test_photos_go_up_after_their_visit_and_follow_the_visit_s_scope(
    office: tuple[RealOffice, LiveServer], people: tuple[Person, Person, Person], tmp_path: Path
) -> None:
    real, server = office
    tech, other, boss = people
    assert tech.store and tech.client and other.client and boss.store and boss.client
    await tech.client.run_round()
    tech.store.create_visit(visit(tech, real.ids[0], 1, "前台有个人微信收款码"))
    desk = attach_file(
        tech.store, "visit", f"{tech.id}-v1", None, write(tmp_path / "desk.jpg", photo(1)), tech.id
    )
    licence = attach_file(
        tech.store,
        "visit",
        f"{tech.id}-v1",
        None,
        write(tmp_path / "l.pdf", pdf_document()),
        tech.id,
    )
    result = await tech.client.run_round()
    assert result.applied == 3 and result.uploads.files == 2 and result.uploads.skipped == 0
    assert result.uploads.bytes_sent == desk["size"] + licence["size"]
    assert held(real) == {desk["sha256"]: desk["size"], licence["sha256"]: licence["size"]}
    local = tech.store.file_path(desk["sha256"]).read_bytes()
    assert office_file(tmp_path, desk["sha256"]) == local
    assert [a["state"] for a in tech.store.attachments("visit", f"{tech.id}-v1")] == [
        "sent",
        "sent",
    ]

    # a supervisor of the zone sees the photo listed at sync, and fetches it when opening it
    await boss.client.run_round()
    listed = {a["sha256"]: a for a in boss.store.attachments(institution_id=real.ids[0])}
    assert listed[desk["sha256"]]["name"] == "desk.jpg" and not listed[desk["sha256"]]["here"]
    assert not boss.store.files_dir.exists() or not any(boss.store.files_dir.rglob("*"))
    fetched = await fetch(boss.store, boss.client._http, desk["sha256"])
    assert fetched == local and boss.store.local_file(desk["sha256"]) is not None

    # another technician is told nothing of it
    with pytest.raises(SyncError):
        await fetch(other.store, other.client._http, desk["sha256"])
    async with httpx.AsyncClient(base_url=server.url) as http:
        for person in (other,):
            answer = await http.get(
                f"/api/v1/files/{desk['sha256']}",
                headers={"Authorization": f"Bearer {person.token}"},
            )
            assert answer.status_code == 404 and answer.json()["error"] == "not_found"
            put = await http.put(
                f"/api/v1/uploads/{desk['sha256']}",
                params={"offset": 0},
                content=b"x",
                headers={"Authorization": f"Bearer {person.token}"},
            )
            assert put.status_code == 404


async def test_a_photo_the_office_has_is_not_sent_again(
    office: tuple[RealOffice, LiveServer], people: tuple[Person, Person, Person], tmp_path: Path
) -> None:
    real, _ = office
    tech, other, _ = people
    assert tech.store and tech.client and other.store and other.client
    await tech.client.run_round()
    await other.client.run_round()
    source = write(tmp_path / "poster.jpg", photo(7))
    for n in (1, 2):  # one laptop, two visits
        tech.store.create_visit(visit(tech, real.ids[n - 1], n))
        attach_file(tech.store, "visit", f"{tech.id}-v{n}", None, source, tech.id)
        result = await tech.client.run_round()
        assert result.uploads.files == (n == 1) and result.uploads.bytes_sent == (
            tech.store.attachments()[0]["size"] if n == 1 else 0
        )
    assert [a["state"] for a in tech.store.attachments()] == ["sent", "sent"]
    other.store.create_visit(visit(other, real.ids[3], 1))  # another laptop, the same photo
    attach_file(other.store, "visit", f"{other.id}-v1", None, source, other.id)
    result = await other.client.run_round()  # the pull already says the office holds it
    assert result.uploads.bytes_sent == 0 and other.store.uploads_waiting() == []
    assert [a["state"] for a in other.store.attachments()] == ["sent"]
    assert len(held(real)) == 1
    with real.server_store() as store, store.engine.connect() as conn:
        assert len(conn.execute(select(attachments)).all()) == 3


async def push_only(person: Person) -> None:
    """Push the outbox (the office applies the ops) without uploading any file."""
    assert person.client
    await person.client._push(RoundResult(), lambda *a: None)


async def test_bytes_that_do_not_match_their_hash_are_thrown_away(
    office: tuple[RealOffice, LiveServer], people: tuple[Person, Person, Person], tmp_path: Path
) -> None:
    real, server = office
    tech, _, _ = people
    assert tech.store and tech.client
    await tech.client.run_round()
    tech.store.create_visit(visit(tech, real.ids[0], 1))
    row = attach_file(
        tech.store,
        "visit",
        f"{tech.id}-v1",
        None,
        write(tmp_path / "c.pdf", pdf_document("c")),
        tech.id,
    )
    await push_only(tech)
    auth = {"Authorization": f"Bearer {tech.token}"}
    wrong = bytes(reversed(tech.store.file_path(row["sha256"]).read_bytes()))  # same size
    async with httpx.AsyncClient(base_url=server.url, headers=auth) as http:
        answer = await http.put(
            f"/api/v1/uploads/{row['sha256']}", params={"offset": 0}, content=wrong
        )
        assert answer.status_code == 422 and answer.json()["error"] == "hash_mismatch"
        assert "从头重传" in answer.json()["message"]
        state = (await http.get(f"/api/v1/uploads/{row['sha256']}")).json()
        assert state == {
            "sha256": row["sha256"],
            "size": row["size"],
            "received": 0,
            "complete": False,
        }
        late = await http.put(
            f"/api/v1/uploads/{row['sha256']}", params={"offset": 5}, content=b"abc"
        )
        assert late.status_code == 409 and "0 字节" in late.json()["message"]
    assert row["sha256"] not in held(real)
    result = await tech.client.run_round()  # the laptop's true bytes still go through
    assert result.uploads.files == 1 and row["sha256"] in held(real)
    assert hashlib.sha256(office_file(tmp_path, row["sha256"])).hexdigest() == row["sha256"]


async def test_an_attachment_for_a_record_the_office_lacks_is_refused_in_words(
    office: tuple[RealOffice, LiveServer], people: tuple[Person, Person, Person], tmp_path: Path
) -> None:
    real, _ = office
    tech, _, _ = people
    assert tech.store and tech.client
    await tech.client.run_round()
    tech.store.create_visit(visit(tech, real.ids[0], 1))
    attach_file(
        tech.store,
        "visit",
        f"{tech.id}-v1",
        None,
        write(tmp_path / "a.pdf", pdf_document()),
        tech.id,
    )
    with tech.store._tx() as conn:  # as if the visit's op had been lost: the file alone goes
        conn.execute("DELETE FROM outbox WHERE kind = 'visit.create'")
    result = await tech.client.run_round()
    assert result.rejected == 1 and result.uploads.files == 0
    [refused] = tech.store.rejected_ops()
    assert refused["reason"] == "unknown_record" and "办公室没有" in refused["message"]
    assert [a["state"] for a in tech.store.attachments()] == ["rejected"]
    assert tech.store.local_file(tech.store.attachments()[0]["sha256"]) is not None  # kept


async def test_a_full_office_disk_keeps_the_file_on_the_laptop_until_there_is_room(
    office: tuple[RealOffice, LiveServer],
    people: tuple[Person, Person, Person],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import errno

    real, _ = office
    tech, _, _ = people
    assert tech.store and tech.client
    await tech.client.run_round()
    tech.store.create_visit(visit(tech, real.ids[0], 1))
    row = attach_file(
        tech.store,
        "visit",
        f"{tech.id}-v1",
        None,
        write(tmp_path / "a.jpg", photo(3, size=(1600, 1200))),
        tech.id,
    )

    def full(path: Path, data: bytes) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("fieldkit.evidence.storage._write_synced", full)
    with pytest.raises(SyncError) as stopped:
        await tech.client.run_round()
    assert "存储空间已满" in stopped.value.zh and "storage is full" in stopped.value.en
    assert tech.store.uploads_waiting()[0]["sha256"] == row["sha256"]
    monkeypatch.undo()
    result = await tech.client.run_round()
    assert result.uploads.files == 1 and row["sha256"] in held(real)


async def test_the_uploader_sends_in_bounded_pieces(
    office: tuple[RealOffice, LiveServer], people: tuple[Person, Person, Person], tmp_path: Path
) -> None:
    real, _ = office
    tech, _, _ = people
    assert tech.store and tech.client
    await tech.client.run_round()
    tech.store.create_visit(visit(tech, real.ids[0], 1))
    row = attach_file(
        tech.store, "visit", f"{tech.id}-v1", None, write(tmp_path / "a.jpg", photo(4)), tech.id
    )
    await push_only(tech)
    seen: list[tuple[str, int, int]] = []
    result = await Uploader(tech.store, tech.client._http, piece=64 * 1024).run(
        lambda phase, done, total: seen.append((phase, done, total))
    )
    assert result.files == 1 and seen[-1] == ("upload", row["size"], row["size"])
    assert len(seen) >= row["size"] // (64 * 1024)
    with real.server_store() as store, store.engine.connect() as conn:
        assert conn.execute(select(visits.c.visit_id)).scalars().all() == [f"{tech.id}-v1"]


async def test_the_status_bar_follows_the_upload(
    office: tuple[RealOffice, LiveServer], people: tuple[Person, Person, Person], tmp_path: Path
) -> None:
    from fieldkit.sync import BackgroundSync
    from screens.widgets.status_bar import StatusView, render_status

    real, _ = office
    tech, _, _ = people
    assert tech.store and tech.client
    await tech.client.run_round()
    tech.store.create_visit(visit(tech, real.ids[0], 1))
    row = attach_file(
        tech.store, "visit", f"{tech.id}-v1", None, write(tmp_path / "a.jpg", photo(5)), tech.id
    )
    seen: list = []
    background = BackgroundSync(tech.client, seen.append)
    background.status = background.status.__class__(files_waiting=1)
    assert await background._round() is None
    uploads = [s.uploading for s in seen if s.uploading is not None]
    assert uploads[-1] == (row["size"], row["size"]) and len(uploads) >= 2
    assert seen[-1].uploading is None and seen[-1].files_waiting == 0
    line = render_status(StatusView(configured=True, online=True, uploading=uploads[0]), "zh")
    assert "上传文件" in line.plain and "MiB" in line.plain
    waiting = render_status(StatusView(configured=True, online=False, files_waiting=2), "en")
    assert "files to upload 2" in waiting.plain


async def test_the_office_refuses_in_words_what_exceeds_its_limits(
    office: tuple[RealOffice, LiveServer], people: tuple[Person, Person, Person]
) -> None:
    from fieldkit import domain
    from tests.live_server import make_op

    real, server = office
    tech, _, _ = people
    assert tech.store and tech.client
    await tech.client.run_round()
    tech.store.create_visit(visit(tech, real.ids[0], 1))
    await push_only(tech)
    clock = domain.HLC("bench-client")
    base = {
        "record": "visit",
        "record_id": f"{tech.id}-v1",
        "item": None,
        "sha256": "c" * 64,
        "mime": "image/jpeg",
        "name": "big.jpg",
    }
    ops = []
    for size, mime in ((30 * 1024 * 1024, "image/jpeg"), (1000, "text/html")):
        op = make_op("attachment.add", real.ids[0], base | {"size": size, "mime": mime}, clock)
        op["data"]["attachment_id"] = op["op_id"]
        ops.append(op)
    async with httpx.AsyncClient(base_url=server.url) as http:
        answer = await http.post(
            "/api/v1/sync/push",
            json={"client_id": "c1", "ops": ops},
            headers={"Authorization": f"Bearer {tech.token}"},
        )
    big, html = answer.json()["results"]
    assert big["status"] == "rejected" and big["reason"] == "too_large"
    assert "超过办公室的上限" in big["message"] and "over the office's" in big["message"]
    assert html["status"] == "rejected" and "JPEG" in html["message"]
