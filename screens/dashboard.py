"""The dashboard: my list's figures (and, for a supervisor, per county or city) drawn as bars."""

from __future__ import annotations

from typing import Any

from rich.table import Table
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.message import Message
from textual.widgets import Static

from fieldkit import domain

from .base import FieldkitScreen
from .i18n import tr
from .widgets.discrepancies import DiscrepancyList
from .widgets.footer import TranslatedFooter
from .widgets.progress import bar
from .widgets.rounds_panel import RoundsPanel
from .widgets.status_bar import StatusBar

BAR = 24


def yuan(fen: int) -> str:
    """'6,886,700.00' from fen."""
    return f"{fen / 100:,.2f}"


def stats_table(stats: dict[str, Any], lang: str) -> Table:
    """Headline figures and institutions per step as bars."""
    total = int(stats.get("institutions") or 0)
    table = Table.grid(padding=(0, 1))
    table.add_column(no_wrap=True)
    table.add_column(no_wrap=True)
    table.add_column(justify="right", no_wrap=True)
    table.add_row(Text(tr("dash.institutions", lang), "bold"), "", Text(f"{total:,}", "bold"))
    rate = float(stats.get("bank_verified_rate") or 0)
    table.add_row(tr("dash.bank_rate", lang), bar(rate, 1, BAR, "cyan"), f"{rate * 100:.2f}%")
    full = int(stats.get("full_process") or 0)
    share = f" ({full / total * 100:.1f}%)" if total else ""
    table.add_row(
        tr("dash.full_process", lang), bar(full, total, BAR, "magenta"), f"{full:,}{share}"
    )
    table.add_row(tr("dash.orders", lang), "", f"{int(stats.get('orders') or 0):,}")
    table.add_row(
        tr("dash.amount", lang),
        "",
        tr("dash.yuan", lang, yuan=yuan(int(stats.get("order_amount_fen") or 0))),
    )
    table.add_row(tr("dash.visits", lang), "", f"{int(stats.get('visits') or 0):,}")
    table.add_row(
        tr("dash.rectifications", lang), "", f"{int(stats.get('rectification_notices') or 0):,}"
    )
    table.add_row("", "", "")
    table.add_row(Text(tr("dash.by_step", lang), "bold"), "", "")
    by_step = stats.get("by_step") or {}
    for step in domain.STEPS:
        done = int(by_step.get(step.key) or 0)
        table.add_row(step.name(lang), bar(done, total, BAR), f"{done:,}")
    return table


def divisions_table(rows: list[dict[str, Any]], lang: str) -> Table:
    """Per division: institutions, bank verified and full-process, with a bar of full-process."""
    table = Table(box=None, padding=(0, 1), header_style="bold")
    table.add_column(tr("dash.col_division", lang), no_wrap=True, max_width=20)
    table.add_column(tr("dash.col_institutions", lang), justify="right")
    table.add_column(tr("dash.col_bank", lang), justify="right")
    table.add_column(tr("dash.col_full", lang), justify="right")
    table.add_column("", no_wrap=True)
    for row in rows:
        total = int(row.get("institutions") or 0)
        full = int(row.get("full_process") or 0)
        name = row.get("name") or domain.full_name(row.get("division_code") or "")
        table.add_row(
            name,
            f"{total:,}",
            f"{int(row.get('bank_verified') or 0):,}",
            f"{full:,}",
            bar(full, total, 16, "magenta"),
        )
    return table


class DashboardScreen(FieldkitScreen):
    """Figures an office reports, for what is in my cache."""

    CSS_PATH = "dashboard.tcss"
    BINDINGS = [
        Binding("escape", "back", "Back", id="back"),
        Binding("l", "switch_level", "Switch level", id="level"),
        Binding("n", "start_campaign", "Start a look-back", id="campaign"),
    ]

    class Loaded(Message):
        """Stats and per-division progress from the cache."""

        def __init__(self, stats: dict[str, Any], divisions: list[dict[str, Any]]) -> None:
            super().__init__()
            self.stats, self.divisions = stats, divisions

    def __init__(self) -> None:
        super().__init__()
        self.level = "county"

    def compose(self) -> ComposeResult:
        """Two panels: the figures, then the divisions."""
        yield StatusBar()
        with VerticalScroll():
            yield Static(self._scope(), classes="title", id="scope")
            yield Static("", id="stats")
            yield Static("", id="divisions-title", classes="title")
            yield Static("", id="divisions")
            yield RoundsPanel(self.fk.language, self._supervisor(), id="rounds-panel")
            yield DiscrepancyList(self.fk.language, id="discrepancies")
        yield TranslatedFooter()

    def _supervisor(self) -> bool:
        tech = self.fk.settings.technician
        return tech is not None and tech.role == "supervisor"

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Only a supervisor starts look-back rounds."""
        return self._supervisor() if action == "start_campaign" else True

    def action_start_campaign(self) -> None:
        """Start a look-back round (回头看)."""
        self.query_one(RoundsPanel).ask()

    def _scope(self) -> str:
        """'My list', or a supervisor's zone by name."""
        tech = self.fk.settings.technician
        if tech is not None and tech.role == "supervisor":
            return self.t("dash.scope_zone", zone=domain.full_name(tech.zone))
        return self.t("dash.scope_mine")

    def on_mount(self) -> None:
        """Load the figures; again after every sync round."""
        self.reload()
        self.follow_sync()

    def reload(self) -> None:
        """Compute the figures again."""
        self.load()

    @work(thread=True, exclusive=True, group="dashboard", exit_on_error=False)
    def load(self) -> None:
        """Read stats off the event loop."""
        store = self.fk.store
        if store is None:
            return
        self.post_message(self.Loaded(store.local_stats(), store.progress(self.level)))

    def on_dashboard_screen_loaded(self, message: Loaded) -> None:
        """Draw the figures."""
        lang = self.fk.language
        self.query_one("#stats", Static).update(stats_table(message.stats, lang))
        level = self.t(f"dash.level_{self.level}")
        self.query_one("#divisions-title", Static).update(self.t("dash.by_division", level=level))
        self.query_one("#divisions", Static).update(divisions_table(message.divisions, lang))
        self.query_one(RoundsPanel).reload()
        if self.fk.store is not None:
            self.query_one(DiscrepancyList).show_for(self.fk.store, lang)

    def action_switch_level(self) -> None:
        """Counties or cities."""
        self.level = "city" if self.level == "county" else "county"
        self.reload()

    def action_back(self) -> None:
        """Back."""
        self.app.pop_screen()
