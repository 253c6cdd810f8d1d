"""The F3 dashboard counts the platform's readings, the field's marks beside them: online the
office's figures, offline the same figures from the readings pulled into the cache (zh and en)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import httpx
import pytest

from fieldkit import domain
from screens.app import make_app
from screens.dashboard import DashboardScreen
from tests.live_server import LiveServer, admin, make_op, small_office, write_csv
from tests.test_app_fixtures import fixed_clock, settle, wait_until, widget_text
from tests.test_app_sync import logged_in
from tests.test_server_platform import _lines

WORDS = {
    "zh": {
        "office": "办公室统计（联网",
        "cache": "本机缓存（离线",
        "listed": "平台已列出 3/3 家",
        "registered": "平台注册",
        "bank": "银行核验通过率",
        "full": "全流程监管",
        "parent": "家长端指导",
        "amount": "1,234.50 元",
        "orders": "平台订单",
        "division": "常德市武陵区",
    },
    "en": {
        "office": "from the office (online",
        "cache": "this laptop's copy (offline",
        "listed": "the platform lists 3 of 3",
        "registered": "Platform registration",
        "bank": "Bank verification pass rate",
        "full": "Full-process supervision",
        "parent": "Parent app guidance",
        "amount": "1,234.50 yuan",
        "orders": "Platform orders",
        "division": "常德市武陵区",
    },
}


def _row(text: str, label: str) -> list[str]:
    """The figures on the line that starts with `label` (bars dropped), as the eye reads them."""
    line = next(line for line in text.splitlines() if line.strip().startswith(label))
    rest = line.strip()[len(label) :]
    return [w for w in rest.split() if not set(w) <= set("█▉▊▋▌▍▎▏·")]


async def _dashboard(settings: object, store: object) -> tuple[str, str, str]:
    """Open F3 and wait for its figures; (source line, figures, divisions) as shown at 120x40."""
    app = make_app(settings, store, None, clock=fixed_clock)  # type: ignore[arg-type]
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("f3")
        await wait_until(pilot, lambda: isinstance(app.screen, DashboardScreen))
        screen = app.screen
        await wait_until(pilot, lambda: screen.source != "")
        if settings.server_url.endswith(":9"):  # type: ignore[attr-defined]
            assert screen.source == "cache"
        else:
            await wait_until(pilot, lambda: screen.source == "office")
        return (
            widget_text(screen.query_one("#source"), 118),
            widget_text(screen.query_one("#stats"), 118),
            widget_text(screen.query_one("#divisions"), 118),
        )


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_the_dashboard_counts_the_platform_with_the_field_beside_online_and_offline(
    tmp_path: Path, lang: str
) -> None:
    office = small_office(tmp_path)
    code, out = admin(office.db, "import-platform", str(write_csv(tmp_path / "p.csv", _lines())))
    assert code == 0, out
    words = WORDS[lang]
    with LiveServer(office.db) as server:
        # On site: the third institution marked registered, which the platform has not listed
        op = make_op(
            "step.set",
            office.wuling[2],
            {"step": "registered", "status": "done"},
            domain.HLC("laptop-b"),
        )
        pushed = httpx.post(
            server.url + "/api/v1/sync/push",
            json={"client_id": "laptop-b", "ops": [op]},
            headers=office.headers("tech_a"),
        ).json()["results"]
        assert [r["status"] for r in pushed] == ["applied"]
        settings, store = await logged_in(server.url, office.tokens["tech_a"])
        settings.language = lang
        online = await _dashboard(settings, store)
    offline = await _dashboard(replace(settings, server_url="http://127.0.0.1:9"), store)
    store.close()
    assert words["office"] in online[0] and words["cache"] in offline[0]
    assert "—" not in offline[0]  # the last sync's time, from the cache
    for source, figures, divisions in (online, offline):
        assert words["listed"] in source
        # The platform's figures (registered 2, full process 1 of 3, 12 orders), the field's beside
        assert _row(figures, words["registered"]) == ["2", "1"]  # the field: the third, on site
        assert _row(figures, words["full"]) == ["1", "(33.3%)", "0"]
        assert _row(figures, words["parent"]) == ["—", "0"]  # a step the platform does not know
        assert _row(figures, words["orders"]) == ["12"]
        assert words["amount"] in figures and _row(figures, words["bank"]) == ["33.33%", "0.00%"]
        assert _row(divisions, words["division"]) == ["3", "1", "1", "0"]
    assert online[1] == offline[1] and online[2] == offline[2]
