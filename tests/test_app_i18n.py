"""Every word on screen exists in Chinese and English; screens use only known keys; switching works."""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from textual.binding import Binding

from cache.store import Store
from fieldkit import domain, paths
from screens import i18n
from screens.assignments import FILTERS, SORTS
from screens.widgets.footer import TranslatedFooter
from screens.widgets.status_bar import StatusBar
from screens.widgets.virtual_table import VirtualTable
from tests.test_app_fixtures import app_for, county_store, settle

SCREENS = Path(__file__).resolve().parents[1] / "screens"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    """A real cache file with the demo county."""
    yield from county_store(tmp_path)


def _literal_keys() -> set[tuple[str, str]]:
    """(file, key) for every t("…")/tr("…") call with a literal key in screens/."""
    found = set()
    for path in SCREENS.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.Call) and node.args:
                name = getattr(node.func, "attr", None) or getattr(node.func, "id", None)
                first = node.args[0]
                if (
                    name in ("t", "tr")
                    and isinstance(first, ast.Constant)
                    and isinstance(first.value, str)
                ):
                    found.add((path.name, first.value))
    return found


def test_every_message_has_both_languages() -> None:
    missing = [k for k, (zh, en) in i18n.MESSAGES.items() if not zh.strip() or not en.strip()]
    assert missing == []


def test_chinese_side_is_chinese_where_english_has_words() -> None:
    untranslated = [
        k
        for k, (zh, en) in i18n.MESSAGES.items()
        if zh == en and any(c.isalpha() for c in en) and not k.startswith("visit.row")
    ]
    assert untranslated == []


def test_screens_use_only_known_keys() -> None:
    used = _literal_keys()
    assert len(used) > 100
    unknown = sorted((f, k) for f, k in used if k not in i18n.MESSAGES)
    assert unknown == []


def test_keys_built_at_run_time_exist() -> None:
    built = (
        [f"filter.{f}" for f in FILTERS]
        + [f"sort.{s}" for s in SORTS]
        + [f"bank.{b}" for b in ("pending", "passed", "failed")]
        + [f"sync.{s}" for s in ("synced", "unsent", "sending", "rejected")]
        + [f"key.{s}" for s in domain.STATUSES]
        + [f"inst.kind_{k}" for k in domain.INSTITUTION_KINDS]
        + [
            f"op.{k}"
            for k in (
                "step.set",
                "visit.create",
                "visit.amend",
                "contact.set",
                "poster.printed",
                "qr.checked",
            )
        ]
        + [
            f"reason.{r}"
            for r in (
                "server_owned",
                "not_assigned",
                "prerequisite",
                "invalid",
                "unknown_institution",
                "unknown_visit",
                "unknown_kind",
            )
        ]
        + ["dash.level_county", "dash.level_city", "role.technician", "role.supervisor"]
    )
    assert [k for k in built if k not in i18n.MESSAGES] == []


def test_every_binding_has_an_id_with_a_translated_description() -> None:
    import screens.app as app_module
    from screens import (
        assignments,
        dashboard,
        first_run,
        institution,
        qr,
        settings,
        sync_screen,
        visit,
    )
    from screens.dialogs import confirm, contact, reason

    classes = [
        app_module.FieldkitApp,
        assignments.AssignmentsScreen,
        institution.InstitutionScreen,
        visit.VisitScreen,
        sync_screen.SyncScreen,
        dashboard.DashboardScreen,
        settings.SettingsScreen,
        first_run.FirstRunScreen,
        qr.QRScreen,
        confirm.ConfirmDialog,
        contact.ContactDialog,
        reason.ReasonDialog,
    ]
    bad = [
        (c.__name__, b.key)
        for c in classes
        for b in c.BINDINGS
        if isinstance(b, Binding) and (not b.id or f"key.{b.id}" not in i18n.MESSAGES)
    ]
    assert bad == []


async def test_switching_language_relabels_every_screen_and_is_saved(store: Store) -> None:
    app = app_for(store, "zh")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        list_screen = app.screen
        headers = [c.label for c in list_screen.query_one(VirtualTable).columns]
        assert headers[0] == "机构名称"
        await pilot.press("f4")
        await settle(pilot)
        await pilot.click("#lang-en")
        await settle(pilot)
        assert "unsent 0" in str(app.screen.query_one(StatusBar).content)
        footer_labels = app.screen.query_one(TranslatedFooter).descriptions
        assert "Back" in footer_labels
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is list_screen
        headers = [c.label for c in app.screen.query_one(VirtualTable).columns]
        assert headers[:3] == ["Institution", "County", "Progress"]
        assert app.screen.query_one(VirtualTable).row_count > 0
    saved = json.loads(paths.config_file("default").read_text("utf-8"))
    assert saved["language"] == "en"


async def test_settings_switch_language_with_arrows_and_enter(store: Store) -> None:
    app = app_for(store, "zh")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("f4")
        await settle(pilot)
        await pilot.press("down", "enter")
        await settle(pilot)
        assert app.language == "en"
        assert "unsent 0" in str(app.screen.query_one(StatusBar).content)


async def test_switching_language_keeps_the_lists_search(store: Store) -> None:
    """A search typed, then the language switched in the settings: the list is composed again
    with the same search in its box and the same rows, in the other language."""
    app = app_for(store, "zh")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        list_screen = app.screen
        await pilot.press("/", "w", "l")
        await settle(pilot)
        found = list_screen.query_one(VirtualTable).row_count
        assert 0 < found < 60
        await pilot.press("escape", "f4")
        await settle(pilot)
        await pilot.press("ctrl+l")
        await settle(pilot)
        assert app.language == "en"
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is list_screen
        assert app.screen.query_one("#search").value == "wl"
        assert app.screen.query_one(VirtualTable).row_count == found
        assert [c.label for c in app.screen.query_one(VirtualTable).columns][0] == "Institution"


COUNTED = re.compile(
    r"\{(\w+)\} (?:[a-z]+ )?(visits|items|pages|institutions|cases|tasks|orders|photos|drafts|"
    r"lessons|refunds|changes|files|records|notices|days|steps|rows)\b"
)


def test_every_counted_english_message_says_one_in_the_singular() -> None:
    """'1 visit', never '1 visits': each English message counting something has its singular."""
    for key, (_zh, en) in i18n.MESSAGES.items():
        for placeholder, _noun in COUNTED.findall(en):
            assert key in i18n.SINGULAR, f"{key}: {en!r} has no singular"
            assert i18n.SINGULAR[key][0] == placeholder, key
    for key, (placeholder, one) in i18n.SINGULAR.items():
        plural = i18n.MESSAGES[key][1]
        names = set(re.findall(r"\{(\w+)\}", plural))
        assert set(re.findall(r"\{(\w+)\}", one)) == names, key
        values: dict[str, object] = {name: f"<{name}>" for name in names}
        assert i18n.tr(key, "en", **{**values, placeholder: 2}) == plural.format(
            **{**values, placeholder: 2}
        )
        singular = i18n.tr(key, "en", **{**values, placeholder: 1})
        assert (
            singular
            == one.format(**{**values, placeholder: 1})
            != plural.format(**{**values, placeholder: 1})
        )
        assert i18n.tr(key, "zh", **{**values, placeholder: 1}) == i18n.MESSAGES[key][0].format(
            **{**values, placeholder: 1}
        )


@pytest.mark.parametrize(
    ("lang", "who"), [("zh", "王小明（技术人员，430702）"), ("en", "王小明 (technician, 430702)")]
)
async def test_settings_name_the_technician_with_the_languages_punctuation(
    store: Store, lang: str, who: str
) -> None:
    from tests.painted import PaintedScreen

    app = app_for(store, lang)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("f4")
        await settle(pilot)
        assert any(who in line for line in PaintedScreen.repainted(app))
