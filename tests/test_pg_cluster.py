"""The PostgreSQL tests never skip under CI: missing PostgreSQL fails the run there."""

from __future__ import annotations

import pytest

from tests import pg_cluster


def test_missing_postgresql_fails_under_ci_and_skips_elsewhere(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(pg_cluster, "binaries", lambda: None)
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI must run them"):
        pg_cluster.require_postgres()
    monkeypatch.delenv("CI")
    with pytest.raises(pytest.skip.Exception, match="initdb"):
        pg_cluster.require_postgres()
