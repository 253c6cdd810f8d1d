"""The on-site check field under Pilot: USB-scanner bursts, pastes and image paths are classified and recorded."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import qrcode
from textual import events, on
from textual.app import App, ComposeResult
from textual.keys import _character_to_key

from cache import Store
from fieldkit.payment import emv
from screens.widgets.code_check import CodeCheckInput
from tests.test_qr_fixtures import PUBLIC_KEY, signed_institution


class Host(App[None]):
    """A bare app holding the field, collecting what it posts."""

    def __init__(self, inst: dict[str, Any], store: Store | None = None) -> None:
        super().__init__()
        self.inst = inst
        self.store = store
        self.checks: list[CodeCheckInput.Checked] = []
        self.failures: list[CodeCheckInput.Failed] = []

    def compose(self) -> ComposeResult:
        yield CodeCheckInput(
            self.inst, PUBLIC_KEY, "zh", store=self.store, visit_id=None, id="check"
        )

    @on(CodeCheckInput.Checked)
    def _checked(self, message: CodeCheckInput.Checked) -> None:
        self.checks.append(message)

    @on(CodeCheckInput.Failed)
    def _failed(self, message: CodeCheckInput.Failed) -> None:
        self.failures.append(message)


async def settle(pilot: Any) -> None:
    for _ in range(3):
        await pilot.pause()
        await pilot.app.workers.wait_for_complete()
    await pilot.pause()


async def scan(pilot: Any, text: str) -> None:
    """What a USB scanner does: one key per character in one burst, then Enter, through the driver."""
    driver = pilot.app._driver
    for char in [*text, "\r"]:
        key = "enter" if char == "\r" else char if char.isalnum() else _character_to_key(char)
        event = events.Key(key, char)
        event.set_sender(pilot.app)
        driver.send_message(event)
    await settle(pilot)


async def typed(pilot: Any, text: str) -> None:
    """A person typing: Pilot presses one key at a time, waiting for the app after each."""
    await pilot.press(*[c if c.isalnum() else _character_to_key(c) for c in text], "enter")
    await settle(pilot)


def stored(tmp_path: Path, inst: dict[str, Any]) -> Store:
    store = Store.open(tmp_path / "cache.sqlite")
    store.bulk_load([inst], [])
    return store


async def test_scanner_burst_of_the_supervised_code_matches(tmp_path: Path) -> None:
    inst = signed_institution()
    store = stored(tmp_path, inst)
    app = Host(inst, store)
    async with app.run_test() as pilot:
        await scan(pilot, inst["payment"]["payload"])
        [message] = app.checks
        assert (message.check.result, message.check.found) == ("match", "supervised")
        assert message.via_scanner and message.recorded
        assert app.query_one(CodeCheckInput).value == ""  # ready for the next scan
    [op] = [op for op in store.pending_ops(10) if op["kind"] == "qr.checked"]
    assert op["data"]["result"] == "match" and op["institution_id"] == inst["id"]
    store.close()


async def test_scanner_burst_of_a_wechat_link_is_a_mismatch(tmp_path: Path) -> None:
    inst = signed_institution()
    store = stored(tmp_path, inst)
    app = Host(inst, store)
    async with app.run_test() as pilot:
        await scan(pilot, "wxp://f2f0Ab3xYz9EXAMPLE")
        await scan(
            pilot,
            emv.build_payload(
                "JG4307020077", "6228480000000001", "Other Shop", "Changde", "别家店", "常德"
            ),
        )
    assert [(m.check.result, m.check.found) for m in app.checks] == [
        ("mismatch", "wechat_personal"),
        ("mismatch", "other_institution"),
    ]
    assert "微信个人收款码" in app.checks[0].check.zh
    assert app.checks[1].check.details["merchant_name"] == "Other Shop"
    assert "别家店（平台编号 JG4307020077）" in app.checks[1].check.zh
    assert [op["data"]["found"] for op in store.pending_ops(10)] == [
        "wechat_personal",
        "other_institution",
    ]
    store.close()


async def test_typed_text_is_checked_too() -> None:
    app = Host(signed_institution())
    async with app.run_test() as pilot:
        await typed(pilot, "www.a.cn")
    [message] = app.checks
    assert message.check.found == "url"


async def test_pasted_text_is_checked_and_not_taken_for_a_scanner() -> None:
    app = Host(signed_institution())
    async with app.run_test() as pilot:
        app.query_one(CodeCheckInput).post_message(events.Paste("https://qr.alipay.com/fkx999\n"))
        await pilot.pause()
        await pilot.press("enter")
        await settle(pilot)
    [message] = app.checks
    assert message.check.found == "alipay_personal"
    assert not message.via_scanner and not message.recorded


async def test_an_image_path_is_decoded(tmp_path: Path) -> None:
    photo = tmp_path / "desk photo.png"
    qrcode.make("https://shop.example.com/pay").save(photo)
    app = Host(signed_institution())
    async with app.run_test() as pilot:
        app.query_one(CodeCheckInput).post_message(events.Paste(f"'{photo}'"))
        await pilot.pause()
        await pilot.press("enter")
        await settle(pilot)
    [message] = app.checks
    assert message.check.found == "url" and message.check.details["host"] == "shop.example.com"


async def test_an_image_without_a_code_says_so(tmp_path: Path) -> None:
    from PIL import Image

    blank = tmp_path / "blank.png"
    Image.new("L", (100, 100), 255).save(blank)
    app = Host(signed_institution())
    async with app.run_test() as pilot:
        app.query_one(CodeCheckInput).post_message(events.Paste(str(blank)))
        await pilot.pause()
        await pilot.press("enter")
        await settle(pilot)
    assert app.checks == [] and "没有找到二维码" in app.failures[0].zh


async def test_a_tampered_local_code_is_not_compared(tmp_path: Path) -> None:
    inst = signed_institution()
    inst["payment"] = {**inst["payment"], "payload": inst["payment"]["payload"][:-4] + "0000"}
    store = stored(tmp_path, inst)
    app = Host(inst, store)
    async with app.run_test() as pilot:
        await scan(pilot, "wxp://f2f0abc")
    assert app.checks == []
    assert "本地数据被改动，请重新同步" in app.failures[0].zh
    assert store.pending_ops(10) == []
    store.close()


async def test_a_mistyped_image_path_says_so_and_records_nothing(tmp_path: Path) -> None:
    store = stored(tmp_path, signed_institution())
    app = Host(signed_institution(), store)
    async with app.run_test() as pilot:
        app.query_one(CodeCheckInput).post_message(events.Paste(str(tmp_path / "desk.png")))
        await pilot.pause()
        await pilot.press("enter")
        await settle(pilot)
    assert app.checks == [] and "无法打开图片" in app.failures[0].zh
    assert store.pending_ops(10) == []
    store.close()


async def test_a_url_ending_in_png_is_a_url_not_a_file() -> None:
    app = Host(signed_institution())
    async with app.run_test() as pilot:
        app.query_one(CodeCheckInput).post_message(events.Paste("https://pay.example.com/q.png"))
        await pilot.pause()
        await pilot.press("enter")
        await settle(pilot)
    [message] = app.checks
    assert message.check.found == "url"
