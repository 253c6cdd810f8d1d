"""How the app starts: the profile's services opened, the list painted, the rest after it.

What the first paint of the list needs is loaded before it (Textual, the cache, the list's
screen); what it does not need waits until the list is on the screen: the sync machinery
(httpx and the system's CA certificates, built in a thread worker by the app), the search keys'
in-memory copy, the photo watch, every other screen (imported when opened), QR codes, images
and PDFs (imported when used; the terminal is asked what pictures it can draw when the first one
is shown, screens.dialogs.preview.load_images, not at every start). tests/test_start.py pins this; benchmarks/bench_app.py
measures it through the real `fieldkit` command.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

from fieldkit import config

if TYPE_CHECKING:
    from cache.store import Store
    from fieldkit.sync import BackgroundSync, SyncStatus

    from .app import SyncFactory


def services_for(settings: config.Settings) -> tuple[Store, SyncFactory, str | None]:
    """Open the profile's cache (repairing a damaged one) and prepare its background sync.

    The third item says, in the user's language, what a repair did (None when nothing was wrong).
    The profile becomes the one commands use when none is named (fieldkit.profiles).
    The sync is only described here: building it loads httpx, which the first paint does not need.
    """
    from cache.salvage import open_or_salvage
    from fieldkit import profiles

    token = config.load_token(settings.profile)
    store, repaired = open_or_salvage(settings.cache_path)
    profiles.remember(settings.profile)

    def build(on_status: Callable[[SyncStatus], None]) -> BackgroundSync:
        from fieldkit.sync import BackgroundSync, SyncClient

        return BackgroundSync(SyncClient(settings, store, token), on_status)

    return store, build, repaired.message(settings.language) if repaired else None


def run_from_cli(args: argparse.Namespace) -> int:
    """`fieldkit` with no command: open the app on the profile (first-run screen if not logged in)."""
    from cache.errors import CacheError

    from .app import make_app

    try:
        settings = config.load(args.profile)
        if getattr(args, "lang", None):
            settings.language = args.lang  # --lang: this run's interface language
        store, sync, notice = services_for(settings) if settings.logged_in else (None, None, None)
    except (config.ConfigError, CacheError) as exc:
        from fieldkit.cli.client import exit_code_for  # the sync commands' module: not at start

        print(exc, file=sys.stderr)
        return exit_code_for(exc)
    app = make_app(settings, store, sync, notice=notice)
    try:
        app.run()
    finally:
        if app.store is not None:
            app.store.close()
    return 0
