"""The office's address as typed with a Chinese input method: put right when it can be, a sentence in
both languages when it cannot, from `fieldkit login` and from the app's connect screen (which never
stays on "checking")."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from textual.widgets import Button, Input

from fieldkit import config
from fieldkit.cli import main
from fieldkit.sync import SyncError
from fieldkit.sync.address import clean_address
from fieldkit.sync.http import normalise_url
from screens.assignments import AssignmentsScreen
from screens.first_run import FirstRunScreen
from screens.widgets.wrapped import WrappedText
from tests.live_server import LiveServer, free_port, small_office
from tests.test_app_fixtures import app_for, settle, wait_until

# typed -> what is used
PUT_RIGHT = [
    ("http://127.0.0.1：8400", "http://127.0.0.1:8400"),
    ("http：／／127.0.0.1：8400／", "http://127.0.0.1:8400"),
    ("https://office。example：8400", "https://office.example:8400"),
    (" https://office.example:8400 ", "https://office.example:8400"),
    ("https ://office.example : 8400", "https://office.example:8400"),
    ("ｈｔｔｐｓ：／／ｏｆｆｉｃｅ．ｅｘａｍｐｌｅ", "https://office.example"),
    ("office.example:8400", "https://office.example:8400"),
    ("127.0.0.1:8400", "http://127.0.0.1:8400"),
    ("localhost：8400", "http://localhost:8400"),
    ("https://office.example/fieldkit/", "https://office.example/fieldkit"),
]

# typed -> (a Chinese word and an English word the sentence must hold)
MALFORMED = [
    ("http://127.0.0.1:99999", ("超出范围", "out of range")),
    ("http://127.0.0.1:65536", ("超出范围", "out of range")),
    ("http://127.0.0.1:18471:1", ("多个冒号", "more than one port")),
    ("https://office.example:8400:8400/", ("多个冒号", "more than one port")),
    ("http://[::1]:8400:1", ("多个冒号", "more than one port")),
    ("http://127.0.0.1:84oo", ("不是数字", "not a number")),
    ("http://127.0.0.1:", ("缺少端口", "missing")),
    ("http://:8400", ("缺少服务器的主机名", "host name or IP address is missing")),
    ("https://", ("缺少服务器的主机名", "missing")),
    ("https://office_example:8400", ("不允许的字符", "characters a host name cannot")),
    ("https://300.1.1.1:8400", ("IP 地址", "IP address")),
    ("ftp://office.example", ("只能使用 https://", "only https://")),
    ("http://office.example:8400", ("只能通过 https", "https only")),
]


@pytest.mark.parametrize(("typed", "used"), PUT_RIGHT)
def test_input_method_characters_and_spaces_are_put_right(typed: str, used: str) -> None:
    assert normalise_url(typed) == used


@pytest.mark.parametrize(("typed", "words"), MALFORMED)
def test_a_malformed_address_is_a_sentence_in_both_languages(
    typed: str, words: tuple[str, str]
) -> None:
    with pytest.raises(SyncError) as caught:
        normalise_url(typed)
    assert caught.value.kind == "config"
    assert words[0] in caught.value.zh and words[1] in caught.value.en
    assert "https://" in caught.value.zh and "https://" in caught.value.en  # what to type


def test_clean_address_keeps_a_chinese_host() -> None:
    assert clean_address("https://教育局。中国：8400") == "https://教育局.中国:8400"


@pytest.mark.parametrize(("typed", "words"), MALFORMED)
def test_login_refuses_a_malformed_address_before_asking_for_the_token(
    typed: str,
    words: tuple[str, str],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))  # the token would be read from here
    assert main(["login", typed, "--token-file", "-"]) == 5  # README: a value given was refused
    err = capsys.readouterr().err
    assert words[0] in err and words[1] in err
    assert "登录失败 / Login failed" in err
    assert not config.load("default").logged_in


def test_login_with_a_full_width_colon_reaches_the_office(tmp_path: Path) -> None:
    """The real command in its own process, as a technician runs it: no traceback, logged in."""
    office = small_office(tmp_path)
    with LiveServer(office.db) as server:
        typed = f"http://127.0.0.1：{server.port}／"
        done = subprocess.run(
            [sys.executable, "-m", "fieldkit", "login", typed, "--token-file", "-"],
            input=office.tokens["tech_a"],
            capture_output=True,
            text=True,
            env=dict(os.environ),
            timeout=60,
        )
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    assert config.load("default").server_url == server.url


def test_login_with_a_bad_port_exits_without_a_traceback() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "fieldkit", "login", "http://127.0.0.1:99999", "--token-file", "-"],
        input="whatever",
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 5
    assert "Traceback" not in done.stderr
    assert "端口 99999 超出范围" in done.stderr and "port 99999 is out of range" in done.stderr


def test_login_with_a_double_port_says_the_address_is_malformed() -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "fieldkit",
            "login",
            "http://127.0.0.1:18471:1",
            "--token-file",
            "-",
        ],
        input="whatever",
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 5, done.stderr
    assert "Traceback" not in done.stderr and "out of range" not in done.stderr
    assert "服务器地址无效" in done.stderr and "Not a server address" in done.stderr
    assert "多个冒号" in done.stderr and "more than one port" in done.stderr


@pytest.mark.parametrize(
    ("argv", "stdin", "words", "code"),
    [
        (["--token-file", "-"], "", ("没有收到令牌", "No token was given"), 5),
        (["--token-file", "/nonexistent/token"], "", ("无法读取令牌文件", "Cannot read"), 5),
        (["--token-file", "-", "--ca", "/nonexistent/ca.pem"], "t", ("CA 证书", "CA file"), 5),
    ],
)
def test_every_refused_login_value_exits_5_as_the_readme_says(
    argv: list[str], stdin: str, words: tuple[str, str], code: int
) -> None:
    """The real command: a value the user gave that cannot be used is exit code 5 (README)."""
    done = subprocess.run(
        [sys.executable, "-m", "fieldkit", "login", "https://office.example:8400", *argv],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == code, done.stderr
    assert words[0] in done.stderr and words[1] in done.stderr
    assert "Traceback" not in done.stderr


def test_login_to_an_office_that_is_not_there_exits_7() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "fieldkit", "login", f"http://127.0.0.1:{free_port()}"],
        input="some-token",
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 7, done.stderr
    assert "Traceback" not in done.stderr


def _first_run_app(lang: str):  # type: ignore[no-untyped-def]
    return app_for(None, lang, settings=config.Settings(language=lang))


async def _connect(pilot, url: str, token: str = "some-token") -> None:  # type: ignore[no-untyped-def]
    screen = pilot.app.screen
    screen.query_one("#url", Input).value = url
    screen.query_one("#token", Input).value = token
    screen.query_one("#connect", Button).press()
    await settle(pilot)


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize(("typed", "words"), MALFORMED[:6])
async def test_the_connect_screen_says_what_is_wrong_and_connect_stays_enabled(
    lang: str, typed: str, words: tuple[str, str]
) -> None:
    app = _first_run_app(lang)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, FirstRunScreen)
        await _connect(pilot, typed)
        message = app.screen.query_one("#message", WrappedText).plain
        assert words[0 if lang == "zh" else 1] in message
        assert not app.screen.query_one("#connect", Button).disabled
        assert "核对" not in message and "Checking" not in message


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_an_office_that_does_not_answer_gives_connect_back(lang: str) -> None:
    app = _first_run_app(lang)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await _connect(pilot, f"http://127.0.0.1：{free_port()}")
        connect = app.screen.query_one("#connect", Button)
        await wait_until(pilot, lambda: not connect.disabled)
        message = app.screen.query_one("#message", WrappedText).plain
        assert ("无法连接到" if lang == "zh" else "Could not reach the office at") in message


async def test_the_connect_screen_logs_in_with_a_full_width_address(tmp_path: Path) -> None:
    office = small_office(tmp_path)
    with LiveServer(office.db) as server:
        app = _first_run_app("zh")
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            await _connect(pilot, f"http：／／127.0.0.1：{server.port}", office.tokens["tech_a"])
            await wait_until(pilot, lambda: isinstance(app.screen, AssignmentsScreen))
            if app.store is not None:
                app.store.close()
    assert config.load("default").server_url == server.url
