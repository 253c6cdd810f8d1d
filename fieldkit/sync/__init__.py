"""The offline-first sync client: login, sync rounds and background sync (see DESIGN.md "Sync")."""

import sys

# httpx imports its own command line (httpx._main, with rich and click) whenever they are
# installed, and they are (Textual needs rich): 80-100 ms of every `fieldkit` command and app
# start, for a command fieldkit never runs. Marked absent before httpx is first imported,
# httpx falls back to its stub (`httpx.main` then says the CLI is not installed).
if "httpx" not in sys.modules:
    sys.modules["httpx._main"] = None  # type: ignore[assignment]

from .background import BackgroundSync, Backoff
from .client import RoundResult, SyncClient, SyncStatus, login
from .errors import SyncError

__all__ = [
    "Backoff",
    "BackgroundSync",
    "RoundResult",
    "SyncClient",
    "SyncError",
    "SyncStatus",
    "login",
]
