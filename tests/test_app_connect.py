"""The connect screen against every way an office can fail, each a real socket on 127.0.0.1: an
answer within a few seconds, this screen's own sentence in the user's language (Chinese without
English detail), Connect enabled again, what was typed kept, Esc to stop waiting."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from textual.widgets import Button, Input

from fieldkit import config
from screens.first_run import CONNECT_WITHIN, FirstRunScreen
from screens.widgets.footer import TranslatedFooter
from screens.widgets.wrapped import WrappedText
from tests.live_server import LiveServer, free_port, small_office
from tests.silent_office import FixedAnswer, SilentOffice
from tests.test_app_fixtures import app_for, settle, wait_until

TOKEN = "fk_typed_by_the_technician"
NOT_FOUND_PAGE = "<!doctype html><html><body><h1>404 Not Found</h1>nginx</body></html>"


def _app(lang: str):  # type: ignore[no-untyped-def]
    return app_for(None, lang, settings=config.Settings(language=lang))


async def _connect(pilot, url: str, token: str = TOKEN) -> None:  # type: ignore[no-untyped-def]
    """Type the address and the token as a user would, then press Connect (not waiting)."""
    screen = pilot.app.screen
    screen.query_one("#url", Input).value = url
    screen.query_one("#token", Input).value = token
    screen.query_one("#connect", Button).press()
    await pilot.pause()


def _said(app) -> str:  # type: ignore[no-untyped-def]
    return app.screen.query_one("#message", WrappedText).plain


async def _answered(pilot) -> str:  # type: ignore[no-untyped-def]
    """Wait for Connect to come back; what the screen says then."""
    connect = pilot.app.screen.query_one("#connect", Button)
    await wait_until(pilot, lambda: not connect.disabled)
    await settle(pilot)
    return _said(pilot.app)


def _latin_words(text: str, address: str) -> list[str]:
    """The English in a Chinese sentence, apart from the address and the product's names."""
    rest = text.replace(address, "")
    return [w for w in re.findall(r"[A-Za-z]{2,}", rest) if w not in ("fieldkit", "HTTP")]


def _kept_and_ready(app, url: str, token: str = TOKEN) -> None:  # type: ignore[no-untyped-def]
    """Nothing typed was lost and Connect can be pressed again."""
    screen = app.screen
    assert isinstance(screen, FirstRunScreen)
    assert screen.query_one("#url", Input).value == url
    assert screen.query_one("#token", Input).value == token
    assert not screen.query_one("#connect", Button).disabled


# (what the office does, a Chinese phrase and an English phrase the sentence must hold)
CASES = {
    "refused": ("无法连接到", "Could not reach the office at"),
    "no_answer": ("秒内没有回应", "did not answer within"),
    "not_fieldkit": ("不是 fieldkit 办公室服务器", "not a fieldkit office server"),
    "server_500": ("办公室服务器出错了（HTTP 500）", "failed (HTTP 500)"),
    "forbidden": ("不允许用这个令牌登录", "does not allow logging in with this token"),
}


def _office(kind: str):  # type: ignore[no-untyped-def]
    if kind == "no_answer":
        return SilentOffice(lifetime=60)
    if kind == "not_fieldkit":
        return FixedAnswer(404, NOT_FOUND_PAGE)
    if kind == "server_500":
        return FixedAnswer(500, "Internal Server Error", "text/plain")
    if kind == "forbidden":
        return FixedAnswer(403, '{"error":"forbidden"}', "application/json")
    raise AssertionError(kind)


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("kind", list(CASES))
async def test_every_failure_is_this_screens_sentence_and_connect_comes_back(
    lang: str, kind: str
) -> None:
    app = _app(lang)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        if kind == "refused":
            url = f"http://127.0.0.1:{free_port()}"
            await _connect(pilot, url)
            said = await _answered(pilot)
        else:
            with _office(kind) as office:
                url = office.url
                await _connect(pilot, url)
                said = await _answered(pilot)
                assert office.accepted >= 1  # it really was asked
        assert said.startswith("✗")
        assert CASES[kind][0 if lang == "zh" else 1] in said
        assert url in said or kind == "forbidden"
        assert "fieldkit login" not in said
        assert "同步" not in said and "sync" not in said.lower()  # a first connection
        if lang == "zh":
            assert _latin_words(said, url) == [], said  # no ConnectError, no ReadTimeout
        _kept_and_ready(app, url)


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_an_office_that_takes_the_connection_and_never_answers_is_given_up_on_in_seconds(
    lang: str,
) -> None:
    app = _app(lang)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        with SilentOffice(lifetime=60) as office:
            began = time.monotonic()
            await _connect(pilot, office.url)
            said = await _answered(pilot)
            waited = time.monotonic() - began
        assert waited < CONNECT_WITHIN + 3, f"the screen waited {waited:.1f} s"
        assert ("没有回应" if lang == "zh" else "did not answer") in said
        assert app.focused is app.screen.query_one("#connect", Button)  # the address was right


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_esc_stops_waiting_and_keeps_what_was_typed(lang: str) -> None:
    app = _app(lang)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        footer = app.screen.query_one(TranslatedFooter)
        cancel = "取消连接" if lang == "zh" else "Cancel connecting"
        assert cancel not in footer.descriptions  # Esc does nothing before Connect
        with SilentOffice(lifetime=60) as office:
            await _connect(pilot, office.url)
            waiting = _said(app)
            assert ("按 Esc 可取消" if lang == "zh" else "Esc cancels") in waiting
            assert cancel in footer.descriptions
            began = time.monotonic()
            await pilot.press("escape")
            await settle(pilot)
            assert time.monotonic() - began < 1
        said = _said(app)
        assert ("已取消连接" if lang == "zh" else "Connecting cancelled") in said
        assert cancel not in footer.descriptions
        _kept_and_ready(app, office.url)
        assert not [w for w in app.workers if w.group == "login" and not w.is_finished]


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_a_wrong_token_asks_for_it_again_here_then_the_right_one_connects(
    tmp_path: Path, lang: str
) -> None:
    office = small_office(tmp_path)
    with LiveServer(office.db) as server:
        app = _app(lang)
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            await _connect(pilot, server.url, "fk_wrong_token_typed")
            said = await _answered(pilot)
            assert (
                "请在上方重新输入令牌" if lang == "zh" else "type the token again above"
            ) in said
            assert "fieldkit login" not in said
            if lang == "zh":
                assert _latin_words(said, server.url) == [], said
            _kept_and_ready(app, server.url, "fk_wrong_token_typed")
            assert app.focused is app.screen.query_one("#token", Input)
            await _connect(pilot, server.url, office.tokens["tech_a"])
            await wait_until(pilot, lambda: not isinstance(app.screen, FirstRunScreen))
            if app.store is not None:
                app.store.close()
    assert config.load("default").server_url == server.url


async def test_the_english_sentence_has_the_technical_detail_dimmed_under_it() -> None:
    app = _app("en")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        url = f"http://127.0.0.1:{free_port()}"
        await _connect(pilot, url)
        said = await _answered(pilot)
        sentence, _, detail = said.partition("\n")
        assert "Could not reach the office at" in sentence
        assert "ConnectError" in detail
        dimmed = [s for s in app.screen.query_one("#message", WrappedText).text.spans]
        assert any("dim" in str(span.style) for span in dimmed)


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_the_longest_failure_fits_whole_at_80x24(lang: str) -> None:
    app = _app(lang)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        with SilentOffice(lifetime=60) as office:
            await _connect(pilot, office.url)
            said = await _answered(pilot)
        message = app.screen.query_one("#message", WrappedText)
        box = app.screen.query_one("#box")
        buttons = app.screen.query_one("#connect", Button)
        assert message.region.height >= 3  # wrapped, not cut at the edge
        assert box.region.bottom <= 23  # above the key bar: nothing scrolled away
        assert buttons.region.bottom <= box.region.bottom
        assert said.partition("\n")[0].endswith(("再按“连接”。", "press Connect again."))


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_too_many_wrong_tokens_says_how_long_to_wait(tmp_path: Path, lang: str) -> None:
    from fieldkit.server.auth import FailedLogins

    office = small_office(tmp_path)
    with LiveServer(office.db, failed_logins=FailedLogins(limit=1, window=30)) as server:
        app = _app(lang)
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            await _connect(pilot, server.url, "fk_wrong_token_typed")
            first = await _answered(pilot)
            await _connect(pilot, server.url, "fk_wrong_again_typed")
            said = await _answered(pilot)
            _kept_and_ready(app, server.url, "fk_wrong_again_typed")
            assert app.focused is app.screen.query_one("#token", Input)
    assert ("请在上方重新输入令牌" if lang == "zh" else "type the token again above") in first
    wait = re.search(r"(\d+) (秒|s)", said)
    assert wait and 1 <= int(wait.group(1)) <= 31, said
    assert ("尝试次数过多" if lang == "zh" else "Too many attempts") in said
    assert ("请核对令牌" if lang == "zh" else "Check the token") in said  # what to do here
    assert "fieldkit login" not in said


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_an_office_whose_certificate_is_not_trusted_is_named_and_the_way_out_given(
    tmp_path: Path, lang: str
) -> None:
    from tests.fault_proxy import ScriptedServer
    from tests.test_sync_login import KEY_A, _tls_files, office_routes

    context, _ca_file = _tls_files(tmp_path)  # the office's own CA, which this laptop lacks
    with ScriptedServer(office_routes([KEY_A]), tls=context) as office:
        url = office.url
        app = _app(lang)
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            await _connect(pilot, url)
            said = await _answered(pilot)
            _kept_and_ready(app, url)
            box = app.screen.query_one("#box")
            assert box.region.bottom <= 23  # whole above the key bar
    assert ("证书无法验证" if lang == "zh" else "certificate of") in said
    assert ("可能不是办公室的服务器" if lang == "zh" else "may not be the office's server") in said
    assert "fieldkit login" in said and "--ca" in said  # the one way: the app has no CA box
    if lang == "zh":
        assert set(_latin_words(said, url)) == {"login", "ca", "CA"}, said  # the command only
    else:
        assert "issuer certificate" in said.partition("\n")[2]  # what TLS said, dimmed
