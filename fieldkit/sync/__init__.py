"""The offline-first sync client: login, sync rounds and background sync (see DESIGN.md "Sync")."""

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
