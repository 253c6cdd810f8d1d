"""First run: connect to the office (address and token, checked at once) or try the demo."""

from __future__ import annotations

import asyncio

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Button, Input, Label

from fieldkit import config

from .base import FieldkitScreen
from .i18n import error_text
from .widgets.footer import TranslatedFooter


class FirstRunScreen(FieldkitScreen):
    """Where a new profile starts."""

    CSS_PATH = "first_run.tcss"
    BINDINGS = [Binding("f4", "app.open_settings", "Settings", id="settings")]

    class Connected(Message):
        """Login worked: the profile, its cache and its sync are ready."""

        def __init__(self, settings: config.Settings, store: object, sync: object) -> None:
            super().__init__()
            self.settings, self.store, self.sync = settings, store, sync

    class Failed(Message):
        """Login did not work; the text says why and what to do."""

        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    def compose(self) -> ComposeResult:
        """Address, token, Connect; or the demo."""
        with Vertical(id="box"):
            yield Label(self.t("first.title"), classes="title")
            yield Label(self.t("first.intro"))
            yield Label(self.t("first.url"))
            yield Input(placeholder=self.t("first.url_hint"), id="url")
            yield Label(self.t("first.token"))
            yield Input(password=True, id="token")
            yield Label("", id="message")
            with Horizontal(classes="buttons"):
                yield Button(self.t("first.connect"), variant="primary", id="connect")
                yield Button(self.t("first.demo"), id="demo")
        yield TranslatedFooter()

    def on_mount(self) -> None:
        """Start in the address box."""
        self.query_one("#url", Input).focus()

    @on(Input.Submitted, "#url")
    def _to_token(self) -> None:
        self.query_one("#token", Input).focus()

    @on(Input.Submitted, "#token")
    @on(Button.Pressed, "#connect")
    def _connect(self) -> None:
        from fieldkit.sync import SyncError
        from fieldkit.sync.http import normalise_url

        url_box = self.query_one("#url", Input)
        token = self.query_one("#token", Input).value.strip()
        if not url_box.value.strip() or not token:
            self._say(self.t("first.need_both"), "bold red")
            return
        try:
            url = normalise_url(url_box.value)
        except SyncError as exc:  # said at once, in words; Connect stays available
            self._say("✗ " + error_text(exc, self.fk.language), "bold red")
            url_box.focus()
            return
        if url != url_box.value:
            url_box.value = url  # show what will be used: ：／。 and spaces put right
        self._say(self.t("first.checking"), "cyan")
        self.query_one("#connect", Button).disabled = True
        self.connect(url, token)

    @work(exclusive=True, group="login", exit_on_error=False)
    async def connect(self, url: str, token: str) -> None:
        """Check the token with the server, then open this profile's cache; every failure is
        answered with Failed, so Connect is never left disabled."""
        from cache.errors import CacheError
        from fieldkit.sync import SyncError, login

        from .app import services_for

        lang = self.fk.language
        try:
            settings = await login(url, token, self.fk.settings.profile)
            settings.language = lang
            store, sync, _ = await asyncio.to_thread(services_for, settings)
        except (SyncError, config.ConfigError, CacheError) as exc:
            self.post_message(self.Failed(error_text(exc, lang)))
            return
        except Exception as exc:  # unforeseen: still words, and Connect again
            self.post_message(self.Failed(self.t("first.failed", why=error_text(exc, lang))))
            return
        self.post_message(self.Connected(settings, store, sync))

    def on_first_run_screen_failed(self, message: Failed) -> None:
        """Say what went wrong; keep what was typed."""
        self.query_one("#connect", Button).disabled = False
        self._say("✗ " + message.text, "bold red")

    def on_first_run_screen_connected(self, message: Connected) -> None:
        """Open the assignment list."""
        tech = message.settings.technician
        self.notify(
            self.t(
                "first.ok",
                office=message.settings.office_name or "",
                name=tech.name if tech else "",
            )
        )
        self.fk.use_services(message.settings, message.store, message.sync)  # type: ignore[arg-type]

    @on(Button.Pressed, "#demo")
    def _demo(self) -> None:
        self._say(self.t("first.demo_hint"), "bold yellow")

    def _say(self, text: str, style: str) -> None:
        self.query_one("#message", Label).update(Text(text, style))
