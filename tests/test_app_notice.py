"""Printing a visit's rectification notice from the app: a key and a palette command write the
PDF where the app says; the visit's short id is on its line in the visit list."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import OptionList, Static

from cache.store import Store
from fieldkit import domain, paths
from fieldkit.cli import main
from screens.dialogs.pick import PickDialog
from screens.institution import InstitutionScreen
from screens.widgets.wrapped import WrappedText
from tests.painted import PaintedScreen
from tests.test_app_fixtures import app_for, county_store, settle, wait_until
from tests.test_qr_fixtures import pdf_texts

ITEMS = ("撤除前台的微信个人收款码", "张贴平台监管收款码")


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    yield from county_store(tmp_path)


def first_id(store: Store) -> str:
    return str(store.assignments("", "all", "name", 1, 0, date(2026, 11, 28))[0].id)


def add_visit(store: Store, inst_id: str, visit_id: str, day: int, items: tuple[str, ...]) -> None:
    store.create_visit(
        domain.Visit(
            visit_id=visit_id,
            institution_id=inst_id,
            technician_id="T0001",
            kind="guidance",
            started_at=datetime(2026, 11, day, 9, 30),
            outcome="completed",
            rectification=domain.Rectification(items, date(2026, 12, 12)) if items else None,
            notes="" if items else "走访正常",
        )
    )


def notices(app: Any) -> list[str]:
    return [str(n.message) for n in app._notifications]


def pdf_text(path: Path) -> str:
    return "".join(pdf_texts(path.read_bytes()))


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_n_prints_the_visits_notice_and_says_where(store: Store, lang: str) -> None:
    inst_id = first_id(store)
    add_visit(store, inst_id, "a1b2c3d4-0000-4000-8000-000000000001", 20, ITEMS)
    app = app_for(store, lang)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await app.push_screen(InstitutionScreen(inst_id))
        await settle(pilot)
        await pilot.press("3")
        await settle(pilot)
        assert "#A1B2C3D4" in str(app.screen.query_one("#visits", Static).content)
        await pilot.press("n")
        target = paths.home() / "notices" / f"整改通知书-{inst_id}-A1B2C3D4.pdf"
        await wait_until(pilot, lambda: any(str(target) in n for n in notices(app)))
    said = next(n for n in notices(app) if str(target) in n)
    assert said.startswith("整改通知书已保存（1 页）" if lang == "zh" else "Rectification notice")
    text = pdf_text(target)
    assert "整改通知书" in text and all(item in text for item in ITEMS)


async def test_the_screen_stays_live_and_says_the_notice_is_being_written(store: Store) -> None:
    inst_id = first_id(store)
    add_visit(store, inst_id, "a1b2c3d4-0000-4000-8000-000000000001", 20, ITEMS)
    app = app_for(store, "zh")
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await settle(pilot)
        await app.push_screen(InstitutionScreen(inst_id))
        await settle(pilot)
        painted = PaintedScreen.watch(app)
        gaps: list[float] = []  # how long the event loop went without running, while writing
        loop = asyncio.get_running_loop()

        async def ticks() -> None:
            last = loop.time()
            while True:
                await asyncio.sleep(0.01)
                gaps.append(loop.time() - last)
                last = loop.time()

        ticking = asyncio.create_task(ticks())
        await pilot.press("n")
        target = paths.home() / "notices" / f"整改通知书-{inst_id}-A1B2C3D4.pdf"
        await wait_until(pilot, lambda: any(str(target) in n for n in notices(app)))
        ticking.cancel()
        feedback = app.screen.query_one("#feedback", WrappedText).plain
    frames = ["".join(frame) for frame in painted.frames]
    assert any("正在生成整改通知书…" in frame for frame in frames)  # on its line while it works
    assert feedback.startswith("整改通知书已保存（1 页）")  # then where it is, in its place
    assert max(gaps) < 0.25, max(gaps)  # the screen kept answering


async def test_with_several_notices_it_asks_which_and_the_palette_reaches_it(
    store: Store,
) -> None:
    inst_id = first_id(store)
    add_visit(store, inst_id, "b0000000-0000-4000-8000-000000000001", 10, ("张贴平台监管收款码",))
    add_visit(store, inst_id, "c0000000-0000-4000-8000-000000000002", 20, ITEMS)
    add_visit(store, inst_id, "d0000000-0000-4000-8000-000000000003", 25, ())
    app = app_for(store, "zh")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await app.push_screen(InstitutionScreen(inst_id))
        await settle(pilot)
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert "打印整改通知书 (n)" in titles
        await pilot.press("n")
        await settle(pilot)
        assert isinstance(app.screen, PickDialog)
        options = app.screen.query_one(OptionList)
        shown = [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]
        assert shown[0].startswith("#C0000000  2026-11-20  2 项，期限 2026-12-12")
        assert len(shown) == 2 and shown[1].startswith("#B0000000")  # not the visit without one
        await pilot.press("down", "enter")
        target = paths.home() / "notices" / f"整改通知书-{inst_id}-B0000000.pdf"
        await wait_until(pilot, lambda: any(str(target) in n for n in notices(app)))
    assert "张贴平台监管收款码" in pdf_text(target)


async def test_no_notice_says_how_to_make_one(store: Store) -> None:
    inst_id = first_id(store)
    app = app_for(store, "en")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await app.push_screen(InstitutionScreen(inst_id))
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
    assert any("No visit of this institution has a rectification notice" in n for n in notices(app))
    assert not (paths.home() / "notices").exists()


def test_the_short_id_on_the_line_is_what_fieldkit_notice_takes(
    store: Store, tmp_path: Path
) -> None:
    from fieldkit import config
    from tests.test_app_fixtures import technician_settings

    config.save(technician_settings("zh"))
    inst_id = first_id(store)
    add_visit(store, inst_id, "e1f2a3b4-0000-4000-8000-000000000001", 20, ITEMS)
    store.close()  # the command opens the profile's own cache: copy ours there
    paths.cache_file("default").parent.mkdir(parents=True, exist_ok=True)
    (tmp_path / "cache.sqlite").replace(paths.cache_file("default"))
    out = tmp_path / "n.pdf"
    assert main(["notice", "E1F2A3B4", "--pdf", str(out)]) == 0
    assert "整改通知书" in pdf_text(out)
