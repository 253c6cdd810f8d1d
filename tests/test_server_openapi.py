"""The API describes itself at /openapi.json, and `fieldkit serve` runs it from the command line."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.live_server import LiveServer, admin, free_port


@pytest.fixture(scope="module")
def schema(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The OpenAPI document as served."""
    db = tmp_path_factory.mktemp("openapi") / "office.sqlite"
    with LiveServer(db) as server:
        yield httpx.get(server.url + "/openapi.json").json()


def test_every_endpoint_is_described(schema: dict[str, Any]) -> None:
    assert {
        "/healthz",
        "/api/v1/office",
        "/api/v1/me",
        "/api/v1/sync/pull",
        "/api/v1/sync/push",
        "/api/v1/stats",
        "/api/v1/institutions/{institution_id}",
        "/api/v1/conflicts",
    } <= set(schema["paths"])
    assert schema["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"


def test_push_and_pull_bodies_are_pydantic_models(schema: dict[str, Any]) -> None:
    push = schema["paths"]["/api/v1/sync/push"]["post"]
    body = push["requestBody"]["content"]["application/json"]["schema"]
    assert body == {"$ref": "#/components/schemas/PushRequest"}
    models = schema["components"]["schemas"]
    assert set(models["PushRequest"]["required"]) == {"client_id", "ops"}
    assert set(models["Op"]["required"]) == {"op_id", "hlc", "kind", "institution_id", "data"}
    assert {"413", "422", "401"} <= set(push["responses"])
    pull = schema["paths"]["/api/v1/sync/pull"]["get"]
    assert {p["name"] for p in pull["parameters"]} == {"cursor", "limit", "mark"}
    ok = pull["responses"]["200"]["content"]["application/json"]["schema"]
    assert ok == {"$ref": "#/components/schemas/PullAnswer"}
    assert set(models["PullAnswer"]["required"]) == {"changes", "cursor", "more", "epoch"}


def test_fieldkit_serve_runs_the_office(tmp_path: Path) -> None:
    db = tmp_path / "office.sqlite"
    assert admin(db, "init")[0] == 0
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "fieldkit.cli", "serve", "--db", str(db), "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                answer = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
                break
            except httpx.TransportError:
                assert process.poll() is None, process.stdout.read() if process.stdout else ""
                assert time.monotonic() < deadline, "fieldkit serve did not come up"
                time.sleep(0.1)
        assert answer.json() == {"ok": True}
        office = httpx.get(f"http://127.0.0.1:{port}/api/v1/office").json()
        assert office["name"] == "湖南省校外培训监管办公室"
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=20)
    assert f"127.0.0.1:{port}" in output
