"""A server answering nonsense gets a clear protocol error; the cache and outbox stay as they were."""

from __future__ import annotations

import gc
import json
import time
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import datetime
from email.utils import formatdate
from pathlib import Path
from typing import Any

import pytest

from cache.store import Store
from fieldkit import config, domain
from fieldkit.demo_data import generate_province
from fieldkit.sync import SyncClient, SyncError, login
from tests.fault_proxy import Reply, ScriptedServer
from tests.test_sync_login import KEY_A, office_routes

EPOCH = "e-1"
PROVINCE = generate_province()
INSTITUTIONS = [dict(i) for i in PROVINCE.institutions[:3]]
for _inst in INSTITUTIONS:
    _inst.pop("account_no"), _inst.pop("name_latin")
IDS = {i["id"] for i in INSTITUTIONS}
STEPS = [dict(s, hlc=None, updated_by=None) for s in PROVINCE.steps if s["institution_id"] in IDS]


def first_page() -> dict[str, Any]:
    """The office's first page: the institutions and their steps."""
    changes = [{"kind": "institution", "id": i["id"], "data": i} for i in INSTITUTIONS]
    changes += [
        {"kind": "step", "id": f"{s['institution_id']}:{s['step']}", "data": s} for s in STEPS
    ]
    for seq, change in enumerate(changes, start=1):
        change["seq"] = seq
    return {"changes": changes, "cursor": len(changes), "more": False, "epoch": EPOCH}


HEAD = len(first_page()["changes"])


class Office:
    """A scripted office: valid answers until a test swaps in nonsense for push or pull."""

    def __init__(self) -> None:
        self.push: Callable[[dict[str, Any]], Reply] | None = None
        self.pull: Callable[[int], Reply] | None = None
        self.pushed: list[str] = []

    def routes(self) -> dict[str, Any]:
        routes = office_routes([KEY_A])
        routes["/api/v1/sync/push"] = self._push
        routes["/api/v1/sync/pull"] = self._pull
        return routes

    def _push(self, query: str, body: bytes) -> Reply:
        batch = json.loads(body)
        if self.push is not None:
            return self.push(batch)
        self.pushed += [op["op_id"] for op in batch["ops"]]
        return _json(
            {"results": [{"op_id": op["op_id"], "status": "applied"} for op in batch["ops"]]}
        )

    def _pull(self, query: str, body: bytes) -> Reply:
        cursor = int(dict(p.split("=") for p in query.split("&"))["cursor"])
        if self.pull is not None:
            return self.pull(cursor)
        if cursor == 0:
            return _json(first_page())
        return _json({"changes": [], "cursor": HEAD, "more": False, "epoch": EPOCH})


def _json(value: Any) -> Reply:
    return Reply(200, json.dumps(value, ensure_ascii=False).encode("utf-8"))


@pytest.fixture
def office() -> Iterator[tuple[Office, ScriptedServer]]:
    script = Office()
    with ScriptedServer(script.routes()) as server:
        yield script, server


@pytest.fixture
async def synced(
    office: tuple[Office, ScriptedServer], tmp_path: Path
) -> AsyncIterator[tuple[Office, Store, SyncClient]]:
    """Logged in, first round done: the cache holds the office's three institutions."""
    script, server = office
    settings = await login(server.url, "good-token")
    store = Store.open(settings.cache_path)
    client = SyncClient(settings, store, "good-token", batch_size=2, max_pages=50)
    await client.run_round()
    yield script, store, client
    await client.aclose()
    store.close()


def local_edits(store: Store) -> list[str]:
    """A technician's afternoon: steps, a contact and a visit, all unsent."""
    a, b, _ = sorted(IDS)
    ops = [
        store.set_step(a, "parent_app", "in_progress", by="T0001"),
        store.set_step(b, "personnel", "blocked", "教师资格证缺失", by="T0001"),
        store.set_contact(a, contact_phone="13812345678"),
        store.create_visit(
            domain.Visit(
                visit_id="v-1",
                institution_id=a,
                technician_id="T0001",
                kind="guidance",
                started_at=datetime(2026, 11, 28, 9, 0),
                notes="首次走访",
            )
        ),
    ]
    return [op["op_id"] for op in ops]


def snapshot(store: Store) -> dict[str, Any]:
    """Everything a technician could see, with 'sending' read as 'unsent' (both go out again)."""

    def same(state: str | None) -> str | None:
        return "unsent" if state == "sending" else state

    insts = {
        i: {
            **(store.institution(i) or {}),
            "sync_state": same((store.institution(i) or {}).get("sync_state")),
        }
        for i in sorted(IDS)
    }
    steps = {
        i: {
            k: (s.status, s.reason, s.hlc, same(s.sync_state))
            for k, s in store.step_states(i).items()
        }
        for i in sorted(IDS)
    }
    visits = [{**v, "sync_state": same(v.get("sync_state"))} for v in store.visits()]
    outbox = [
        (op["op_id"], op["hlc"], op["kind"], op["data"], same(op["state"]))
        for op in store.pending_ops(1000) + store.rejected_ops()
    ]
    return {
        "institutions": insts,
        "steps": steps,
        "visits": visits,
        "outbox": outbox,
        "counts": store.counts(),
        "cursor": store.get_meta("cursor"),
        "epoch": store.get_meta("epoch"),
    }


def _results_for(batch: dict[str, Any], skip: int = 0) -> list[dict[str, Any]]:
    return [{"op_id": op["op_id"], "status": "applied"} for op in batch["ops"][skip:]]


PUSH_NONSENSE: dict[str, Callable[[dict[str, Any]], Reply]] = {
    "html": lambda b: Reply(200, b"<html><body>Wi-Fi login</body></html>", "text/html"),
    "truncated_json": lambda b: Reply(200, json.dumps({"results": _results_for(b)}).encode()[:25]),
    "results_not_a_list": lambda b: _json({"results": {"ok": True}}),
    "a_result_missing": lambda b: _json({"results": _results_for(b, skip=1)}),
    "a_foreign_op": lambda b: _json(
        {"results": _results_for(b) + [{"op_id": "not-sent", "status": "applied"}]}
    ),
    "unknown_status": lambda b: _json(
        {"results": [{"op_id": op["op_id"], "status": "maybe"} for op in b["ops"]]}
    ),
    "an_op_id_that_is_a_list": lambda b: _json(
        {"results": [{"op_id": [op["op_id"]], "status": "applied"} for op in b["ops"]]}
    ),
    "a_json_list": lambda b: _json([]),
    "teapot": lambda b: Reply(418, b'{"error":"teapot"}'),
}


@pytest.mark.parametrize("name", sorted(PUSH_NONSENSE))
async def test_push_nonsense_keeps_every_unsent_change(
    synced: tuple[Office, Store, SyncClient], name: str
) -> None:
    script, store, client = synced
    op_ids = local_edits(store)
    before = snapshot(store)
    script.push = PUSH_NONSENSE[name]
    with pytest.raises(SyncError) as caught:
        await client.run_round()
    assert caught.value.kind == "protocol"
    assert "无法识别" in caught.value.zh and "unchanged" in caught.value.en
    assert snapshot(store) == before
    script.push = None
    await client.run_round()
    assert sorted(script.pushed) == sorted(op_ids)
    assert store.counts()["unsent"] == 0


def _page(cursor: int, changes: list[dict[str, Any]], more: bool = False) -> Reply:
    return _json({"changes": changes, "cursor": cursor, "more": more, "epoch": EPOCH})


def _step_change(seq: int, status: str = "in_progress") -> dict[str, Any]:
    inst = sorted(IDS)[2]
    return {
        "seq": seq,
        "kind": "step",
        "id": f"{inst}:parent_app",
        "data": {
            "institution_id": inst,
            "step": "parent_app",
            "status": status,
            "reason": None,
            "note": None,
            "hlc": f"{1:015d}-0000-office",
            "updated_by": "office",
        },
    }


PULL_NONSENSE: dict[str, Callable[[int], Reply]] = {
    "html": lambda c: Reply(200, b"<!doctype html><title>502</title>", "text/html"),
    "truncated_json": lambda c: Reply(200, b'{"changes":[{"seq":'),
    "changes_not_a_list": lambda c: _json({"changes": "none", "cursor": c, "more": False}),
    "no_cursor": lambda c: _json({"changes": [], "more": False, "epoch": EPOCH}),
    "cursor_backwards": lambda c: _page(c - 5, []),
    "seq_not_after_cursor": lambda c: _page(c + 1, [_step_change(c)]),
    "seq_beyond_cursor": lambda c: _page(c + 1, [_step_change(c + 2)]),
    "unknown_kind": lambda c: _page(c + 1, [{**_step_change(c + 1), "kind": "payment"}]),
    "change_without_data": lambda c: _page(c + 1, [{**_step_change(c + 1), "data": None}]),
    "malformed_hlc": lambda c: _page(c + 1, [{**_step_change(c + 1), "hlc": "yesterday"}]),
    "kind_not_text": lambda c: _page(c + 1, [{**_step_change(c + 1), "kind": ["step"]}]),
    "data_hlc_not_text": lambda c: _page(
        c + 1, [{**_step_change(c + 1), "data": {**_step_change(c + 1)["data"], "hlc": 7}}]
    ),
    "more_without_moving": lambda c: _page(c, [], more=True),
    "endless_pages": lambda c: _page(c + 1, [_step_change(c + 1, "todo")], more=True),
    "a_json_list": lambda c: _json([]),
    "not_found": lambda c: Reply(404, b'{"error":"not_found"}'),
}


@pytest.mark.parametrize("name", sorted(PULL_NONSENSE))
async def test_pull_nonsense_leaves_the_cache_as_it_was(
    synced: tuple[Office, Store, SyncClient], name: str
) -> None:
    script, store, client = synced
    op_ids = local_edits(store)
    seen: dict[str, Any] = {}

    def nonsense(cursor: int) -> Reply:
        seen.setdefault("before", snapshot(store))  # the pushes are answered by now
        return PULL_NONSENSE[name](cursor)

    script.pull = nonsense
    with pytest.raises(SyncError) as caught:
        await client.run_round()
    assert caught.value.kind == "protocol", caught.value
    assert "无法识别" in caught.value.zh
    assert gc.isenabled()  # paused while pages came (sync/pulling.py), running again
    before, after = seen["before"], snapshot(store)
    assert sorted(script.pushed) == sorted(op_ids) and before["counts"]["unsent"] == 0
    assert after["cursor"] == before["cursor"] == str(HEAD)
    if name == "endless_pages":  # they repeat one valid change: it may land, nothing else moves
        before.pop("steps"), after.pop("steps")
    assert after == before
    script.pull = None
    await client.run_round()
    assert store.get_meta("cursor") == str(HEAD)


async def _expect(client: SyncClient, kind: str) -> SyncError:
    with pytest.raises(SyncError) as caught:
        await client.run_round()
    assert caught.value.kind == kind, caught.value
    return caught.value


async def test_a_page_that_never_ends_is_stopped(synced: tuple[Office, Store, SyncClient]) -> None:
    script, store, client = synced
    script.pull = PULL_NONSENSE["endless_pages"]
    error = await _expect(client, "protocol")
    assert "50" in error.en and "pages" in error.en
    assert store.get_meta("cursor") == str(HEAD)


async def test_gateway_errors_and_revoked_tokens_keep_every_unsent_change(
    synced: tuple[Office, Store, SyncClient],
) -> None:
    script, store, client = synced
    op_ids = local_edits(store)
    script.push = lambda b: Reply(502, b"<html>Bad Gateway</html>", "text/html")
    error = await _expect(client, "server")
    assert "502" in error.en and "kept" in error.en
    calls = []

    def revoke_after_first(batch: dict[str, Any]) -> Reply:
        calls.append(batch)
        if len(calls) == 1:
            return _json({"results": _results_for(batch)})
        return Reply(
            401, json.dumps({"error": "unauthorized", "message": "访问令牌无效或已停用"}).encode()
        )

    script.push = revoke_after_first
    error = await _expect(client, "auth")
    assert "令牌无效或已被撤销" in error.zh and "fieldkit login" in error.en
    left = [op["op_id"] for op in store.pending_ops(100)]
    assert left == op_ids[2:]
    assert store.counts()["unsent"] == 2


async def test_a_changed_epoch_repulls_from_scratch_keeping_unsent_changes(
    synced: tuple[Office, Store, SyncClient],
) -> None:
    script, store, client = synced
    a = sorted(IDS)[0]
    page = first_page() | {"epoch": "e-2"}
    edits: list[str] = []

    def restored_office(cursor: int) -> Reply:
        if not edits:  # the technician saves a step while the round runs
            edits.append(store.set_step(a, "parent_app", "in_progress", by="T0001")["op_id"])
        return _json(page) if cursor == 0 else _json(page | {"changes": [], "cursor": cursor})

    script.pull = restored_office
    result = await client.run_round()
    assert result.pulled == HEAD
    assert store.get_meta("epoch") == "e-2" and store.get_meta("cursor") == str(HEAD)
    state = store.step_states(a)["parent_app"]
    assert (state.status, state.sync_state) == ("in_progress", "unsent")
    assert [op["op_id"] for op in store.pending_ops(10)] == edits
    await client.run_round()
    assert script.pushed == edits


async def test_a_cursor_the_server_forgot_means_a_full_repull(
    synced: tuple[Office, Store, SyncClient], office: tuple[Office, ScriptedServer]
) -> None:
    script, store, client = synced
    a = sorted(IDS)[0]
    store.set_step(a, "parent_app", "in_progress", by="T0001")
    script.push = lambda b: Reply(503, b"")
    await _expect(client, "server")
    store.set_meta("cursor", "999")
    script.push = None
    gone = Reply(410, json.dumps({"error": "cursor_unknown", "message": "请从头同步"}).encode())
    script.pull = lambda c: gone if c == 999 else (_json(first_page()) if c == 0 else _page(c, []))
    result = await client.run_round()
    assert result.pushed == 1 and result.pulled == HEAD
    assert store.get_meta("cursor") == str(HEAD)
    assert store.counts()["unsent"] == 0 and len(script.pushed) == 1
    pulls = [p for _, p in office[1].requests if p.startswith("/api/v1/sync/pull")]
    assert pulls[-2].startswith("/api/v1/sync/pull?cursor=999")
    assert pulls[-1].startswith("/api/v1/sync/pull?cursor=0")


def test_settings_saved_for_the_profile(synced: tuple[Office, Store, SyncClient]) -> None:
    assert config.load("default").office_public_key == KEY_A


async def test_one_op_the_office_cannot_read_does_not_block_the_queue(
    synced: tuple[Office, Store, SyncClient],
) -> None:
    script, store, client = synced
    client.batch_size = 4
    op_ids = local_edits(store)
    poisoned = op_ids[2]
    sizes = []

    def refuse_the_poisoned(batch: dict[str, Any]) -> Reply:
        sent = [op["op_id"] for op in batch["ops"]]
        sizes.append(len(sent))
        if poisoned in sent:
            body = {
                "error": "invalid",
                "message": "字段无效 / field 'ops.0.data' is invalid",
                "field": f"ops.{sent.index(poisoned)}.data",
            }
            return Reply(422, json.dumps(body).encode())
        script.pushed += sent
        return _json({"results": _results_for(batch)})

    script.push = refuse_the_poisoned
    result = await client.run_round()
    assert (result.applied, result.rejected) == (3, 1)
    assert sorted(script.pushed) == sorted(set(op_ids) - {poisoned})
    [kept] = store.rejected_ops()
    assert kept["op_id"] == poisoned and kept["reason"] == "invalid"
    assert "field" in kept["message"]
    assert sizes == [4, 2, 2, 1, 1]  # halves until the culprit is alone


async def test_a_push_refused_as_a_whole_rejects_nothing(
    synced: tuple[Office, Store, SyncClient],
) -> None:
    script, store, client = synced
    op_ids = local_edits(store)
    body = {"error": "invalid", "message": "client_id is invalid", "field": "client_id"}
    script.push = lambda b: Reply(422, json.dumps(body).encode())
    error = await _expect(client, "protocol")
    assert "client_id" in error.en
    assert store.rejected_ops() == []
    assert [op["op_id"] for op in store.pending_ops(10)] == op_ids


async def test_a_laptop_clock_far_from_the_offices_is_pointed_out(
    office: tuple[Office, ScriptedServer], tmp_path: Path
) -> None:
    script, server = office
    two_hours_ago = formatdate(time.time() - 7200, usegmt=True)
    routes = server.routes
    for path, route in list(routes.items()):
        routes[path] = _dated(route, two_hours_ago)
    settings = await login(server.url, "good-token")
    with Store.open(settings.cache_path) as store:
        client = SyncClient(settings, store, "good-token")
        try:
            await client.run_round()
        finally:
            await client.aclose()
    assert client.clock_skew is not None and 7100 < client.clock_skew < 7300
    assert "快约 120 分钟" in (client.clock_warning("zh") or "")
    assert "120 minutes ahead" in (client.clock_warning("en") or "")


def _dated(route: Callable[[str, bytes], Reply], date: str) -> Callable[[str, bytes], Reply]:
    def answer(query: str, body: bytes) -> Reply:
        reply = route(query, body)
        reply.headers["Date"] = date
        return reply

    return answer


async def test_a_throttled_office_is_waited_for_not_called_nonsense(
    synced: tuple[Office, Store, SyncClient],
) -> None:
    script, store, client = synced
    op_ids = local_edits(store)
    script.push = lambda b: Reply(
        429,
        json.dumps({"error": "too_many_attempts", "message": "稍后再试"}).encode(),
        headers={"Retry-After": "42"},
    )
    error = await _expect(client, "server")
    assert error.retry_soon and "42" in error.en and "42" in error.zh
    assert {op["op_id"] for op in store.pending_ops(100)} == set(op_ids)
