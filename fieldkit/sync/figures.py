"""The office's figures for the dashboard: `GET /api/v1/stats` in the caller's own scope."""

from __future__ import annotations

from typing import Any

import httpx

from fieldkit.config import Settings, load_token

from .errors import config_problem, protocol
from .http import TIMEOUT, make_client, request_json

STATS = "/api/v1/stats"
# The dashboard shows the cache's figures at once; the office's replace them if it answers soon.
QUICK = httpx.Timeout(TIMEOUT.read, connect=5.0)


async def office_figures(settings: Settings) -> dict[str, Any]:
    """The office's stats answer for this technician's list (or a supervisor's zone), with one
    entry per division a level down under `children`.

    SyncError when the office cannot be reached or refuses (its words in both languages).
    """
    if not settings.server_url:
        raise config_problem("尚未登录", "Not logged in")
    token = load_token(settings.profile)
    async with make_client(settings.server_url, token, settings.ca_file) as http:
        http.timeout = QUICK
        status, body = await request_json(http, "GET", STATS)
    if status != 200 or not isinstance(body, dict) or "institutions" not in body:
        raise protocol(
            f"{STATS} 的回答不是统计数据（HTTP {status}）",
            f"{STATS} did not answer figures (HTTP {status})",
        )
    return dict(body)
