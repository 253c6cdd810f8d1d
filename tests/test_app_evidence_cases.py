"""Evidence on the case screens: attached to a case item from the case tab, listed under the item
and counted in the ledger (F7), opened from either."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path

import pytest
from textual.widgets import Input, Label, Select, Static

from cache.store import Store
from fieldkit import domain
from screens.dialogs.evidence import EvidenceDialog
from screens.dialogs.preview import PreviewDialog
from screens.institution import InstitutionScreen
from screens.ledger import LedgerScreen
from screens.widgets.virtual_table import VirtualTable
from tests.evidence_files import photo, write
from tests.test_app_fixtures import (
    app_for,
    county_rows,
    county_store,
    settle,
    visible_rows,
    wait_until,
    widget_text,
)

NOTICE = "visit-notice-1"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    """The demo county, and a notice with two items given to the first institution."""
    for opened in county_store(tmp_path):
        opened.create_visit(
            domain.Visit(
                visit_id=NOTICE,
                institution_id=county_rows()[0][0]["id"],
                technician_id="T0001",
                kind="guidance",
                started_at=datetime(2026, 11, 28, 9, 0),
                outcome="partial",
                rectification=domain.Rectification(
                    ("张贴监管收款码", "开通退费流程"), date(2026, 12, 5)
                ),
            )
        )
        yield opened


def cases_shown(app: object) -> str:
    return widget_text(app.screen.query_one("#cases-text", Static), 120)  # type: ignore[attr-defined]


async def test_a_photo_attached_to_a_case_item_from_the_case_tab_is_listed_and_counted(
    store: Store, tmp_path: Path
) -> None:
    source = write(tmp_path / "张贴后.jpg", photo(5, size=(1200, 900)))
    inst = county_rows()[0][0]
    app = app_for(store, "zh")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await app.push_screen(InstitutionScreen(inst["id"]))
        await settle(pilot)
        await pilot.press("5")
        await settle(pilot)
        assert "证据：" not in cases_shown(app)
        await pilot.click("#case-evidence")
        await wait_until(pilot, lambda: isinstance(app.screen, EvidenceDialog))
        target = app.screen.query_one("#target", Select)
        assert json.loads(str(target.value)) == ["case", NOTICE, 0]  # its first open item
        app.screen.query_one("#evidence-path", Input).value = str(source)
        await pilot.press("enter")
        await wait_until(pilot, lambda: bool(store.attachments("case", NOTICE)))
        [row] = store.attachments("case", NOTICE)
        assert row["item"] == 0 and row["state"] == "unsent"
        await pilot.press("escape")
        await wait_until(pilot, lambda: "证据：张贴后.jpg" in cases_shown(app))
        shown = cases_shown(app)
        assert shown.index("张贴监管收款码") < shown.index("证据：张贴后.jpg")
        assert shown.index("证据：张贴后.jpg") < shown.index("开通退费流程")

        await pilot.press("f7")
        await wait_until(pilot, lambda: isinstance(app.screen, LedgerScreen))
        await wait_until(pilot, lambda: app.screen.query_one(VirtualTable).row_count == 1)
        [line] = visible_rows(app.screen.query_one(VirtualTable))
        assert line[0] == inst["name"] and line[6] == "1"  # done 0/2, one evidence file
        await pilot.press("e")  # the case's evidence, from the ledger
        await wait_until(
            pilot,
            lambda: (
                isinstance(app.screen, EvidenceDialog)
                and "张贴后.jpg" in widget_text(app.screen.query_one("#evidence-rows", Static), 120)
            ),
        )
        listed = widget_text(app.screen.query_one("#evidence-rows", Static), 120)
        assert "整改事项 #1" in listed and "未发送" in listed
        await pilot.press("enter")  # the empty field: open the file
        await wait_until(
            pilot,
            lambda: isinstance(app.screen, PreviewDialog) and bool(app.screen.query("#picture")),
        )
        assert row["sha256"] in str(app.screen.query_one("#facts", Label).render())
