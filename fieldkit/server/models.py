"""Request and answer bodies of the office API (they also make /openapi.json)."""

from __future__ import annotations

from typing import Annotated, Any, Literal, NotRequired

from pydantic import BaseModel, ConfigDict, Field
from typing_extensions import TypedDict  # pydantic needs this one on Python < 3.12

from .jsontext import dumps_bytes

MAX_OPS = 500


# A platform id as the office issues it ("JG" + division + serial), in a path or an op.
INSTITUTION_ID = r"^[0-9A-Za-z_-]+$"


class ErrorBody(BaseModel):
    """Every error answer."""

    error: str = Field(description="stable code, e.g. unauthorized, forbidden, invalid")
    message: str = Field(description="what happened and what to do, 中文 / English")
    field: str | None = Field(default=None, description="the offending field, for 422")


class Me(BaseModel):
    """The caller."""

    id: str
    name: str
    role: Literal["technician", "supervisor"]
    zone: str
    zone_name: str


class Office(BaseModel):
    """The office and its payment-signing key."""

    name: str
    public_key: str = Field(description="Ed25519 public key, base64 of the 32 raw bytes")
    epoch: str


class Op(TypedDict):
    """One local change sent by a client (unknown keys are dropped)."""

    op_id: Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[0-9A-Za-z._:-]+$")]
    hlc: Annotated[str, Field(min_length=1, max_length=100)]
    kind: Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[0-9A-Za-z._-]+$")]
    institution_id: Annotated[str, Field(min_length=1, max_length=32, pattern=INSTITUTION_ID)]
    data: dict[str, Any]


class PushRequest(TypedDict):
    """A batch of ops (at most 500; a larger batch is answered 413).

    Plain dicts, not models: a batch's ops go to the handlers as the dicts they are, without
    building 200 models and dumping them again.
    """

    client_id: Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[0-9A-Za-z._:-]+$")]
    ops: list[Op]
    mark: NotRequired[
        Annotated[
            str | None,
            Field(
                max_length=64,
                pattern=r"^\d{1,19}\.[0-9a-f]{1,32}$",
                description="the mark of the furthest change this client has seen "
                "(from a pull or push)",
            ),
        ]
    ]


class OpResult(BaseModel):
    """The answer to one op."""

    op_id: str
    status: Literal["applied", "duplicate", "rejected"]
    reason: str | None = None
    message: str | None = None
    superseded: bool | None = None
    conflict: bool | None = None
    duplicate: bool | None = None


class PushAnswer(BaseModel):
    """One result per op, in the order sent."""

    results: list[OpResult]
    mark: str | None = Field(
        default=None, description="the office's mark after this batch: echo it in later requests"
    )


_RESULT_FIELDS = tuple(OpResult.model_fields)


def push_answer(results: list[dict[str, Any]], mark: str | None) -> bytes:
    """A PushAnswer as JSON, written once: each result's fields in OpResult's order, None left out
    (as `response_model_exclude_none` would, without validating 200 results again)."""
    answer: dict[str, Any] = {
        "results": [{k: r[k] for k in _RESULT_FIELDS if r.get(k) is not None} for r in results]
    }
    if mark is not None:
        answer["mark"] = mark
    return dumps_bytes(answer)


class Change(BaseModel):
    """One entry of the change log."""

    seq: int
    kind: Literal[
        "institution",
        "step",
        "visit",
        "unassigned",
        "case",
        "review",
        "round",
        "platform",
        "course",
    ]
    id: str
    data: dict[str, Any]


class PullAnswer(BaseModel):
    """A page of changes after a cursor."""

    changes: list[Change]
    cursor: int
    more: bool
    epoch: str
    mark: str | None = None


class Stats(BaseModel):
    """The figures an office reports, for one division or one technician's list."""

    model_config = ConfigDict(extra="allow")

    division: str | None
    name: str
    institutions: int
    by_step: dict[str, int]
    bank_verified: int
    bank_verified_rate: float
    payment_enabled: int
    full_process: int
    orders: int
    order_amount_fen: int
    visits: int
    rectification_notices: int
    children: list[dict[str, Any]] = []


class InstitutionDetail(BaseModel):
    """One institution with its checklist and visits."""

    institution: dict[str, Any]
    steps: list[dict[str, Any]]
    visits: list[dict[str, Any]]
    records: list[dict[str, Any]] = Field(description="posters printed and on-site code checks")
    technician_id: str | None
    platform: dict[str, Any] | None = Field(
        default=None, description="the platform's last reading: each step's date and the trade"
    )
    courses: list[dict[str, Any]] = Field(
        default=[], description="the platform's course list, each with its fee-rule verdict"
    )
    charges: list[dict[str, Any]] = Field(
        default=[], description="charges technicians observed on site, with their breaches"
    )


class Conflict(BaseModel):
    """A concurrent edit of one register, flagged for supervisors."""

    id: int
    institution_id: str
    register_name: str
    kept_hlc: str
    kept_value: Any
    lost_hlc: str
    lost_value: Any
    op_id: str
    technician_id: str
    created_at: str
    resolved: bool
