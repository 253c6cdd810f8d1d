"""Settings: the language (saved in the profile) and what this profile is connected to."""

from __future__ import annotations

from rich.table import Table
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import Label, RadioButton, RadioSet, Static

from .base import FieldkitScreen
from .i18n import tr
from .widgets.footer import TranslatedFooter
from .widgets.status_bar import StatusBar


class SettingsScreen(FieldkitScreen):
    """Language and profile."""

    CSS_PATH = "settings.tcss"
    BINDINGS = [
        Binding("escape", "back", "Back", id="back"),
        Binding("ctrl+l", "toggle_language", "Switch language", id="language"),
    ]

    def compose(self) -> ComposeResult:
        """Language choice and profile facts."""
        yield StatusBar()
        with VerticalScroll():
            yield Label(self.t("settings.title"), classes="title")
            yield Label(self.t("settings.language"))
            with RadioSet(id="language"):
                yield RadioButton("中文", value=self.fk.language == "zh", id="lang-zh")
                yield RadioButton("English", value=self.fk.language == "en", id="lang-en")
            yield Static(self._profile_table(), id="profile")
            yield Label(self.t("settings.theme_hint"), classes="hint")
        yield TranslatedFooter()

    def on_mount(self) -> None:
        """Focus the language choice."""
        self.after_compose()

    def after_compose(self) -> None:
        """Start on the language choice, so arrows and Enter change it at once."""
        self.query_one("#language", RadioSet).focus()

    def _profile_table(self) -> Table:
        settings, lang = self.fk.settings, self.fk.language
        table = Table.grid(padding=(0, 2))
        table.add_column(style="bold", no_wrap=True)
        table.add_column(overflow="fold")  # a long cache path folds onto the next line, whole
        tech = settings.technician
        who = (
            tr(
                "settings.who",
                lang,
                name=tech.name,
                role=tr("role." + tech.role, lang),
                zone=tech.zone,
            )
            if tech
            else tr("common.none", lang)
        )
        for key, value in (
            ("settings.profile", settings.profile),
            ("settings.server", settings.server_url or tr("common.none", lang)),
            ("settings.office", settings.office_name or tr("common.none", lang)),
            ("settings.technician", who),
            ("settings.cache", str(settings.cache_path)),
        ):
            table.add_row(tr(key, lang), value)
        return table

    @on(RadioSet.Changed, "#language")
    async def _language(self, event: RadioSet.Changed) -> None:
        lang = "zh" if event.pressed.id == "lang-zh" else "en"
        if lang != self.fk.language:
            await self.fk.set_language(lang)
            self.notify(self.t("settings.saved"))

    async def action_toggle_language(self) -> None:
        """Chinese ⇄ English."""
        await self.fk.set_language("en" if self.fk.language == "zh" else "zh")
        self.notify(self.t("settings.saved"))

    def action_back(self) -> None:
        """Back."""
        self.app.pop_screen()
