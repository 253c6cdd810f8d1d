"""The office's file storage through fsspec: a folder, or an object store shared by several servers."""

from __future__ import annotations

import hashlib
import uuid
from pathlib import Path

import pytest

from fieldkit.cli import main
from fieldkit.cli.attach import attach_file
from fieldkit.evidence.storage import FileStore, HashMismatch, StorageError
from fieldkit.sync.client import RoundResult
from fieldkit.sync.uploads import Uploader
from tests.evidence_files import photo, write
from tests.live_server import LiveServer
from tests.test_sync_office import RealOffice, connect, disconnect, visit


def test_pieces_join_into_a_checked_file_in_a_folder(tmp_path: Path) -> None:
    files = FileStore(str(tmp_path / "office.files"))
    data = b"evidence " * 10_000
    digest = hashlib.sha256(data).hexdigest()
    assert files.put_piece(digest, 0, data[:40_000]) == 40_000
    assert files.progress(digest).received == 40_000 and not files.has(digest)
    files.put_piece(digest, 40_000, data[40_000:])
    assert files.finish(digest) == len(data) and files.read(digest) == data
    assert files.progress(digest).complete
    wrong = hashlib.sha256(b"other").hexdigest()
    files.put_piece(wrong, 0, data)
    with pytest.raises(HashMismatch):
        files.finish(wrong)
    assert files.progress(wrong).received == 0  # thrown away: the sender starts again


async def test_two_servers_sharing_an_object_store_resume_each_other_s_upload(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FIELDKIT_FILES", f"memory://fieldkit-{uuid.uuid4().hex}")
    real = RealOffice(tmp_path, institutions=1)
    tech = real.add("李娜")
    real.assign(tech, real.ids)
    with LiveServer(real.db) as first, LiveServer(real.db) as second:
        await connect(tech, first.url)
        assert tech.store and tech.client
        try:
            await tech.client.run_round()
            tech.store.create_visit(visit(tech, real.ids[0], 1))
            row = attach_file(
                tech.store,
                "visit",
                f"{tech.id}-v1",
                None,
                write(tmp_path / "a.jpg", photo(1)),
                tech.id,
            )
            await tech.client._push(RoundResult(), lambda *a: None)
            data = tech.store.file_path(row["sha256"]).read_bytes()
            head = await tech.client._http.put(
                f"/api/v1/uploads/{row['sha256']}", params={"offset": 0}, content=data[:300_000]
            )
            assert head.json()["received"] == 300_000
        finally:
            await disconnect(tech)
        await connect(tech, second.url)  # the proxy sends this laptop to the other server
        assert tech.store and tech.client
        try:
            result = await Uploader(tech.store, tech.client._http).run()
            assert result.files == 1 and result.bytes_sent == len(data) - 300_000
            assert second.app.state.files.read(row["sha256"]) == data
            assert first.app.state.files.has(row["sha256"])  # the same store
        finally:
            await disconnect(tech)
    assert not (tmp_path / "office.files").exists()  # nothing went to a local folder


def test_a_storage_url_that_cannot_work_is_refused_in_words(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(StorageError) as refused:
        FileStore("nosuchprotocol://bucket/files")
    assert "无效" in refused.value.zh or "需要安装" in refused.value.zh
    db = tmp_path / "office.sqlite"
    assert main(["server", "init", "--db", str(db)]) == 0
    capsys.readouterr()
    code = main(["serve", "--db", str(db), "--port", "1", "--files", "nosuchprotocol://x"])
    err = capsys.readouterr().err
    assert code != 0 and "nosuchprotocol" in err and "Traceback" not in err
