"""In the real app: the institution screen's payment code and on-site check, and a tampered cache refused."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from textual.widgets import Static

from cache import Store
from fieldkit import config
from screens.institution import InstitutionScreen
from screens.qr import QRScreen
from screens.widgets.code_check import CodeCheckInput
from screens.widgets.footer import TranslatedFooter
from screens.widgets.wrapped import WrappedText
from tests.test_app_fixtures import app_for, settle
from tests.test_qr_code_check import scan
from tests.test_qr_fixtures import PUBLIC_KEY, signed_institution

INST = signed_institution()


def settings() -> config.Settings:
    return config.Settings(
        profile="default",
        server_url="http://127.0.0.1:9",
        office_name="常德市武陵区教育局",
        office_public_key=PUBLIC_KEY,
        technician=config.Technician("T0001", "李娜", "technician", "430702"),
        language="zh",
    )


@pytest.fixture
def cache_file(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "cache.sqlite"
    with Store.open(path) as store:
        store.bulk_load([INST], [])
    yield path


def tamper(path: Path) -> None:
    """Alter the signed payload in the file, as someone with the laptop could."""
    conn = sqlite3.connect(path)
    with conn:
        payment = dict(
            INST["payment"],
            payload=INST["payment"]["payload"].replace("6222020000000001", "6228489999999999"),
        )
        conn.execute(
            "UPDATE institutions SET payment = ? WHERE id = ?", (json.dumps(payment), INST["id"])
        )
    conn.close()


async def open_institution(app, pilot) -> None:  # type: ignore[no-untyped-def]
    await settle(pilot)
    await app.push_screen(InstitutionScreen(INST["id"]))
    await settle(pilot)


async def test_payment_code_key_shows_the_signed_code(cache_file: Path) -> None:
    store = Store.open(cache_file)
    app = app_for(store, "zh", settings=settings())
    async with app.run_test(size=(120, 45)) as pilot:
        await open_institution(app, pilot)
        await pilot.press("k")
        await settle(pilot)
        assert isinstance(app.screen, QRScreen)
        assert app.screen.query_one("#qr-code", Static).display
        assert app.screen.lines and app.screen.refusal is None
        footer = app.screen.query_one(TranslatedFooter)
        assert footer.descriptions[1:6] == ["帮助", "返回", "PNG 海报", "PDF 海报", "海报尺寸"]
    store.close()


async def test_tampered_cache_is_refused_on_the_code_screen_and_the_check(cache_file: Path) -> None:
    tamper(cache_file)
    store = Store.open(cache_file)
    app = app_for(store, "zh", settings=settings())
    async with app.run_test(size=(120, 45)) as pilot:
        await open_institution(app, pilot)
        app.screen.query_one(CodeCheckInput).focus()
        await scan(pilot, "wxp://f2f0personal")
        result = str(app.screen.query_one("#code-result", WrappedText).plain)
        assert "本地数据被改动，请重新同步" in result
        app.screen.action_show_qr()
        await settle(pilot)
        assert isinstance(app.screen, QRScreen)
        assert not app.screen.query_one("#qr-body").display
        assert "本地数据被改动" in str(app.screen.query_one("#qr-problem", Static).render())
    assert [op for op in store.pending_ops(10) if op["kind"] == "qr.checked"] == []
    store.close()


async def test_scanner_check_in_the_institution_screen(cache_file: Path) -> None:
    store = Store.open(cache_file)
    app = app_for(store, "zh", settings=settings())
    async with app.run_test(size=(120, 45)) as pilot:
        await open_institution(app, pilot)
        app.screen.query_one(CodeCheckInput).focus()
        await scan(pilot, "https://qr.alipay.com/fkx0personal")
        result = str(app.screen.query_one("#code-result", WrappedText).plain)
        assert "支付宝个人收款码" in result
    [op] = [op for op in store.pending_ops(10) if op["kind"] == "qr.checked"]
    assert op["data"]["found"] == "alipay_personal" and op["data"]["result"] == "mismatch"
    store.close()


async def test_the_code_screen_follows_a_language_switch(cache_file: Path) -> None:
    store = Store.open(cache_file)
    app = app_for(store, "zh", settings=settings())
    async with app.run_test(size=(120, 45)) as pilot:
        await open_institution(app, pilot)
        await pilot.press("k")
        await settle(pilot)
        await app.set_language("en")
        await settle(pilot)
        assert isinstance(app.screen, QRScreen)
        assert "Platform id" in str(app.screen.query_one("#qr-title", Static).content)
        footer = app.screen.query_one(TranslatedFooter)
        assert footer.descriptions[1:6] == [
            "Help",
            "Back",
            "PNG poster",
            "PDF poster",
            "Poster size",
        ]
        assert app.screen.query_one("#qr-code", Static).display
    store.close()
