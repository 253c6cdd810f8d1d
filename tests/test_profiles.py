"""One profile story: the commands act on the profile the app last opened, say so, and refuse
(exit 3, in words) a profile that has no login. The demo's own run is in test_demo_pty."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path

import pytest

from fieldkit import config, paths, profiles
from fieldkit.cli import main
from fieldkit.cli.exits import ExitCode
from fieldkit.sync import login
from screens.app import make_app, services_for
from tests.live_server import LiveServer, SmallOffice, small_office
from tests.test_app_fixtures import settle


async def test_after_the_app_opened_the_demo_profile_the_commands_use_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    office: SmallOffice = small_office(tmp_path)
    with LiveServer(office.db) as server:
        settings = await login(server.url, office.tokens["tech_a"], "demo-technician")
        store, sync, _notice = services_for(settings)  # how `fieldkit demo` opens the app
        app = make_app(settings, store, None)
        async with app.run_test(size=(100, 30)) as pilot:
            await settle(pilot)
        store.close()
    capsys.readouterr()

    assert main(["status", "--json"]) == ExitCode.OK
    report = json.loads(capsys.readouterr().out)
    assert report["profile"] == "demo-technician" and report["technician"]["id"] == "T0001"
    assert report["profile_chosen_by"] == "last_opened"

    assert main(["status"]) == ExitCode.OK
    out = capsys.readouterr().out
    assert "配置 / Profile: demo-technician" in out and "应用上次打开的配置" in out
    assert "--profile NAME chooses another" in out

    target = tmp_path / "visits.csv"
    assert main(["export", "visits", "--csv", str(target)]) == ExitCode.OK
    err = capsys.readouterr().err
    assert "使用配置 demo-technician" in err and "--profile NAME chooses another" in err
    assert target.read_text("utf-8-sig").startswith("visit_id,")

    # named outright, another profile is used as given; not logged in, it says what to do
    assert main(["--profile", "default", "status"]) == ExitCode.NOT_LOGGED_IN
    err = capsys.readouterr().err
    assert "配置 default 尚未登录" in err and "--profile demo-technician" in err
    assert "logged in: demo-technician" in err
    for argv in (
        ["qr", office.wuling[0], "--png", str(tmp_path / "x.png")],
        ["notice", "abcd", "--pdf", str(tmp_path / "n.pdf")],
        ["export", "visits", "--csv", str(tmp_path / "v.csv")],
        ["sync"],
    ):
        assert main(["--profile", "default", *argv]) == ExitCode.NOT_LOGGED_IN, argv
        assert "配置 default 尚未登录" in capsys.readouterr().err
    assert not (tmp_path / "x.png").exists() and not (tmp_path / "v.csv").exists()


def test_a_real_login_after_the_demo_goes_to_default_not_into_the_demo(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    office: SmallOffice = small_office(tmp_path)
    token = tmp_path / "token.txt"
    token.write_text(office.tokens["tech_b"], "utf-8")
    with LiveServer(office.db) as server:
        demo = asyncio.run(login(server.url, office.tokens["tech_a"], "demo-technician"))
        profiles.remember(demo.profile)
        assert main(["login", server.url, "--token-file", str(token)]) == ExitCode.OK
    said = capsys.readouterr()
    assert "profile default" in said.out
    # the login says which profile commands still use, and how to reach the new one
    assert "仍使用配置 demo-technician" in said.err and "fieldkit --profile default" in said.err
    assert config.load("default").technician.id == "T0002"  # type: ignore[union-attr]
    assert config.load("demo-technician").technician.id == "T0001"  # type: ignore[union-attr]
    # only the app opening a profile makes it the one in use: status still says the truth
    assert profiles.last_opened() == "demo-technician"
    assert main(["status", "--json"]) == ExitCode.OK
    report = json.loads(capsys.readouterr().out)
    assert report["profile"] == "demo-technician" and report["profile_chosen_by"] == "last_opened"
    assert main(["--profile", "default", "status", "--json"]) == ExitCode.OK
    assert json.loads(capsys.readouterr().out)["technician"]["id"] == "T0002"


def test_fieldkit_profile_in_the_environment_wins_over_the_last_opened(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    profiles.remember("demo-technician")
    monkeypatch.setenv("FIELDKIT_PROFILE", "work")
    assert main(["status", "--json"]) == ExitCode.NOT_LOGGED_IN
    assert json.loads(capsys.readouterr().out)["profile"] == "work"
    monkeypatch.delenv("FIELDKIT_PROFILE")
    (config.paths.home() / "profiles" / "last-opened").write_text("../elsewhere", "utf-8")
    assert profiles.current() == "default"  # a note that is no profile name is not followed


def test_help_and_usage_errors_speak_the_last_opened_profiles_language(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("FIELDKIT_LANG")  # the language comes from a profile, not the system
    config.save(config.Settings(profile="default", language="zh"))
    config.save(config.Settings(profile="demo-technician", language="en"))
    profiles.remember("demo-technician")  # as `fieldkit demo` leaves it
    assert main(["qr", "--help"]) == ExitCode.OK
    out = capsys.readouterr().out
    assert out.startswith("usage:") and "write a PDF here" in out and "写入 PDF 文件" not in out
    assert main(["qr", "JG4307020001", "--size", "a3"]) == ExitCode.USAGE
    assert "invalid choice: 'a3'" in capsys.readouterr().err
    # named outright, a profile speaks its own language
    assert main(["--profile", "default", "qr", "--help"]) == ExitCode.OK
    assert "写入 PDF 文件" in capsys.readouterr().out
    monkeypatch.setenv("FIELDKIT_PROFILE", "default")
    assert main(["qr", "--help"]) == ExitCode.OK
    assert "写入 PDF 文件" in capsys.readouterr().out


def test_the_last_opened_note_is_written_only_when_the_profile_changes() -> None:
    note = paths.home() / "profiles" / "last-opened"
    profiles.remember("default")
    assert note.read_text("utf-8") == "default"
    note.touch()
    stamp = note.stat().st_mtime_ns
    os.utime(note, ns=(stamp - 10**9, stamp - 10**9))  # a second ago: a rewrite would show
    profiles.remember("default")  # every start of the same profile: no write
    assert note.stat().st_mtime_ns == stamp - 10**9
    profiles.remember("demo-technician")
    assert note.read_text("utf-8") == "demo-technician"
    assert profiles.current() == "demo-technician"


def test_after_a_login_the_profile_in_use_is_read_once_and_named_in_both_languages(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from fieldkit.cli import client

    profiles.remember("demo-technician")
    reads: list[str] = []
    current = profiles.current

    def counted() -> profiles.ProfileName:
        reads.append("current")
        return current()

    monkeypatch.setattr(profiles, "current", counted)
    client._say_how_to_use("default")
    said = capsys.readouterr().err
    assert len(reads) == 1  # one read of the note: the sentence names the profile it compared
    assert "仍使用配置 demo-technician" in said and "still use profile demo-technician" in said
