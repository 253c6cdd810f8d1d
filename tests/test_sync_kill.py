"""`fieldkit sync` killed with SIGKILL mid-round, then run again: the round completes, nothing lost or doubled."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

from cache.store import Store
from fieldkit import config
from fieldkit.sync import SyncClient, login
from tests.fault_proxy import FaultProxy, Faults
from tests.live_server import LiveServer
from tests.test_sync_office import RealOffice, visit

VISITS = 450  # three push batches of 200, 200 and 50
ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")


KILL_POINTS: dict[str, Callable[[FaultProxy], bool]] = {
    # the office applied the second batch; its answer is still on the way
    "push_applied_unheard": lambda p: p.forwarded["/api/v1/sync/push"] >= 2,
    # everything was pushed; the office answered the pull, the answer is still on the way
    "pull_unheard": lambda p: p.forwarded["/api/v1/sync/pull"] >= 1,
}


def _sync(env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "fieldkit.cli", "sync"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.parametrize("point", sorted(KILL_POINTS))
async def test_a_killed_sync_completes_when_run_again(tmp_path: Path, point: str) -> None:
    real = RealOffice(tmp_path)
    tech = real.add("李娜")
    real.assign(tech, real.ids)
    with (
        LiveServer(real.db) as server,
        FaultProxy(server.url, faults=Faults(answer_delay=0.2)) as proxy,
    ):
        settings = await login(server.url, tech.token)
        with Store.open(settings.cache_path) as store:
            client = SyncClient(settings, store, tech.token)
            await client.run_round()
            await client.aclose()
            made = [
                store.create_visit(visit(tech, real.ids[n % 12], n, f"走访{n}"))["op_id"]
                for n in range(VISITS)
            ]
        config.save(replace(settings, server_url=proxy.url))
        env = dict(os.environ, PYTHONPATH=str(ROOT))

        proc = _sync(env)

        def kill_when_due(method: str, path: str) -> None:
            """Runs in the proxy as the office's answer comes back, before it is relayed."""
            if KILL_POINTS[point](proxy) and proc.poll() is None:
                proc.send_signal(signal.SIGKILL)

        proxy.on_forwarded = kill_when_due
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise AssertionError("the sync never reached the kill point") from None
        assert proc.wait(10) == -signal.SIGKILL

        with Store.open(settings.cache_path) as store:
            pending = {op["op_id"] for op in store.pending_ops(1000)}
        on_server = set(real.op_counts()) & set(made)
        assert pending | on_server == set(made)  # every op is still somewhere
        if point == "push_applied_unheard":  # the office has ops the client never heard about
            assert len(pending & on_server) == 200 and len(on_server) == 400
        else:
            assert not pending and len(on_server) == VISITS
        proxy.faults = Faults()
        again = _sync(env)
        out, err = again.communicate(timeout=60)
        assert again.returncode == 0, out + err
        assert "完成" in out and "Done" in out

    counts = real.op_counts()
    assert all(counts[op] == (1, "applied") for op in made)
    assert real.visit_ids() == sorted(f"{tech.id}-v{n}" for n in range(VISITS))
    with Store.open(settings.cache_path) as store:
        assert store.counts()["unsent"] == 0 and store.counts()["visits"] == VISITS
        assert {v["sync_state"] for v in store.visits()} == {"synced"}
