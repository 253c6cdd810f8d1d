"""The payment-code screen under Pilot: the code drawn whole, too-small terminals, refusals, exports."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from PIL import Image
from textual import on
from textual.app import App
from textual.widgets import Static

from cache import Store
from fieldkit.payment.qr import terminal_lines
from screens.qr import QRScreen
from tests.test_qr_fixtures import PUBLIC_KEY, decode_qr, signed_institution
from tests.test_qr_terminal import lines_to_image

SCREENSHOTS = os.environ.get("FIELDKIT_SCREENSHOTS")  # set to a folder to keep the SVGs


class Host(App[None]):
    """A bare app that opens the QR screen and collects what it posts."""

    def __init__(self, screen: QRScreen) -> None:
        super().__init__()
        self.qr_screen = screen
        self.exported: list[QRScreen.PosterExported] = []

    def on_mount(self) -> None:
        self.push_screen(self.qr_screen)

    @on(QRScreen.PosterExported)
    def _exported(self, message: QRScreen.PosterExported) -> None:
        self.exported.append(message)


async def settle(pilot: Any) -> None:
    for _ in range(3):
        await pilot.pause()
        await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def shown_text(app: App[None], selector: str) -> str:
    return str(app.screen.query_one(selector, Static).render())


async def test_the_code_is_drawn_whole_beside_name_and_id(tmp_path: Path) -> None:
    inst = signed_institution()
    app = Host(QRScreen(inst, PUBLIC_KEY, "zh"))
    async with app.run_test(size=(110, 40)) as pilot:
        await settle(pilot)
        code = app.screen.query_one("#qr-code", Static)
        lines = terminal_lines(inst["payment"]["payload"])
        assert code.display and code.region.width == len(lines[0])
        assert code.region.height == len(lines)
        assert str(code.render()).splitlines() == lines
        side = app.screen.query_one("#qr-side")
        assert side.display and side.region.x >= code.region.right
        assert "长沙星辰教育培训学校有限公司" in shown_text(app, "#qr-name")
        assert "JG4307020001" in shown_text(app, "#qr-id")
        assert not app.screen.query_one("#qr-problem").display
        svg = app.save_screenshot(filename="qr-screen.svg", path=str(SCREENSHOTS or tmp_path))
        assert Path(svg).stat().st_size > 0
    # What the screen draws is a code a phone can read.
    assert decode_qr(lines_to_image(lines)) == [inst["payment"]["payload"]]


async def test_a_small_terminal_gets_a_message_instead(tmp_path: Path) -> None:
    app = Host(QRScreen(signed_institution(), PUBLIC_KEY, "zh"))
    async with app.run_test(size=(50, 20)) as pilot:
        await settle(pilot)
        assert not app.screen.query_one("#qr-body").display
        message = shown_text(app, "#qr-problem")
        assert "终端窗口太小" in message and "50×20" in message
        assert "按 g 或 f 导出海报" in message  # what to do instead, with the keys shown below
        await pilot.resize_terminal(110, 40)
        await settle(pilot)
        assert app.screen.query_one("#qr-body").display
        assert not app.screen.query_one("#qr-problem").display


async def test_english_too_small_message() -> None:
    app = Host(QRScreen(signed_institution(), PUBLIC_KEY, "en"))
    async with app.run_test(size=(40, 15)) as pilot:
        await settle(pilot)
        assert "too small" in shown_text(app, "#qr-problem")


async def test_a_tampered_code_is_not_shown(tmp_path: Path) -> None:
    inst = signed_institution()
    inst["payment"] = {**inst["payment"], "payload": inst["payment"]["payload"][:-4] + "0000"}
    app = Host(QRScreen(inst, PUBLIC_KEY, "zh", export_dir=tmp_path))
    async with app.run_test(size=(110, 40)) as pilot:
        await settle(pilot)
        assert not app.screen.query_one("#qr-body").display
        assert "本地数据被改动，请重新同步" in shown_text(app, "#qr-problem")
        await pilot.press("g")
        await settle(pilot)
    assert list(tmp_path.iterdir()) == [] and app.exported == []


async def test_bank_not_passed_says_so() -> None:
    inst = signed_institution(bank_status="failed", bank_reason="账户名不符", payment=None)
    app = Host(QRScreen(inst, PUBLIC_KEY, "zh"))
    async with app.run_test(size=(110, 40)) as pilot:
        await settle(pilot)
        assert "银行核验未通过" in shown_text(app, "#qr-problem")


async def test_export_png_and_pdf_in_a_worker_and_record(tmp_path: Path) -> None:
    inst = signed_institution()
    store = Store.open(tmp_path / "cache.sqlite")
    store.bulk_load([inst], [])
    out = tmp_path / "out"
    app = Host(QRScreen(inst, PUBLIC_KEY, "zh", store=store, export_dir=out))
    async with app.run_test(size=(110, 40)) as pilot:
        await settle(pilot)
        await pilot.press("s")  # a4 -> a6
        await pilot.press("g")
        await settle(pilot)
        await pilot.press("s", "f")  # -> strip, PDF
        await settle(pilot)
        assert "已保存" in shown_text(app, "#qr-status")
    assert [(m.size, m.path.suffix, m.recorded) for m in app.exported] == [
        ("a6", ".png", True),
        ("strip", ".pdf", True),
    ]
    with Image.open(app.exported[0].path) as image:
        assert decode_qr(image) == [inst["payment"]["payload"]]
    assert app.exported[1].path.read_bytes().startswith(b"%PDF")
    sizes = [op["data"]["size"] for op in store.pending_ops(10) if op["kind"] == "poster.printed"]
    assert sizes == ["a6", "strip"]
    store.close()
