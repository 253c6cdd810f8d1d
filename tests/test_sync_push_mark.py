"""A push answer's mark is kept in the same transaction as the results it proves: a laptop that
dies right after recording them still holds the proof of the write that took its ops, so an old
copy of the store put back afterwards is found out and the ops are sent again."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.live_server import LiveServer
from tests.test_sync_office import RealOffice, connect, disconnect, replica, visit
from tests.test_sync_restore import client, put_back


class PowerCut(BaseException):
    """The laptop switched off (nothing in the sync client catches it)."""


async def test_a_laptop_dying_right_after_recording_a_push_still_proves_it_was_taken(
    tmp_path: Path,
) -> None:
    real = RealOffice(tmp_path, institutions=4)
    li, wang = real.add("李娜"), real.add("王强")
    real.assign(li, real.ids[:2])
    real.assign(wang, real.ids[2:])
    old_copy = tmp_path / "yesterday.sqlite"
    with LiveServer(real.db) as server:
        port = server.port
        await connect(li, server.url)
        await connect(wang, server.url)
        await client(li).run_round()
        await client(wang).run_round()
        shutil.copy(real.db, old_copy)  # the office's copy, taken before her visit
        assert li.store is not None and wang.store is not None
        li.store.create_visit(visit(li, real.ids[0], 1, "整改复查"))
        recorded = li.store.record_results

        def then_power_cut(*args: Any) -> None:
            recorded(*args)
            raise PowerCut  # the answer is on disk; nothing after it ran

        li.store.record_results = then_power_cut  # type: ignore[method-assign]
        with pytest.raises(PowerCut):
            await client(li).run_round()
        assert li.store.pending_ops(10) == [] and real.visit_ids() == [f"{li.id}-v1"]
    await disconnect(li)
    put_back(real.db, old_copy)  # the office loses her visit
    with LiveServer(real.db, port=port) as server:
        for n in range(6):  # and hands its numbers out again to other changes
            wang.store.create_visit(visit(wang, real.ids[2 + n % 2], n))
        await client(wang).run_round()
        await connect(li, server.url)  # the laptop switched on again
        await client(li).run_round()
        await client(li).run_round()
        assert sorted(real.visit_ids()) == sorted(
            [f"{li.id}-v1"] + [f"{wang.id}-v{n}" for n in range(6)]
        )
        assert all(n == 1 for n, _ in real.op_counts().values())
        office_view = real.registers()
        assert replica(li.store) == {i: office_view[i] for i in real.ids[:2]}
    await disconnect(li, wang)
