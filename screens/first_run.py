"""First run: connect to the office (address and token, checked at once) or try the demo.

The check answers within CONNECT_WITHIN seconds, whatever the office does (refuses, never
answers, is some other web server, fails); Esc cancels it before; every failure is this
screen's own sentence (a first connection, not a sync), Connect enabled again and nothing typed
lost. The technical detail goes to the log, and under the sentence in English only."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Button, Input, Label

from fieldkit import config

from .base import FieldkitScreen
from .i18n import ZH, error_text
from .widgets.footer import TranslatedFooter
from .widgets.wrapped import WrappedText

if TYPE_CHECKING:
    from fieldkit.sync import SyncError

log = logging.getLogger("screens.first_run")

CONNECT_WITHIN = 5.0  # seconds the whole check may take: an answer, good or bad, by then


class FirstRunScreen(FieldkitScreen):
    """Where a new profile starts."""

    CSS_PATH = "first_run.tcss"
    BINDINGS = [
        Binding("f4", "app.open_settings", "Settings", id="settings"),
        Binding("escape", "cancel_connect", "Cancel connecting", id="cancel_connect"),
    ]
    waiting = False  # the office is being asked (Esc cancels); not once login has answered

    class Connected(Message):
        """Login worked: the profile, its cache and its sync are ready."""

        def __init__(self, settings: config.Settings, store: object, sync: object) -> None:
            super().__init__()
            self.settings, self.store, self.sync = settings, store, sync

    class Failed(Message):
        """Login did not work; the text says why and what to do (`detail`: the technical words,
        shown dimmed in English; `field`: the widget to go to, "url", "token" or "connect")."""

        def __init__(self, text: str, detail: str = "", field: str = "url") -> None:
            super().__init__()
            self.text, self.detail, self.field = text, detail, field

    def compose(self) -> ComposeResult:
        """Address, token, Connect; or the demo."""
        with Vertical(id="box"):
            yield Label(self.t("first.title"), classes="title")
            yield Label(self.t("first.intro"))
            yield Label(self.t("first.url"))
            # the cursor stays at the end when a failure brings the focus back: nothing typed is
            # replaced by the next key
            yield Input(placeholder=self.t("first.url_hint"), id="url", select_on_focus=False)
            yield Label(self.t("first.token"))
            yield Input(password=True, id="token")
            yield WrappedText("", id="message")
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

        if self.waiting:  # Enter in the token box again while the office is being asked
            return
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
        self._say(self.t("first.checking", address=url, seconds=f"{CONNECT_WITHIN:g}"), "cyan")
        self.query_one("#connect", Button).disabled = True
        self._wait(True)
        self.connect(url, token)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Esc (cancel) only while the office is being asked."""
        return self.waiting if action == "cancel_connect" else True

    def action_cancel_connect(self) -> None:
        """Stop asking the office; what was typed stays, Connect is available again."""
        if not self.waiting:
            return
        self.workers.cancel_group(self, "login")
        self._wait(False)
        self.query_one("#connect", Button).disabled = False
        self._say(self.t("first.cancelled"), "bold yellow")

    def _wait(self, waiting: bool) -> None:
        self.waiting = waiting
        self.refresh_bindings()

    @work(exclusive=True, group="login", exit_on_error=False)
    async def connect(self, url: str, token: str) -> None:
        """Check the token with the server, then open this profile's cache; every failure is
        answered with Failed, so Connect is never left disabled."""
        from cache.errors import CacheError
        from fieldkit.logs import client_log
        from fieldkit.sync import SyncError, login

        from .app import services_for

        lang = self.fk.language
        try:
            try:
                settings = await login(url, token, self.fk.settings.profile, within=CONNECT_WITHIN)
            finally:
                self._wait(False)  # answered (or cancelled): from here on it runs to its end
            settings.language = lang
            store, sync, _ = await asyncio.to_thread(services_for, settings)
        except SyncError as exc:
            log.warning("connecting to %s failed: %s (%s)", url, exc.reason or exc.kind, exc.detail)
            self.post_message(self._failed(exc, url))
            return
        except (config.ConfigError, CacheError) as exc:
            log.warning("connecting to %s failed: %s", url, exc)
            self.post_message(self.Failed(error_text(exc, lang)))
            return
        except Exception as exc:  # unforeseen: still words, and Connect again
            log.exception("connecting to %s failed unexpectedly", url)
            said = self.t("connect.unexpected", log=str(client_log()))
            self.post_message(self.Failed(said, f"{type(exc).__name__}: {exc}"))
            return
        self.post_message(self.Connected(settings, store, sync))

    def _failed(self, exc: SyncError, url: str) -> FirstRunScreen.Failed:
        """This screen's sentence for a failed first connection, and the box to put right."""
        reason = exc.reason
        if reason in ("refused", "timeout", "network", "not_office", "certificate"):
            detail = exc.detail  # ReadTimeout…, "/api/v1/me answered HTTP 404"
        else:  # the sentence names the status of a failing server itself
            detail = f"HTTP {exc.status}" if exc.status and reason != "server" else ""
        if reason in ("token", "forbidden", "throttled"):
            wait = exc.detail or "60"
            return self.Failed(self.t(f"connect.{reason}", wait=wait), detail, field="token")
        if reason in ("refused", "timeout", "network", "server", "not_office", "certificate"):
            said = self.t(
                f"connect.{reason}",
                address=url,
                seconds=f"{CONNECT_WITHIN:g}",
                status=exc.status or "",
            )
            retry = reason in ("timeout", "network", "server")  # the address was right
            return self.Failed(said, detail, field="connect" if retry else "url")
        return self.Failed(error_text(exc, self.fk.language), detail)  # key, CA file: its own

    def on_first_run_screen_failed(self, message: Failed) -> None:
        """Say what went wrong; keep what was typed, and go to the box to put right."""
        self.query_one("#connect", Button).disabled = False
        self._say("✗ " + message.text, "bold red", message.detail)
        self.query_one(f"#{message.field}").focus()

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

    def _say(self, text: str, style: str, detail: str = "") -> None:
        """The sentence; under it, dimmed, the technical detail (in English only: Chinese
        sentences carry no English words)."""
        said = Text(text, style)
        if detail and not self.fk.language.startswith(ZH):
            said.append("\n" + " ".join(detail.split())[:120], "dim")  # one line at most
        self.query_one("#message", WrappedText).update(said)
