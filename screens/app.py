"""The fieldkit app: wiring of services, app-wide keys, the status line and the command palette."""

from __future__ import annotations

import gc
import logging
from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from textual import work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.reactive import reactive
from textual.screen import ModalScreen, Screen
from textual.worker import Worker, WorkerState

from fieldkit import config

from .i18n import MESSAGES, listed, tr
from .palette import InstitutionCommands, LocalPalette
from .start import run_from_cli as run_from_cli  # the `fieldkit` command's entry, re-exported
from .start import services_for as services_for
from .wide_chars import check_textual, keep_wide_characters_whole
from .widgets.footer import binding_label
from .widgets.status_bar import StatusChanged, StatusView

log = logging.getLogger("screens.app")

if TYPE_CHECKING:
    from cache.store import Store
    from fieldkit.sync import BackgroundSync, SyncStatus

    from .photo_watch import PhotoWatch

SyncFactory = Callable[[Callable[["SyncStatus"], None]], "BackgroundSync"]
CACHE_WATCH_SECONDS = 2.0  # how often the cache is asked whether another process changed it


class DemoNetwork(Protocol):
    """The demo's switchable connection to its office (fieldkit.demo.Relay)."""

    online: bool

    def set_online(self, online: bool) -> None: ...


class FieldkitApp(App[None]):
    """The technician's app; its services (settings, cache, sync) are handed in."""

    # The list's styles load with the app's, as the list is the app's default screen.
    CSS_PATH = ["app.tcss", "assignments.tcss"]
    TITLE = "fieldkit"
    COMMANDS = App.COMMANDS | {InstitutionCommands}
    BINDINGS = [
        Binding("f1", "help", "Help", id="help"),
        Binding("question_mark", "help", "Help", id="help_q", show=False),
        Binding("f5", "sync_now", "Sync now", id="sync_now"),
        Binding("f2", "open_sync", "Sync details", id="sync_screen"),
        Binding("f3", "open_dashboard", "Dashboard", id="dashboard"),
        Binding("f4", "open_settings", "Settings", id="settings"),
        Binding("f6", "open_due_list", "Due list", id="due_list"),
        Binding("f7", "open_ledger", "Ledger", id="ledger"),
        Binding("f9", "toggle_demo_network", "Cut/restore network (demo)", id="demo_network"),
        Binding("ctrl+q", "quit", "Quit", id="quit", priority=True, show=False),
    ]
    # Screens narrower than this get the class -narrow (their .tcss stacks side-by-side panes).
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (100, "-wide")]
    status_view: reactive[StatusView] = reactive(StatusView, always_update=True)
    # the watched folder's new photos, kept by screens.photo_watch; a visit form offers them
    photo_inbox: reactive[tuple[Path, ...]] = reactive(tuple)

    def __init__(
        self,
        settings: config.Settings,
        store: Store | None,
        sync: SyncFactory | None,
        clock: Callable[[], datetime] | None = None,
        notice: str | None = None,
        demo_network: DemoNetwork | None = None,
    ) -> None:
        super().__init__()
        keep_wide_characters_whole()  # a toast over the list's edges keeps every 字
        # Start-up allocates many long-lived objects (modules, styles, widgets): collecting
        # them over and over costs more than the first frame itself. Everything alive now is
        # kept out of collections, and the collector waits until the first screen is drawn.
        gc.freeze()
        gc.disable()
        self.settings = settings
        self.store = store
        self.language = settings.language if settings.language in ("zh", "en") else "en"
        self.clock = clock or (lambda: datetime.now().astimezone())
        self._sync_factory = sync
        self.sync: BackgroundSync | None = None
        self.photo_watch: PhotoWatch | None = None  # started with the services
        self._notice = notice
        self.demo_network = demo_network
        self._sync_statuses = 0  # how many sync statuses arrived (counts older than one are stale)
        self._cache_version: int | None = None  # the cache's data_version when counts were read
        self._theme_follows = False  # the theme set below is the saved one, not a choice
        if settings.theme and settings.theme in self.available_themes:
            self.theme = settings.theme

    def t(self, key: str, **values: object) -> str:
        """A message in the app's language."""
        return tr(key, self.language, **values)

    def today(self) -> date:
        """Today, by the app's clock."""
        return self.clock().date()

    def get_default_screen(self) -> Screen[Any]:
        """The assignment list when there is a cache: composed and painted first, with no blank
        screen drawn and replaced before it (its styles are the app's: CSS_PATH above)."""
        if self.store is None:
            return super().get_default_screen()
        from .assignments import AssignmentsScreen

        self._show_technician()
        return AssignmentsScreen()

    def on_mount(self) -> None:
        """Start the services once the list is painted; without a cache, the first-run screen."""
        self.title = self.t("app.title")
        self._theme_follows = True
        if self.store is None:
            from .first_run import FirstRunScreen

            self.push_screen(FirstRunScreen())
            self.call_after_refresh(gc.enable)
            return
        self.call_after_refresh(self.start_services)
        if self._notice:
            self.notify(self._notice, severity="warning", timeout=30)

    def _show_technician(self) -> None:
        tech = self.settings.technician
        self.status_view = replace(
            self.status_view,
            technician=tech.name if tech else "",
            configured=self._sync_factory is not None,
        )

    def open_assignments(self) -> None:
        """After the first run: show the assignment list and start the services."""
        from .assignments import AssignmentsScreen

        self._show_technician()
        self.push_screen(AssignmentsScreen())
        self.start_services()

    def start_services(self) -> None:
        """Once the list is painted: read the counts, watch the photo folder, start syncing."""
        from .photo_watch import PhotoWatch

        gc.enable()
        check_textual()  # the toasts' wide characters: Textual's own cutting on another Textual
        self.refresh_counts()
        self.set_interval(CACHE_WATCH_SECONDS, self.watch_cache, name="watch-cache")
        self.tell_drafts()
        self.photo_watch = PhotoWatch(self)  # the watched folder, in the background
        self.photo_watch.start()
        if self._sync_factory is not None:
            self._build_sync(self._sync_factory)
        if self.store is not None:
            self.store.search_in_background()  # a word typed before the index: SQLite answers
        self.warm_search()

    @work(thread=True, group="warm-search", exit_on_error=False)
    def warm_search(self) -> None:
        """Load the search index from its file (or build it), not at the first keystroke."""
        if self.store is not None:
            self.store.warm_search()
        gc.freeze()  # start-up's objects, all made now: kept out of later collections (~1 us each)

    @work(thread=True, group="sync-start", exit_on_error=False)
    def _build_sync(self, factory: SyncFactory) -> None:
        """Build the background sync in a thread: its HTTP client loads httpx and the system's CA
        certificates (~0.2 s), which on the event loop would hold up the first keys typed."""
        sync = factory(self._on_sync_status)
        gc.freeze()  # (as warm_search does)
        self.call_from_thread(self._run_sync, sync)

    def _run_sync(self, sync: BackgroundSync) -> None:
        self.sync = sync
        self.run_worker(sync.run(), name="background-sync", group="sync", exit_on_error=False)

    def use_services(self, settings: config.Settings, store: Store, sync: SyncFactory) -> None:
        """Adopt what a successful first-run login produced, then open the list."""
        self.settings, self.store, self._sync_factory = settings, store, sync
        self.language = settings.language if settings.language in ("zh", "en") else self.language
        self.open_assignments()

    # status -----------------------------------------------------------------------------------
    def _on_sync_status(self, status: SyncStatus) -> None:
        """BackgroundSync's callback (any thread): hand the status to the event loop."""
        self._sync_statuses += 1
        # a round's counts come at its end; while it sends, the cache's own counts (read since
        # its last round, a change another process made included) are the newer ones
        counted = self.status_view if status.sending else status
        self.post_message(
            StatusChanged(
                replace(
                    self.status_view,
                    online=status.online,
                    sending=status.sending,
                    unsent=counted.unsent,
                    rejected=counted.rejected,
                    last_success=status.last_success,
                    last_error=status.last_error,
                    files_waiting=status.files_waiting,
                    uploading=status.uploading,
                )
            )
        )

    def on_qr_screen_poster_exported(self, message: Any) -> None:
        """A poster was printed and recorded: let the sync send it."""
        self.changed_locally()

    def on_status_changed(self, message: StatusChanged) -> None:
        """Show a new status everywhere."""
        self.status_view = message.view

    @work(thread=True, exclusive=True, group="counts", exit_on_error=False)
    def refresh_counts(self) -> None:
        """Re-read the unsent and rejected counts from the cache.

        Counts read while a sync round ended are older than the round's own: they are dropped
        (else the status bar and the list's unsent dots would say 'unsent 1' after the send)."""
        if self.store is None:
            return
        seen = self._sync_statuses
        self._cache_version = self.store.data_version()  # counts read from this version on
        counts = self.store.counts()
        self.call_from_thread(self._show_counts, seen, counts["unsent"], counts["rejected"])

    @work(thread=True, exclusive=True, group="watch-cache", exit_on_error=False)
    def watch_cache(self) -> None:
        """Every few seconds: when another process wrote the cache (`fieldkit visit` in another
        terminal), read the counts again, so the status bar does not wait for the next sync.
        (PRAGMA data_version: a few microseconds; in a thread, as the sync may hold the file.)"""
        if self.store is None:
            return
        if self.store.data_version() != self._cache_version:
            self.call_from_thread(self.refresh_counts)

    def _show_counts(self, seen: int, unsent: int, rejected: int) -> None:
        if seen == self._sync_statuses:
            self.status_view = replace(self.status_view, unsent=unsent, rejected=rejected)

    @work(thread=True, group="drafts", exit_on_error=False)
    def tell_drafts(self) -> None:
        """At start: say which visits were left unfinished (kept as drafts) and where."""
        if self.store is None:
            return
        names = self.store.draft_names()
        if names:
            shown = listed((name for _id, name in names[:3]), self.language) + (
                "…" if len(names) > 3 else ""
            )
            text = self.t("draft.at_start", n=len(names), names=shown)
            self.call_from_thread(self.notify, text, severity="warning", timeout=20)

    def changed_locally(self) -> None:
        """A change was saved: update the counts and let the sync send it soon."""
        self.refresh_counts()
        if self.sync is not None:
            self.sync.poke()

    # errors: the one place a failed worker becomes words ---------------------------------------
    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """Tell the user, in words, when a background job failed."""
        if event.state is WorkerState.ERROR and event.worker.error is not None:
            self.report_error(event.worker.error)

    def report_error(self, error: BaseException) -> None:
        """Show an error as a notification a person can act on."""
        from .i18n import error_text

        log.error("background job failed: %s", type(error).__name__, exc_info=error)
        kind = type(error).__module__.split(".")[0]
        key = {"cache": "error.cache", "fieldkit": "error.worker"}.get(kind, "error.worker")
        if type(error).__name__ in ("SyncError",):
            key = "error.sync"
        self.notify(
            self.t(key, why=error_text(error, self.language)) + " " + self.t("error.kept"),
            severity="error",
            timeout=8,
        )

    # actions ----------------------------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Before the first login there is nothing to sync or count: hide those keys; hide the
        key of the screen already shown."""
        if self.store is None and action in (
            "sync_now",
            "open_sync",
            "open_dashboard",
            "open_due_list",
            "open_ledger",
        ):
            return False
        if action == "toggle_demo_network" and self.demo_network is None:
            return False
        return SCREEN_OF_ACTION.get(action) != type(self.screen).__name__

    def action_sync_now(self) -> None:
        """Sync now instead of waiting."""
        if self.sync is None:
            self.notify(self.t("status.no_sync"), severity="warning")
            return
        self.sync.sync_now()
        self.notify(self.t("status.sync_started"), timeout=2)

    def action_toggle_demo_network(self) -> None:
        """In the demo: cut the connection to the office, or restore it; sync at once either way,
        so the status line says at once whether the office answers."""
        if self.demo_network is None:
            return
        online = not self.demo_network.online
        self.demo_network.set_online(online)
        self.notify(self.t("demo.online" if online else "demo.offline"), timeout=4)
        if self.sync is not None:
            self.sync.sync_now()

    def action_open_sync(self) -> None:
        """Show unsent and rejected changes."""
        from .sync_screen import SyncScreen

        if self.store is not None:
            self.show_tool_screen(SyncScreen)

    def action_open_dashboard(self) -> None:
        """Show the figures of my list."""
        from .dashboard import DashboardScreen

        if self.store is not None:
            self.show_tool_screen(DashboardScreen)

    def action_open_due_list(self) -> None:
        """Show what falls due: overdue, today, this week."""
        from .due_list import DueListScreen

        if self.store is not None:
            DueListScreen.open(self)

    def action_open_ledger(self) -> None:
        """Show the rectification ledger."""
        from .ledger import LedgerScreen

        if self.store is not None:
            LedgerScreen.open(self)

    def action_open_settings(self) -> None:
        """Show the settings."""
        from .settings import SettingsScreen

        self.show_tool_screen(SettingsScreen)

    def show_tool_screen(
        self, kind: type[Screen[Any]], make: Callable[[], Screen[Any]] | None = None
    ) -> None:
        """Switch to the sync, dashboard or settings screen instead of piling one on another:
        back down to it when it is open below (and nothing typed lies above it), in place of the
        tool screen shown now, else on top of the screen shown. `make` builds a new one (with
        data read beforehand) instead of `kind()`."""
        make = make or kind
        from .help import HelpScreen

        if isinstance(self.screen, HelpScreen):
            self.pop_screen()  # help was read: go where it pointed
        if isinstance(self.screen, kind):
            return
        stack = self.screen_stack
        below = next((i for i, s in enumerate(stack) if isinstance(s, kind)), None)
        if below is not None and not any(
            getattr(s, "HOLDS_TYPING", False) or isinstance(s, ModalScreen)
            for s in stack[below + 1 :]
        ):
            for _ in stack[below + 1 :]:
                self.pop_screen()
        elif type(self.screen).__name__ in SCREEN_OF_ACTION.values():
            self.switch_screen(make())
        else:
            self.push_screen(make())

    def action_help(self) -> None:
        """Show what each key of this screen does, in the user's language."""
        from .help import HelpScreen, screen_keys

        screen = self.screen
        if isinstance(screen, HelpScreen):
            return
        name = f"help.screen.{type(screen).__name__}"
        title = self.t(name) if name in MESSAGES else self.t("help.this_screen")
        self.push_screen(HelpScreen(title, screen_keys(self, screen, self.language), self.language))

    def watch_theme(self, theme: str) -> None:
        """Remember the chosen colours in the profile (only once the app runs: not at start)."""
        if self._theme_follows and theme != self.settings.theme:
            self.settings.theme = theme
            self._save_settings()

    async def set_language(self, lang: str) -> None:
        """Switch every screen to `lang` and remember it in the profile."""
        self.language = lang
        self.settings.language = lang
        self.title = self.t("app.title")
        self._save_settings()
        for screen in list(self.screen_stack):  # the app's screens, and the payment code's
            relabel = getattr(screen, "relabel", None)
            if relabel is not None:
                await relabel()
        self.status_view = self.status_view

    @work(thread=True, group="settings", exit_on_error=False)
    def _save_settings(self) -> None:
        config.save(self.settings)

    def action_screenshot(self, filename: str | None = None, path: str | None = None) -> None:
        """Save an SVG of the screen in the Downloads folder, or FIELDKIT_HOME/screenshots when
        there is none (a fresh Windows or a server has no ~/Downloads), and say where."""
        from .screenshots import save_screenshot

        self.run_worker(
            save_screenshot(self, filename, path), group="screenshot", exit_on_error=False
        )

    # command palette --------------------------------------------------------------------------
    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        """Every key's action, in the user's language, plus Textual's own (themes, keys, quit)."""
        seen: set[str] = set()
        for _node, binding, enabled, _tip in screen.active_bindings.values():
            if not enabled or binding.action in seen or not _ours(binding.id):
                continue
            seen.add(binding.action)
            label = binding_label(binding.id, binding.description, self.language)
            yield SystemCommand(
                f"{label} ({self.get_key_display(binding)})",
                self.t("palette.help", what=label),
                _runner(self, _node, binding.action),
            )
        other = "en" if self.language == "zh" else "zh"
        yield SystemCommand(
            self.t("palette.language"),
            self.t("key.language"),
            lambda: self.run_worker(self.set_language(other), group="language"),
        )
        for command in super().get_system_commands(screen):
            key = TEXTUAL_COMMANDS.get(command.title)
            if key == "palette.screenshot":  # after the palette closes, into a folder that exists
                yield command._replace(
                    title=self.t(key),
                    help=self.t(f"{key}_help"),
                    callback=lambda: self.set_timer(0.1, self.action_screenshot),
                )
            elif key == "palette.keys":  # this screen's keys in the user's language (Textual's
                yield command._replace(  # own panel names them in English), once it is closed
                    title=self.t(key),
                    help=self.t(f"{key}_help"),
                    callback=lambda: self.set_timer(0.1, self.action_help),
                )
            elif key:
                yield command._replace(title=self.t(key), help=self.t(f"{key}_help"))
            elif command.title != "Quit":  # the app's own ctrl+q is listed already
                yield command

    def action_command_palette(self) -> None:
        """Open the command palette, its search field in the user's language."""
        from textual.command import CommandPalette

        if self.use_command_palette and not isinstance(self.screen, CommandPalette):
            self.push_screen(
                LocalPalette(
                    self.t("palette.no_matches"),
                    id="--command-palette",
                    placeholder=self.t("palette.placeholder"),
                )
            )

    def search_themes(self) -> None:
        """The theme picker ("Change theme" in the palette), its search field in the user's
        language (Textual's own says "Search for themes…")."""
        from textual.theme import ThemeProvider

        self.push_screen(
            LocalPalette(
                self.t("palette.no_matches"),
                providers=[ThemeProvider],
                placeholder=self.t("palette.theme_search"),
            )
        )


# The keys that open a screen, hidden while that screen is shown (they would do nothing there).
SCREEN_OF_ACTION = {
    "open_sync": "SyncScreen",
    "open_dashboard": "DashboardScreen",
    "open_settings": "SettingsScreen",
    "open_due_list": "DueListScreen",
    "open_ledger": "LedgerScreen",
}

# Textual's own palette commands, by their English title, and the message naming each.
TEXTUAL_COMMANDS = {
    "Theme": "palette.theme",
    "Keys": "palette.keys",
    "Maximize": "palette.maximize",
    "Minimize": "palette.minimize",
    "Screenshot": "palette.screenshot",
}


def _ours(binding_id: str | None) -> bool:
    """Whether a binding is one of the app's, named in both languages (not Textual's tab, copy…)."""
    return binding_id is not None and f"key.{binding_id}" in MESSAGES


def _runner(app: App[None], node: Any, action: str) -> Callable[[], Any]:
    """A callback running `action` on the node whose binding it is."""

    async def run() -> None:
        await app.run_action(action, node)

    return run


def make_app(
    settings: config.Settings,
    store: Store | None,
    sync: SyncFactory | None,
    clock: Callable[[], datetime] | None = None,
    *,
    notice: str | None = None,
    demo_network: DemoNetwork | None = None,
) -> FieldkitApp:
    """The app with its services: a cache (None before first login), a sync builder, a clock;
    a notice to show once at start; the demo's switchable network."""
    return FieldkitApp(settings, store, sync, clock, notice, demo_network)
