"""schemathesis against /openapi.json with valid and invalid tokens: no 5xx, every error JSON-shaped."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import GenerationMode

from fieldkit.server.auth import FailedLogins
from tests.live_server import LiveServer, SmallOffice, small_office

MAX_EXAMPLES = 15
SEEN: Counter[int] = Counter()


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[SmallOffice, str]]:
    """The small office under uvicorn for this module (bad tokens here are not throttled)."""
    built = small_office(tmp_path_factory.mktemp("schemathesis"))
    with LiveServer(built.db, failed_logins=FailedLogins(limit=10**9)) as server:
        yield built, server.url


@pytest.fixture(scope="module")
def api(served: tuple[SmallOffice, str]) -> Any:
    """The served OpenAPI document, generating valid and invalid requests."""
    loaded = schemathesis.openapi.from_url(served[1] + "/openapi.json")
    loaded.config.generation.update(
        modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE], max_examples=MAX_EXAMPLES
    )
    return loaded


schema = schemathesis.pytest.from_fixture("api")


def assert_error_shape(response: Any) -> None:
    """Every error answer is JSON {"error": code, "message": text}."""
    if response.status_code < 400:
        return
    content_type = response.headers.get("content-type") or [""]  # schemathesis: lists of values
    assert content_type[0].startswith("application/json"), response.text
    body = response.json()
    assert isinstance(body, dict), response.text
    assert isinstance(body.get("error"), str) and body["error"], response.text
    assert isinstance(body.get("message"), str) and " / " in body["message"], response.text


@schema.parametrize()
@settings(max_examples=MAX_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_request_gets_a_5xx_or_a_shapeless_error(
    case: Any, served: tuple[SmallOffice, str]
) -> None:
    built, url = served
    for headers in (
        built.headers("tech_a"),
        built.headers("city_supervisor"),
        {"Authorization": "Bearer fk_not-a-real-token"},
        {},
    ):
        response = case.call(base_url=url, headers=headers, timeout=10)
        SEEN[response.status_code] += 1
        assert response.status_code < 500, (case.as_curl_command(), response.text)
        assert_error_shape(response)


def test_the_run_reached_past_the_door() -> None:
    """The generated requests were answered, refused as unauthorised and refused as invalid."""
    assert SEEN[200] and SEEN[401] and SEEN[422], SEEN
    assert not [code for code in SEEN if code >= 500]
