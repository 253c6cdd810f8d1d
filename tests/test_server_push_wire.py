"""A push answer as it goes on the wire (each result's fields, nothing null), and the JSON text the
office writes for it and into its store."""

from __future__ import annotations

import json
import math
from pathlib import Path

import httpx

from fieldkit import domain
from fieldkit.server.jsontext import dumps, dumps_bytes
from tests.live_server import LiveServer, make_op, small_office, visit_data
from tests.test_server_push_batch import rows


def test_each_answer_carries_its_fields_and_no_null(tmp_path: Path) -> None:
    built = small_office(tmp_path)
    clock = domain.HLC("laptop-a")
    visit = make_op("visit.create", built.wuling[0], visit_data("走访：资料已核对"), clock)
    newer = make_op("step.set", built.wuling[1], {"step": "registered", "status": "done"}, clock)
    older = make_op(  # stamped before `newer`, sent after it: superseded
        "step.set",
        built.wuling[1],
        {"step": "registered", "status": "in_progress"},
        clock,
    )
    older["hlc"], newer["hlc"] = newer["hlc"], older["hlc"]
    foreign = make_op("visit.create", built.changsha[0], visit_data("不是我的"), clock)
    with LiveServer(built.db) as server:
        send = {"client_id": "laptop-a", "ops": [visit, newer, older, foreign]}
        first = httpx.post(
            server.url + "/api/v1/sync/push", headers=built.headers("tech_a"), json=send
        )
        again = httpx.post(
            server.url + "/api/v1/sync/push",
            headers=built.headers("tech_a"),
            json={"client_id": "laptop-a", "ops": [visit, foreign]},
        )
    assert first.status_code == 200 and first.headers["content-type"] == "application/json"
    assert "null" not in first.text and "null" not in again.text
    body = first.json()
    assert set(body) == {"results", "mark"}
    results = body["results"]
    assert results[0] == {"op_id": visit["op_id"], "status": "applied"}
    assert results[1] == {"op_id": newer["op_id"], "status": "applied"}
    assert results[2] == {"op_id": older["op_id"], "status": "applied", "superseded": True}
    assert set(results[3]) == {"op_id", "status", "reason", "message"}
    assert results[3]["reason"] == "not_assigned" and "未分配给您" in results[3]["message"]
    assert again.json()["results"] == [
        {"op_id": visit["op_id"], "status": "duplicate"},
        results[3] | {"duplicate": True},
    ]
    # the visit's text is kept as written (UTF-8, not escapes) and reads back the same
    (stored,) = rows(built.db, "SELECT data FROM visits")[0]
    assert "走访：资料已核对" in stored and json.loads(stored)["notes"] == "走访：资料已核对"


def test_the_json_text_reads_back_as_json_dumps_would() -> None:
    value = {"n": 10**30, "f": 0.1, "t": '湖南 \n\t"q"', "l": [True, None, -1], "e": {}}
    assert json.loads(dumps(value)) == value == json.loads(dumps_bytes(value))
    assert dumps({"t": "中文"}) == '{"t":"中文"}'  # compact, not escaped
    assert math.isnan(json.loads(dumps({"x": math.nan}))["x"])  # as json.dumps writes it
    lone = {"t": "a\ud800b"}  # not Unicode: json.dumps's ASCII escapes instead of an error
    assert dumps(lone) == '{"t":"a\\ud800b"}' and json.loads(dumps(lone)) == lone
    assert dumps_bytes(lone) == dumps(lone).encode()
