"""Shared fixtures: every test gets its own FIELDKIT_HOME so nothing touches a real home."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def fieldkit_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private FIELDKIT_HOME for each test."""
    home = tmp_path / "fieldkit-home"
    monkeypatch.setenv("FIELDKIT_HOME", str(home))
    monkeypatch.setenv("FIELDKIT_LANG", "zh")
    return home
