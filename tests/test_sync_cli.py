"""`fieldkit sync`, `status` and `export visits` from the command line, on a real office."""

from __future__ import annotations

import asyncio
import csv
import json
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from cache.store import Store
from fieldkit import config, paths
from fieldkit.cli import main
from fieldkit.cli.exits import ExitCode
from fieldkit.sync import login
from tests.live_server import LiveServer, free_port
from tests.test_sync_office import Person, RealOffice, visit


@pytest.fixture
def logged_in(tmp_path: Path) -> Iterator[tuple[Person, RealOffice, LiveServer]]:
    real = RealOffice(tmp_path, institutions=4)
    tech = real.add("李娜")
    real.assign(tech, real.ids)
    with LiveServer(real.db) as server:
        asyncio.run(login(server.url, tech.token))
        yield tech, real, server


def test_status_before_login_says_so_and_exits_3(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["status"]) == ExitCode.NOT_LOGGED_IN
    out, err = capsys.readouterr()
    assert "未登录" in out and "配置 / Profile: default" in out
    assert "配置 default 尚未登录" in err and "Profile default is not logged in" in err
    assert main(["status", "--json"]) == ExitCode.NOT_LOGGED_IN
    report = json.loads(capsys.readouterr().out)
    assert report["server"] is None and report["unsent"] == 0


def test_export_before_any_sync_writes_the_header_and_creates_no_cache(
    fieldkit_home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "visits.csv"
    assert main(["export", "visits", "--csv", str(target)]) == ExitCode.NOT_LOGGED_IN
    assert "尚未登录" in capsys.readouterr().err and not target.exists()
    config.save(
        config.Settings(
            server_url="http://127.0.0.1:1",
            office_public_key="k",
            technician=config.Technician("T0001", "李娜", "technician", "430702"),
        )
    )
    assert main(["export", "visits", "--csv", str(target)]) == 0
    assert "Exported 0 visits" in capsys.readouterr().out
    assert target.read_text("utf-8-sig").startswith("visit_id,institution_id,")
    assert not paths.cache_file("default").exists()


def test_sync_before_login_tells_what_to_do(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sync"]) == ExitCode.NOT_LOGGED_IN
    assert "fieldkit login" in capsys.readouterr().err


def test_sync_shows_progress_and_status_counts_what_waits(
    logged_in: tuple[Person, RealOffice, LiveServer], capsys: pytest.CaptureFixture[str]
) -> None:
    tech, real, server = logged_in
    assert main(["sync"]) == 0
    out, err = capsys.readouterr()
    assert "接收" in out and "receiving" in out and "完成" in out
    assert "时钟" not in err and "clock" not in err  # this computer and the office agree
    with Store.open(config.load().cache_path) as store:
        for n in range(3):
            store.create_visit(visit(tech, real.ids[n], n, f"走访记录{n}"))
    assert main(["status", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["server"] == server.url and report["technician"]["name"] == "李娜"
    assert report["unsent"] == 3 and report["rejected"] == 0
    assert report["counts"]["institutions"] == 4 and report["last_sync"]
    assert main(["sync"]) == 0
    assert "发送 3/3" in capsys.readouterr().out
    assert main(["status"]) == 0
    assert "未发送 / Unsent: 0" in capsys.readouterr().out


@pytest.mark.skipif(not hasattr(time, "tzset"), reason="TZ is read by tzset on POSIX only")
def test_status_shows_the_last_sync_in_local_time(
    logged_in: tuple[Person, RealOffice, LiveServer],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert main(["sync", "--quiet"]) == 0
    capsys.readouterr()
    monkeypatch.setenv("TZ", "Asia/Shanghai")
    time.tzset()
    try:
        assert main(["status", "--json"]) == 0
        stamp = json.loads(capsys.readouterr().out)["last_sync"]
        assert stamp.endswith("+00:00")  # scripts get UTC
        assert main(["status"]) == 0
        shown = datetime.fromisoformat(stamp).astimezone(timezone(timedelta(hours=8)))
        line = f"上次同步 / Last sync: {shown.isoformat(sep=' ')}"
        assert line in capsys.readouterr().out and line.endswith("+08:00")
    finally:
        monkeypatch.undo()
        time.tzset()


def test_sync_with_the_office_unreachable_fails_and_keeps_the_work(
    logged_in: tuple[Person, RealOffice, LiveServer], capsys: pytest.CaptureFixture[str]
) -> None:
    tech, real, server = logged_in
    assert main(["sync", "--quiet"]) == 0
    with Store.open(config.load().cache_path) as store:
        store.set_step(real.ids[0], "parent_app", "in_progress", by=tech.id)
    settings = config.load()
    config.save(replace(settings, server_url=f"http://127.0.0.1:{free_port()}"))
    assert main(["sync"]) == ExitCode.OFFLINE
    err = capsys.readouterr().err
    assert "同步未完成" in err and "offline" in err
    assert "未发送 / unsent: 1" in err  # (not just any "1": the address holds some)
    assert "请检查网络和服务器地址" in err and "run the command again" in err
    config.save(settings)
    assert main(["sync", "--quiet"]) == 0
    with Store.open(config.load().cache_path) as store:
        assert store.counts()["unsent"] == 0


def test_a_file_that_is_not_a_cache_is_kept_aside_untouched_and_the_cache_pulled_afresh(
    logged_in: tuple[Person, RealOffice, LiveServer], capsys: pytest.CaptureFixture[str]
) -> None:
    cache = paths.cache_file("default")
    cache.parent.mkdir(parents=True, exist_ok=True)
    cache.write_bytes(b"my holiday photos")
    assert main(["status"]) == ExitCode.CACHE_UNUSABLE  # status only explains, changes nothing
    err = capsys.readouterr().err
    assert "不是 fieldkit 的本地缓存" in err and "fieldkit sync" in err
    assert cache.read_bytes() == b"my holiday photos"
    assert main(["sync"]) == 0
    err = capsys.readouterr().err
    aside = [p for p in cache.parent.iterdir() if p.name.startswith("cache.sqlite.damaged-")]
    assert len(aside) == 1 and aside[0].read_bytes() == b"my holiday photos"
    assert str(aside[0]) in err and "改名保留" in err and "kept aside" in err
    with Store.open(cache) as store:
        assert store.counts()["institutions"] == 4


def test_a_refused_token_is_explained_once_in_each_language(
    logged_in: tuple[Person, RealOffice, LiveServer],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    tech, real, server = logged_in
    wrong = tmp_path / "token.txt"
    wrong.write_text("fk_not_a_token")
    assert main(["login", server.url, "--token-file", str(wrong)]) == ExitCode.NOT_LOGGED_IN
    err = capsys.readouterr().err
    zh, _, en = err.partition(" / The token")
    assert "令牌无效或已被撤销" in zh and "fieldkit login" in zh
    assert "invalid or has been revoked" in en and "fieldkit login" in en
    assert not any("\u4e00" <= c <= "\u9fff" for c in en), en  # the office's words split too
    assert "the token is not valid" not in zh


def test_login_where_nothing_can_be_written_says_what_to_check(
    logged_in: tuple[Person, RealOffice, LiveServer],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    tech, real, server = logged_in
    given = tmp_path / "token.txt"
    given.write_text(tech.token)
    not_a_folder = tmp_path / "a-file"
    not_a_folder.write_text("")
    monkeypatch.setenv("FIELDKIT_HOME", str(not_a_folder))
    assert main(["login", server.url, "--token-file", str(given)]) == 1
    err = capsys.readouterr().err
    assert "无法保存" in err and "Cannot save" in err and "FIELDKIT_HOME" in err
    assert not_a_folder.read_text() == ""


def test_export_visits_writes_csv_excel_reads(
    logged_in: tuple[Person, RealOffice, LiveServer],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    tech, real, server = logged_in
    assert main(["sync", "--quiet"]) == 0
    with Store.open(config.load().cache_path) as store:
        for n in range(2):
            store.create_visit(visit(tech, real.ids[n], n, f"整改意见，第{n}条"))
    target = tmp_path / "visits.csv"
    assert main(["export", "visits", "--csv", str(target)]) == 0
    out = capsys.readouterr().out  # (any "2" would do: the tmp path holds some)
    assert "已导出 2 条走访记录" in out and "Exported 2 visits" in out
    raw = target.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(raw.decode("utf-8-sig").splitlines()))
    assert sorted(r["notes"] for r in rows) == ["整改意见，第0条", "整改意见，第1条"]
    assert {r["institution_name"] for r in rows} <= {i["name"] for i in real.institutions}
    assert all(r["institution_name"] and r["sync_state"] == "unsent" for r in rows)


def test_export_keeps_notes_that_look_like_formulas_as_text(
    logged_in: tuple[Person, RealOffice, LiveServer],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A note typed as '=HYPERLINK(...)' must not become a live formula in the office's Excel."""
    tech, real, server = logged_in
    assert main(["sync", "--quiet"]) == 0
    notes = ['=HYPERLINK("http://x.example","点此")', "+1 电话回访", "@所有人", "正常备注"]
    with Store.open(config.load().cache_path) as store:
        for n, text in enumerate(notes):
            store.create_visit(visit(tech, real.ids[0], n, text))
    target = tmp_path / "visits.csv"
    assert main(["export", "visits", "--csv", str(target)]) == 0
    rows = list(csv.DictReader(target.read_text("utf-8-sig").splitlines()))
    assert sorted(r["notes"] for r in rows) == sorted(
        ["'" + t if t[0] in "=+@" else t for t in notes]
    )
    assert {r["started_at"][:2] for r in rows} == {"20"}  # dates are left as they are


def test_sync_names_each_rejected_change_and_why(
    logged_in: tuple[Person, RealOffice, LiveServer], capsys: pytest.CaptureFixture[str]
) -> None:
    tech, real, server = logged_in
    assert main(["sync", "--quiet"]) == 0
    with Store.open(config.load().cache_path) as store:
        store.set_step(real.ids[0], "parent_app", "in_progress", by=tech.id)
    other = real.add("张伟")
    real.assign(other, [real.ids[0]])  # the office moved it while the laptop was offline
    assert main(["sync", "--quiet"]) == 0
    err = capsys.readouterr().err
    assert "被服务器拒绝" in err and real.ids[0] in err and "未分配给您" in err
    assert main(["status", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["rejected"] == 1 and report["rejected_ops"][0]["reason"] == "not_assigned"


def test_export_names_the_steps_advanced_in_both_languages(
    logged_in: tuple[Person, RealOffice, LiveServer],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    tech, real, server = logged_in
    assert main(["sync", "--quiet"]) == 0
    with Store.open(config.load().cache_path) as store:
        steps = ("registered", "personnel")
        store.create_visit(replace(visit(tech, real.ids[0], 1), steps_advanced=steps))
    target = tmp_path / "visits.csv"
    assert main(["export", "visits", "--csv", str(target)]) == 0
    [row] = list(csv.DictReader(target.read_text("utf-8-sig").splitlines()))
    assert row["steps_advanced"].split("；") == [
        "平台注册 Platform registration",
        "人员审核 Personnel review",
    ]
