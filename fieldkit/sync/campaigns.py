"""Starting a look-back round (回头看) from the app: a supervisor's request to the office."""

from __future__ import annotations

from datetime import date
from typing import Any

from fieldkit import domain
from fieldkit.config import Settings, load_token

from .errors import SyncError, _halves, config_problem
from .http import make_client, request_json

CAMPAIGNS = "/api/v1/campaigns"
ROUNDS = "/api/v1/rounds"


def check_request(division: str, due: date, sample: Any, filter_name: str, today: date) -> int:
    """The round as typed, checked by the domain on the laptop first (ValidationError)."""
    if division not in domain.DIVISIONS:
        raise domain.ValidationError(
            "round_division",
            f"未知的行政区划代码“{division}”",
            f"Unknown division code '{division}'",
            "division",
        )
    percent = domain.cases.check_sample(sample)
    domain.cases.check_round(due, today, filter_name)
    return percent


async def start_campaign(
    settings: Settings, division: str, due: date, sample: int, filter_name: str = "all"
) -> dict[str, Any]:
    """Ask the office to start a round; its answer (the round and who it picked).

    SyncError when the office cannot be reached or refuses (its words in both languages).
    """
    if not settings.server_url:
        raise config_problem("尚未登录", "Not logged in")
    token = load_token(settings.profile)
    async with make_client(settings.server_url, token, settings.ca_file) as http:
        status, body = await request_json(
            http,
            "POST",
            CAMPAIGNS,
            body={
                "division": division,
                "due": due.isoformat(),
                "sample": sample,
                "filter": filter_name,
            },
        )
    if status != 201:
        zh, en = _halves(str(body.get("message") or body))
        raise SyncError("config", zh, en)
    return dict(body)
