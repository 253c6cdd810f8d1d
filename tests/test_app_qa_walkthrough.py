"""Defects a QA walk-through found at 80x24 (issue 14): the draft offer's question, the empty
block reason, the payment tab's code field, the 'not yet sent' line after a sync."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from textual.widgets import TabbedContent

from cache.store import Store
from screens.dialogs.confirm import ConfirmDialog
from screens.dialogs.reason import ReasonDialog
from screens.institution import InstitutionScreen
from screens.widgets.code_check import CodeCheckInput
from tests.painted import PaintedScreen
from tests.test_app_fixtures import app_for, county_rows, county_store, settle, wait_until


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    """A real cache file with the demo county."""
    yield from county_store(tmp_path)


def _inst() -> dict:
    return county_rows()[0][2]


def _screen(app) -> str:  # type: ignore[no-untyped-def]
    """What the terminal shows, lines joined with the border characters and spaces removed."""
    text = "".join(PaintedScreen.repainted(app))
    return "".join(c for c in text if c not in " ▊▎▔▁┃━│─▌▐█")


@pytest.mark.parametrize(
    ("lang", "tail"), [("zh", "按v可随时继续）"), ("en", "pressvtogoonlater)")]
)
@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
async def test_the_draft_offer_shows_its_whole_question(
    store: Store, lang: str, tail: str, size: tuple[int, int]
) -> None:
    inst = _inst()
    store.save_draft(
        "00000000-0000-4000-8000-00000000d001", inst["id"], "2026-11-28T09:00:00+08:00", {}
    )
    app = app_for(store, lang)
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        app.push_screen(InstitutionScreen(inst["id"]))
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmDialog))
        await settle(pilot)
        shown = _screen(app)
        assert "2026-11-2809:00" in shown and tail in shown, shown


@pytest.mark.parametrize(
    ("lang", "said"),
    [
        ("zh", "请填写受阻的原因（例如：负责人不在，下周再来），再按回车。"),
        ("en", "Areasonisrequired"),
    ],
)
async def test_an_empty_block_reason_says_a_reason_is_required(
    store: Store, lang: str, said: str
) -> None:
    inst = _inst()
    app = app_for(store, lang)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.push_screen(InstitutionScreen(inst["id"]))
        await settle(pilot)
        await pilot.press("b")
        await wait_until(pilot, lambda: isinstance(app.screen, ReasonDialog))
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ReasonDialog)  # still asking; nothing saved
        shown = _screen(app)
        assert said.replace(" ", "") in shown, shown
        if lang == "en":
            assert "thenpressEnter." in shown, shown


async def test_the_payment_tab_puts_the_keys_in_the_code_field_and_esc_leaves_it(
    store: Store,
) -> None:
    inst = _inst()
    app = app_for(store, "en")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.push_screen(InstitutionScreen(inst["id"]))
        await wait_until(pilot, lambda: bool(app.screen.query(CodeCheckInput)))
        screen = app.screen
        await pilot.press("4")
        await settle(pilot)
        field = screen.query_one(CodeCheckInput)
        assert app.focused is field
        await pilot.press(*"vpn")  # the institution's v, p and n must not fire
        await settle(pilot)
        assert app.screen is screen and field.value == "vpn"
        assert store.counts()["unsent"] == 0 and store.drafts() == []
        await pilot.press("escape")  # out of the field: the screen's keys work again
        await settle(pilot)
        assert app.screen is screen and app.focused is not field
        await pilot.press("5")  # a tab key switches tabs instead of typing into the field
        await settle(pilot)
        assert screen.query_one("#tabs", TabbedContent).active == "tab-cases"
        assert field.value == "vpn"
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is not screen  # and Esc again goes back to the list


async def test_the_show_code_button_opens_the_payment_code_not_the_evidence(store: Store) -> None:
    from screens.qr import QRScreen

    inst = _inst()
    app = app_for(store, "zh")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.push_screen(InstitutionScreen(inst["id"]))
        await wait_until(pilot, lambda: bool(app.screen.query(CodeCheckInput)))
        await pilot.press("4", "escape")  # out of the code field: onto the button
        await settle(pilot)
        assert app.focused is not None and app.focused.id == "qr"
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, QRScreen))
