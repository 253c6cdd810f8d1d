"""The dashboard: the figures an office reports for my list (a supervisor: the zone), counted from
the platform's readings with the field's marks beside them, per county or city, drawn as bars.

Online they are the office's (`GET /api/v1/stats`); offline, or until the office answers, they
are computed from the platform's readings pulled into the cache, and the screen says which.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rich.cells import cell_len
from rich.table import Table
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.message import Message
from textual.widgets import Static

from cache.figures import regroup
from fieldkit import domain
from fieldkit.domain.platform import PLATFORM_STEPS
from fieldkit.sync import SyncError

from .base import FieldkitScreen
from .i18n import tr
from .widgets.discrepancies import DiscrepancyList
from .widgets.footer import TranslatedFooter
from .widgets.progress import bar
from .widgets.rounds_panel import RoundsPanel
from .widgets.status_bar import StatusBar, short_time

BAR = 24


def yuan(fen: int) -> str:
    """'6,886,700.00' from fen."""
    return f"{fen / 100:,.2f}"


def _field_cell(platform: int | str, field: int | str) -> Text:
    """The field's figure beside the platform's: yellow where the two differ."""
    return Text(
        f"{field:,}" if isinstance(field, int) else field, "dim" if field == platform else "yellow"
    )


# one line of the figures: label, its bar (drawn at a width), the platform's figure, the field's
Row = tuple[Text | str, Callable[[int], Text] | None, Text | str, Text | str]


def stats_table(stats: dict[str, Any], lang: str, width: int = 0) -> Table:
    """Headline figures and institutions per step as bars: the platform's, the field's beside.
    The bars are BAR cells wide, narrower when `width` (the panel's) would not hold every figure
    whole beside them (English at 80 columns)."""
    total = int(stats.get("institutions") or 0)
    field = stats.get("field") or {}
    rows: list[Row] = []

    def gauge(value: float, of: float, style: str = "green") -> Callable[[int], Text]:
        return lambda cells: bar(value, of, cells, style)

    rows.append((Text(tr("dash.institutions", lang), "bold"), None, Text(f"{total:,}", "bold"), ""))
    platform_head = Text(tr("dash.col_platform", lang), "bold")
    rows.append(("", None, platform_head, Text(tr("dash.col_field", lang), "dim")))
    rate = float(stats.get("bank_verified_rate") or 0)
    field_bank = int(field.get("bank_verified") or 0)
    shown = f"{rate * 100:.2f}%"
    rows.append(
        (
            tr("dash.bank_rate", lang),
            gauge(rate, 1, "cyan"),
            shown,
            _field_cell(shown, f"{field_bank / total * 100:.2f}%" if total else "0.00%"),
        )
    )
    full = int(stats.get("full_process") or 0)
    share = f" ({full / total * 100:.1f}%)" if total else ""
    rows.append(
        (
            tr("dash.full_process", lang),
            gauge(full, total, "magenta"),
            f"{full:,}{share}",
            _field_cell(full, int(field.get("full_process") or 0)),
        )
    )
    rows.append((tr("dash.orders", lang), None, f"{int(stats.get('orders') or 0):,}", ""))
    yuan_text = tr("dash.yuan", lang, yuan=yuan(int(stats.get("order_amount_fen") or 0)))
    rows.append((tr("dash.amount", lang), None, yuan_text, ""))
    rows.append((tr("dash.visits", lang), None, f"{int(stats.get('visits') or 0):,}", ""))
    notices = f"{int(stats.get('rectification_notices') or 0):,}"
    rows.append((tr("dash.rectifications", lang), None, notices, ""))
    rows.append(("", None, "", ""))
    rows.append(
        (
            Text(tr("dash.by_step", lang), "bold"),
            None,
            platform_head,
            Text(tr("dash.col_field", lang), "dim"),
        )
    )
    by_step = stats.get("by_step") or {}
    field_steps = field.get("by_step") or {}
    for step in domain.STEPS:
        marked = int(field_steps.get(step.key) or 0)
        if step.key in PLATFORM_STEPS:
            done = int(by_step.get(step.key) or 0)
            rows.append(
                (step.name(lang), gauge(done, total), f"{done:,}", _field_cell(done, marked))
            )
        else:  # the platform does not know this step: the field's marks alone
            rows.append(
                (step.name(lang), gauge(marked, total, "grey50"), "—", _field_cell("", marked))
            )
    return _figures_grid(rows, width)


def _figures_grid(rows: list[Row], width: int) -> Table:
    """The rows in four columns; the bars as wide as the figures leave room for (6..BAR)."""
    texts = [
        [cell if isinstance(cell, Text) else Text(cell) for cell in (r[0], r[2], r[3])]
        for r in rows
    ]
    used = sum(max(cell_len(row[i].plain) for row in texts) for i in range(3)) + 3  # + gaps
    cells = max(6, min(BAR, width - used)) if width else BAR
    table = Table.grid(padding=(0, 1))
    table.add_column(no_wrap=True)
    table.add_column(no_wrap=True)
    table.add_column(justify="right", no_wrap=True)
    table.add_column(justify="right", no_wrap=True)
    for label, gauge, platform, field in rows:
        table.add_row(label, gauge(cells) if gauge else "", platform, field)
    return table


def source_text(source: str, stats: dict[str, Any], lang: str, detail: str = "") -> Text:
    """Where the figures come from: the office (online) or this laptop's cache (offline)."""
    total = int(stats.get("institutions") or 0)
    listed = int(stats.get("platform_reported") or 0)
    text = Text()
    if source == "office":
        text.append(tr("dash.source_office", lang, when=detail), "green")
    else:
        text.append(tr("dash.source_cache", lang, when=detail or "—"), "yellow")
    text.append("  ")
    if total and not listed:
        text.append(tr("dash.platform_none", lang), "bold yellow")
    else:
        text.append(
            tr("dash.platform_listed", lang, listed=f"{listed:,}", total=f"{total:,}"), "dim"
        )
    return text


def divisions_table(rows: list[dict[str, Any]], lang: str) -> Table:
    """Per division: institutions, the platform's bank verified and full-process, the field's
    full-process beside, with a bar of the platform's full-process."""
    table = Table(box=None, padding=(0, 1), header_style="bold")
    table.add_column(tr("dash.col_division", lang), no_wrap=True, max_width=20)
    table.add_column(tr("dash.col_institutions", lang), justify="right")
    table.add_column(tr("dash.col_bank", lang), justify="right")
    table.add_column(tr("dash.col_full", lang), justify="right")
    table.add_column(tr("dash.col_full_field", lang), justify="right", header_style="dim")
    table.add_column("", no_wrap=True)
    for row in rows:
        total = int(row.get("institutions") or 0)
        full = int(row.get("full_process") or 0)
        name = row.get("name") or domain.full_name(row.get("division") or "")
        table.add_row(
            name,
            f"{total:,}",
            f"{int(row.get('bank_verified') or 0):,}",
            f"{full:,}",
            _field_cell(full, int((row.get("field") or {}).get("full_process") or 0)),
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
        """The figures, from the cache (`cache`) or the office (`office`), per division too."""

        def __init__(
            self,
            stats: dict[str, Any],
            divisions: list[dict[str, Any]],
            source: str = "cache",
            detail: str = "",
        ) -> None:
            super().__init__()
            self.stats, self.divisions = stats, divisions
            self.source, self.detail = source, detail

    def __init__(self) -> None:
        super().__init__()
        self.level = "county"
        self.source = ""  # where the figures on screen come from: "cache" or "office"
        self.stats: dict[str, Any] = {}  # the figures on screen

    def compose(self) -> ComposeResult:
        """Two panels: the figures, then the divisions."""
        yield StatusBar()
        with VerticalScroll():
            yield Static(self._scope(), classes="title", id="scope")
            yield Static("", id="source")
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
        """Compute the figures again: the cache's at once, then the office's if it answers."""
        self.source = ""
        self.load()
        if self.fk.settings.server_url:
            self.ask_office()

    @work(thread=True, exclusive=True, group="dashboard", exit_on_error=False)
    def load(self) -> None:
        """The platform's figures as pulled into the cache, off the event loop (offline)."""
        store = self.fk.store
        if store is None:
            return
        stats, divisions = store.platform_figures(self.level)
        when = short_time(self.fk.status_view.last_success or store.get_meta("last_sync")) or ""
        self.post_message(self.Loaded(stats, divisions, "cache", when))

    @work(exclusive=True, group="dashboard-office", exit_on_error=False)
    async def ask_office(self) -> None:
        """The office's figures (online); the cache's stay on screen if it cannot answer."""
        from fieldkit.sync.figures import office_figures

        try:
            stats = await office_figures(self.fk.settings)
        except SyncError:
            return  # offline or refused: the cache's figures are what there is
        divisions = regroup(stats.get("children") or [], self.level)
        when = self.fk.clock().strftime("%H:%M")
        self.post_message(self.Loaded(stats, divisions, "office", when))

    def on_dashboard_screen_loaded(self, message: Loaded) -> None:
        """Draw the figures (the cache's never replace the office's once those arrived)."""
        if message.source == "cache" and self.source == "office":
            return
        self.source = message.source
        lang = self.fk.language
        self.query_one("#source", Static).update(
            source_text(message.source, message.stats, lang, message.detail)
        )
        self.stats = message.stats
        self._draw_stats()
        level = self.t(f"dash.level_{self.level}")
        self.query_one("#divisions-title", Static).update(self.t("dash.by_division", level=level))
        self.query_one("#divisions", Static).update(divisions_table(message.divisions, lang))
        self.query_one(RoundsPanel).reload()
        if self.fk.store is not None:
            self.query_one(DiscrepancyList).show_for(self.fk.store, lang)

    def _draw_stats(self) -> None:
        panel = self.query_one("#stats", Static)
        width = panel.size.width or self.size.width - 4
        panel.update(stats_table(self.stats, self.fk.language, width))

    def on_resize(self) -> None:
        """Bars as wide as the new width holds beside the figures."""
        if self.stats:
            self._draw_stats()

    def action_switch_level(self) -> None:
        """Counties or cities."""
        self.level = "city" if self.level == "county" else "county"
        self.reload()

    def action_back(self) -> None:
        """Back."""
        self.app.pop_screen()
