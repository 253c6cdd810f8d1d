"""Where fieldkit keeps its files: one home (FIELDKIT_HOME or the platform's data dir), one folder per profile."""

from __future__ import annotations

import os
from pathlib import Path

APP_NAME = "fieldkit"


def home() -> Path:
    """The folder for every file the client writes; FIELDKIT_HOME overrides the platform default."""
    override = os.environ.get("FIELDKIT_HOME")
    if override:
        return Path(override).expanduser()
    import platformdirs

    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def profile_dir(profile: str = "default") -> Path:
    """The folder of one profile (its config, token and cache)."""
    return home() / "profiles" / profile


def cache_file(profile: str = "default") -> Path:
    """The profile's SQLite cache."""
    return profile_dir(profile) / "cache.sqlite"


def config_file(profile: str = "default") -> Path:
    """The profile's settings (server URL, pinned key, language)."""
    return profile_dir(profile) / "config.json"


def token_file(profile: str = "default") -> Path:
    """The profile's bearer token, readable by its owner only."""
    return profile_dir(profile) / "token"


def log_dir() -> Path:
    """The folder of the log files: FIELDKIT_HOME/logs, else the platform's log folder."""
    override = os.environ.get("FIELDKIT_HOME")
    if override:
        return Path(override).expanduser() / "logs"
    import platformdirs

    return Path(platformdirs.user_log_dir(APP_NAME, appauthor=False))


def demo_dir() -> Path:
    """The demo's office store and its files."""
    return home() / "demo"
