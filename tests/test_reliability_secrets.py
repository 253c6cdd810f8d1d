"""The token: written owner-only, refused when others can read it, and never shown or stored elsewhere."""

from __future__ import annotations

import json
import logging
import os
import stat
import sys
from pathlib import Path

import pytest

from cache.store import Store
from fieldkit import config, paths
from fieldkit.cli import main
from fieldkit.cli.exits import ExitCode
from fieldkit.config import ConfigError
from fieldkit.sync import SyncClient, SyncError, login
from fieldkit.sync.http import HIDDEN
from tests.fault_proxy import Reply, ScriptedServer
from tests.live_server import LiveServer
from tests.test_sync_login import KEY_A, office_routes
from tests.test_sync_office import RealOffice, visit

POSIX = pytest.mark.skipif(sys.platform == "win32", reason="POSIX file modes")
SECRET = "tok_9f8e7d6c5b4a39281706f5e4d3c2b1a0"


def every_file_holding(root: Path, needle: bytes, skip: Path) -> list[Path]:
    """Files under root (but `skip`) whose bytes contain needle."""
    return [p for p in root.rglob("*") if p.is_file() and p != skip and needle in p.read_bytes()]


@POSIX
def test_the_token_file_is_owner_only_even_over_a_lax_leftover(fieldkit_home: Path) -> None:
    folder = paths.profile_dir("default")
    folder.mkdir(parents=True)
    leftover = paths.token_file("default").with_suffix(".tmp")
    leftover.write_text("old")
    leftover.chmod(0o644)  # e.g. left by an interrupted save, under a lax umask
    path = config.save_token("default", SECRET)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and not leftover.exists()
    assert path.read_text() == SECRET
    config.save_token("second", SECRET)
    assert stat.S_IMODE(paths.profile_dir("second").stat().st_mode) & 0o077 == 0


@pytest.mark.parametrize("profile", ["../../elsewhere", "a/b", "a\\b", "", "con", "a:b", ".x"])
def test_a_profile_name_that_is_no_folder_name_is_refused_before_any_file_is_written(
    fieldkit_home: Path, profile: str, capsys: pytest.CaptureFixture[str]
) -> None:
    given = fieldkit_home.parent / "given.txt"
    given.write_text(SECRET)
    assert (
        main(["--profile", profile, "login", "http://127.0.0.1:9", "--token-file", str(given)])
        == ExitCode.USAGE
    )
    err = capsys.readouterr().err
    assert "配置名称无效" in err and "Invalid profile name" in err and "--profile work" in err
    assert main(["--profile", profile, "status"]) == ExitCode.USAGE
    assert "Invalid profile name" in capsys.readouterr().err
    with pytest.raises(ConfigError):
        config.save_token(profile, SECRET)
    assert not [p for p in fieldkit_home.parent.rglob("*") if p.is_file() and p != given]


def test_a_damaged_token_file_says_to_log_in_again(
    fieldkit_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    who = config.Technician("T0001", "张伟", "technician", "430702")
    config.save(
        config.Settings(server_url="http://127.0.0.1:9", office_public_key=KEY_A, technician=who)
    )
    path = config.save_token("default", SECRET)
    path.write_bytes(b"\xff\xfe\x00 half a token")  # garbage from a failing disk
    with pytest.raises(ConfigError, match="fieldkit login"):
        config.load_token("default")
    assert main(["sync"]) == ExitCode.NOT_LOGGED_IN
    err = capsys.readouterr().err
    assert "令牌文件" in err and "Cannot read the token file" in err


def test_profile_names_in_chinese_or_with_dots_and_dashes_work(fieldkit_home: Path) -> None:
    for profile in ("张伟", "county-2.work", "T0001"):
        config.save_token(profile, SECRET)
        assert config.load_token(profile) == SECRET
        assert config.load(profile).profile == profile


@POSIX
def test_the_profile_folder_holding_the_cache_is_owner_only_from_the_first_save(
    fieldkit_home: Path,
) -> None:
    """Contacts and visits in the cache are personal data: other users of a county machine
    cannot even list the profile folder."""
    config.save(config.Settings(profile="default"))  # login writes the settings first
    with Store.open(config.load().cache_path):
        pass
    config.save_token("default", SECRET)
    assert stat.S_IMODE(paths.profile_dir("default").stat().st_mode) & 0o077 == 0


@POSIX
@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660, 0o606])
def test_a_token_others_can_read_is_refused_with_the_fix(
    mode: int, capsys: pytest.CaptureFixture[str]
) -> None:
    path = config.save_token("default", SECRET)
    path.chmod(mode)
    with pytest.raises(ConfigError) as err:
        config.load_token("default")
    text = str(err.value)
    assert f"chmod 600 {path}" in text and "其他用户读取" in text and "readable by others" in text
    assert SECRET not in text
    config.save(
        config.Settings(
            server_url="http://127.0.0.1:9",
            office_public_key=KEY_A,
            technician=config.Technician("T0001", "李娜", "technician", "430702"),
        )
    )
    assert main(["sync"]) == ExitCode.NOT_LOGGED_IN  # refused before anything is sent
    out, err_text = capsys.readouterr()
    assert f"chmod 600 {path}" in err_text and SECRET not in out + err_text
    path.chmod(0o600)  # the fix it gave works
    assert config.load_token("default") == SECRET


@POSIX
@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="needs root to chown")
def test_a_token_file_of_another_user_is_refused() -> None:
    path = config.save_token("default", SECRET)
    os.chown(path, 4242, 4242)
    with pytest.raises(ConfigError) as err:
        config.load_token("default")
    assert "另一" in str(err.value) or "其他用户" in str(err.value)
    assert "another user" in str(err.value) and SECRET not in str(err.value)


def test_the_token_stays_in_its_file_through_a_working_day(
    tmp_path: Path,
    fieldkit_home: Path,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Login, sync, status, export, a failed sync: no output, log line or other file holds it."""
    caplog.set_level(logging.DEBUG)  # httpx and httpcore included
    real = RealOffice(tmp_path, institutions=3)
    tech = real.add("李娜")
    real.assign(tech, real.ids)
    token_file = tmp_path / "given-by-the-office.txt"
    token_file.write_text(tech.token)
    exported = tmp_path / "visits.csv"
    with LiveServer(real.db) as server:
        assert main(["login", server.url, "--token-file", str(token_file)]) == 0
        assert main(["sync"]) == 0
        with Store.open(paths.cache_file("default")) as store:
            store.create_visit(visit(tech, real.ids[0], 1, "现场核查"))
        assert main(["sync"]) == 0
        assert main(["status", "--json"]) == 0
        assert main(["status"]) == 0
        assert main(["export", "visits", "--csv", str(exported)]) == 0
    assert (
        main(["sync"]) == ExitCode.OFFLINE
    )  # the office is gone: an error message, still no token
    out, err = capsys.readouterr()
    assert "无法连接" in err
    assert tech.token not in out + err
    assert tech.token not in caplog.text and "HTTP Request" in caplog.text  # logs were captured
    held = every_file_holding(fieldkit_home, tech.token.encode(), paths.token_file("default"))
    assert held == [] and tech.token.encode() not in exported.read_bytes()
    assert paths.token_file("default").read_text() == tech.token


def echoing_office(token: str) -> dict:
    """A scripted office (or proxy) that puts the Authorization header it got in its answers."""
    routes = office_routes([KEY_A])
    said = f"Authorization: Bearer {token}"

    def push(query: str, body: bytes) -> Reply:
        ops = json.loads(body)["ops"]
        return Reply(
            200,
            json.dumps(
                {
                    "results": [
                        {
                            "op_id": op["op_id"],
                            "status": "rejected",
                            "reason": "invalid",
                            "message": f"bad request ({said})",
                        }
                        for op in ops
                    ]
                }
            ).encode(),
        )

    def pull(query: str, body: bytes) -> Reply:
        return Reply(502, json.dumps({"error": "bad_gateway", "message": said}).encode())

    routes["/api/v1/sync/push"] = push
    routes["/api/v1/sync/pull"] = pull
    return routes


async def test_an_office_echoing_the_token_never_gets_it_into_messages_or_the_cache() -> None:
    with ScriptedServer(echoing_office(SECRET)) as office:
        settings = await login(office.url, SECRET)
        store = Store.open(settings.cache_path)
        client = SyncClient(settings, store, SECRET)
        try:
            store.bulk_load(
                [
                    {
                        "id": "JG4307020001",
                        "name": "常德星辰教育",
                        "division_code": "430702",
                        "pinyin": "changdexingchenjiaoyu",
                        "initials": "cdxcjy",
                    }
                ],
                [],
            )
            store.set_step("JG4307020001", "registered", "done", by="T0001")
            with pytest.raises(SyncError) as err:
                await client.run_round()
            assert err.value.kind == "server" and SECRET not in str(err.value)
            assert HIDDEN in str(err.value)
            [rejected] = store.rejected_ops()
            assert SECRET not in rejected["message"] and HIDDEN in rejected["message"]
        finally:
            await client.aclose()
            store.close()
        routes = office.routes
        routes["/api/v1/me"] = lambda q, b: Reply(
            401,
            json.dumps({"error": "unauthorized", "message": f"unknown token {SECRET}"}).encode(),
        )
        with pytest.raises(SyncError) as refused:
            await login(office.url, SECRET, profile="other")
        assert refused.value.kind == "auth" and SECRET not in str(refused.value)
    assert every_file_holding(paths.home(), SECRET.encode(), paths.token_file("default")) == []


async def test_screenshots_never_show_the_token(tmp_path: Path) -> None:
    """The first-run screen with the token typed in, then the list after login: read as SVG."""
    from textual.widgets import Input

    from screens.app import make_app, services_for
    from tests.test_app_fixtures import settle, wait_until
    from tests.test_app_sync import quick_sync

    real = RealOffice(tmp_path, institutions=3)
    tech = real.add("李娜")
    real.assign(tech, real.ids)
    with LiveServer(real.db) as server:
        app = make_app(config.Settings(profile="default", language="zh"), None, None)
        async with app.run_test(size=(110, 32)) as pilot:
            await settle(pilot)
            app.screen.query_one("#url", Input).value = server.url
            app.screen.query_one("#token", Input).value = tech.token
            await settle(pilot)
            typed = app.export_screenshot()
            assert tech.token not in typed and "令牌" in typed  # the field is on screen, masked
            await pilot.click("#connect")
            await wait_until(pilot, lambda: config.load("default").logged_in)
            await settle(pilot)
            assert tech.token not in app.export_screenshot()
            if app.store is not None:
                app.store.close()
        settings = config.load("default")
        store, _, _ = services_for(settings)
        app = make_app(settings, store, quick_sync(settings, store))
        async with app.run_test(size=(110, 32)) as pilot:
            await settle(pilot)
            await pilot.press("s")  # whatever a key does, the screen stays free of the token
            await settle(pilot)
            shot = app.export_screenshot()
            assert "李娜" in shot and tech.token not in shot
        store.close()


async def test_an_address_carrying_credentials_is_refused_before_anything_is_saved() -> None:
    with pytest.raises(SyncError) as err:
        await login(f"https://T0001:{SECRET}@office.example.cn:8400", SECRET)
    assert err.value.kind == "config" and SECRET not in str(err.value)
    assert "用户名或密码" in err.value.zh and "user name or password" in err.value.en
    assert not paths.config_file("default").exists() and not paths.token_file("default").exists()
