"""The offline store: one SQLite file per profile, its migrations, queries, search and outbox."""

from .errors import CacheError, CacheTooNew, CacheUnavailable, MalformedChange, NotAFieldkitCache
from .rows import AssignmentRow, StepState
from .store import Store

__all__ = ["AssignmentRow", "CacheError", "CacheTooNew", "CacheUnavailable", "MalformedChange",
           "NotAFieldkitCache", "StepState", "Store"]
