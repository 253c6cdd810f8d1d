"""The office API of enforcement: the ledger (整改台账), look-back rounds and starting one."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from fieldkit import domain

from . import enforcement
from .auth import division_filter, institution_scope
from .errors import ApiError
from .routes import ERRORS, Office, Who
from .store import institutions

router = APIRouter(tags=["enforcement"])


class LedgerFile(BaseModel):
    """An evidence file of a case (its notice visit's) or of one of its items."""

    sha256: str
    name: str
    mime: str
    size: int
    taken_at: str | None
    stored: bool = Field(description="whether the office holds the file's bytes yet")
    url: str = Field(description="where to fetch it: GET, answered by the record's scope")


class LedgerItem(BaseModel):
    """One item of a rectification notice."""

    model_config = ConfigDict(extra="allow")
    text: str
    status: Literal["open", "rectified", "waived"]
    reason: str | None
    files: list[LedgerFile] = Field(default=[], description="evidence attached to this item")


class LedgerStep(BaseModel):
    """One escalation step."""

    model_config = ConfigDict(extra="allow")
    step: str
    on: str
    by: str
    note: str


class LedgerCase(BaseModel):
    """One case of the ledger, its state computed with the office's date."""

    model_config = ConfigDict(extra="allow")
    case_id: str
    institution_id: str
    visit_id: str
    issued_by: str
    issued_on: str
    deadline: str
    state: Literal["open", "due", "overdue", "rectified", "escalated", "closed"]
    items: list[LedgerItem]
    escalation: list[LedgerStep]
    files: list[LedgerFile] = Field(
        default=[], description="evidence of the visit whose notice opened the case"
    )


class Ledger(BaseModel):
    """The rectification ledger of a division (or of a technician's own list)."""

    cases: list[LedgerCase]
    division: str | None
    on: str = Field(description="the office's date the states were computed with")


class RoundRequest(BaseModel):
    """A look-back round (回头看) a supervisor starts."""

    division: str = Field(pattern=r"^\d{6}$")
    due: date
    sample: int = Field(default=100, description="per cent of the matching institutions, 1–100")
    filter: str = "all"


def today_of(request: Request) -> date:
    """The office's date (tests hand the app a clock as `app.state.today`)."""
    clock: Callable[[], date] | None = getattr(request.app.state, "today", None)
    return clock() if clock else date.today()


def _division(who: Any, division: str | None) -> str:
    """The division a supervisor asks for (their zone by default), checked against the zone."""
    code = division or who.zone
    if code not in domain.DIVISIONS:
        raise ApiError(
            422,
            "invalid",
            f"未知的行政区划代码“{code}”",
            f"unknown division code '{code}'",
            "division",
        )
    if not domain.contains(who.zone, code):
        raise ApiError(
            403,
            "forbidden",
            f"“{domain.full_name(code)}”不在您的管辖范围",
            f"division {code} is outside your zone {who.zone}",
        )
    return code


@router.get("/api/v1/cases", response_model=Ledger, responses=ERRORS)
def get_cases(
    who: Who,
    store: Office,
    request: Request,
    division: Annotated[str | None, Query(pattern=r"^\d{6}$")] = None,
    state: Annotated[
        Literal["open", "due", "overdue", "rectified", "escalated", "closed"] | None, Query()
    ] = None,
) -> dict[str, Any]:
    """Every case with its items, dates, state and escalation (supervisors: a division of their
    zone; technicians: their own list)."""
    today = today_of(request)
    if who.supervisor:
        code: str | None = _division(who, division)
        scope = division_filter(institutions.c.division_code, code or who.zone)
    else:
        if division is not None:
            raise ApiError(
                403,
                "forbidden",
                "技术人员只能查看自己负责机构的整改台账",
                "technicians see the ledger of their own list only",
            )
        code, scope = None, institution_scope(who)
    with store.engine.connect() as conn:
        rows = enforcement.ledger(conn, scope, today, state, files=True)
    return {"cases": rows, "division": code, "on": today.isoformat()}


@router.get("/api/v1/rounds", responses=ERRORS)
def get_rounds(who: Who, store: Office, request: Request) -> dict[str, Any]:
    """The look-back rounds of the caller's zone with their progress (due, done, overdue)."""
    if not who.supervisor:
        raise ApiError(
            403, "forbidden", "只有主管可以查看回头看进度", "only supervisors see round progress"
        )
    with store.engine.connect() as conn:
        return {"rounds": enforcement.round_progress(conn, who.zone, today_of(request))}


@router.post("/api/v1/campaigns", responses=ERRORS | {201: {}}, status_code=201)
def post_campaign(who: Who, store: Office, request: Request, body: RoundRequest) -> dict[str, Any]:
    """Start a look-back round: a follow-up falls due for each picked institution."""
    try:
        return enforcement.create_round(
            store, body.division, body.due, today_of(request), body.sample, body.filter, who
        )
    except domain.ValidationError as exc:
        status = 403 if exc.code in ("round_zone", "round_role") else 422
        raise ApiError(
            status, "forbidden" if status == 403 else "invalid", exc.zh, exc.en, exc.field
        ) from None
