"""The endpoints of the office API: identity, sync pull and push, stats, institutions, conflicts."""

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Path, Query, Request
from fastapi.responses import Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import select, update

from fieldkit import domain

from . import models, pull, push, stats, tokens
from .auth import Caller, FailedLogins, division_filter, find_caller, institution_scope, may_touch
from .errors import ApiError
from .platform import platform_detail
from .store import (
    Store,
    assignments,
    conflicts,
    holds,
    institution_wire,
    institutions,
    records,
    step_wire,
    steps,
    visit_wire,
    visits,
)

router = APIRouter()
bearer = HTTPBearer(auto_error=False, description="the technician's token")
ERRORS: dict[int | str, dict[str, Any]] = {
    s: {"model": models.ErrorBody} for s in (401, 403, 404, 410, 413, 422, 429)
}


def store_of(request: Request) -> Store:
    """The app's store."""
    return request.app.state.store  # type: ignore[no-any-return]


Office = Annotated[Store, Depends(store_of)]


def caller(
    store: Office,
    request: Request,
    creds: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Caller:
    """The technician behind the bearer token (401 otherwise; 429 after repeated bad tokens)."""
    if creds is None or creds.scheme.lower() != "bearer" or not creds.credentials:
        raise ApiError(
            401, "unauthorized", "缺少访问令牌，请先登录", "no bearer token: log in first"
        )
    guard: FailedLogins = request.app.state.failed_logins
    address = request.client.host if request.client else "unknown"
    with store.engine.connect() as conn:
        found = find_caller(conn, creds.credentials)
        ended = None if found else tokens.retired(conn, creds.credentials)
    if found is not None:  # a valid token always gets in, whatever others sent from its address
        request.app.state.last_seen.saw(found.id)
        return found
    wait = guard.retry_after(address)
    guard.failed(address)
    if wait:
        raise ApiError(
            429,
            "too_many_attempts",
            f"无效令牌尝试次数过多，请{wait}秒后再试",
            f"too many invalid tokens from this address: try again in {wait} s",
            headers={"Retry-After": str(wait)},
        )
    if ended is not None:
        raise ApiError(401, "token_revoked", *tokens.retired_words(*ended))
    raise ApiError(
        401,
        "unauthorized",
        "访问令牌无效或已停用，请向办公室索取新令牌",
        "the token is not valid: ask the office for a new one",
    )


Who = Annotated[Caller, Depends(caller)]


def accepts_gzip(header: str) -> bool:
    """Whether an Accept-Encoding header lets the answer be gzip-compressed."""
    for part in header.lower().split(","):
        name, _, params = part.strip().partition(";")
        quality = params.replace(" ", "").removeprefix("q=") or "1"
        if name.strip() in ("gzip", "*"):
            try:
                return float(quality) > 0
            except ValueError:
                return False
    return False


@router.get("/healthz", tags=["office"])
def healthz() -> dict[str, bool]:
    """Whether the server is up."""
    return {"ok": True}


@router.get("/api/v1/office", response_model=models.Office, tags=["office"])
def office(store: Office, request: Request) -> dict[str, str]:
    """The office's name and the public key that verifies its payment codes."""
    return {
        "name": store.get_meta("office_name") or "",
        "public_key": store.public_key,
        "epoch": request.app.state.epoch,
    }


@router.get("/api/v1/me", response_model=models.Me, responses=ERRORS, tags=["sync"])
def me(who: Who) -> dict[str, str]:
    """The technician the token belongs to."""
    return who.wire()


@router.get("/api/v1/sync/pull", response_model=models.PullAnswer, responses=ERRORS, tags=["sync"])
def sync_pull(
    who: Who,
    store: Office,
    request: Request,
    cursor: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=pull.MAX_LIMIT)] = pull.DEFAULT_LIMIT,
    mark: Annotated[
        str | None,
        Query(max_length=64, description="the mark of the furthest change this client has seen"),
    ] = None,
) -> Response:
    """Changes after `cursor` in server order, only what the caller may see (gzip).

    With `mark`, 410 `diverged` when the office no longer holds what the client saw.
    """
    if mark is not None:
        with store.engine.connect() as conn:
            if not holds(conn, mark):
                raise diverged()
    gzipped = accepts_gzip(request.headers.get("accept-encoding", ""))
    try:
        page = request.app.state.puller.page(who, cursor, limit, gzipped)
    except pull.CursorUnknown:
        raise ApiError(
            410,
            "cursor_unknown",
            "服务器不认识这个同步位置，请从头重新同步",
            "the server does not know this cursor: pull again from 0",
        ) from None
    headers = {}
    if page.gzipped:  # compressed here already (GZipMiddleware leaves it as it is)
        headers = {"Content-Encoding": "gzip", "Vary": "Accept-Encoding"}
    return Response(page.body, media_type="application/json", headers=headers)


@router.post(
    "/api/v1/sync/push",
    response_model=models.PushAnswer,
    responses=ERRORS,
    response_model_exclude_none=True,
    tags=["sync"],
)
def sync_push(who: Who, store: Office, batch: Annotated[models.PushRequest, Body()]) -> Response:
    """Apply a batch of ops; one result per op."""
    ops: list[dict[str, Any]] = batch["ops"]  # type: ignore[assignment]  # Op dicts, checked
    if len(ops) > models.MAX_OPS:
        raise ApiError(
            413,
            "batch_too_large",
            f"一批最多{models.MAX_OPS}条操作（收到{len(ops)}条），请分批发送",
            f"at most {models.MAX_OPS} ops per batch (got {len(ops)})",
        )
    try:
        pushed = push.push(store, who, batch["client_id"], ops, batch.get("mark"))
    except push.Diverged:
        raise diverged() from None
    return Response(models.push_answer(pushed.results, pushed.mark), media_type="application/json")


def diverged() -> ApiError:
    """The answer to a client that saw more of the office than the office now holds."""
    return ApiError(
        410,
        "diverged",
        "办公室的数据已恢复到较早的状态，本机将重新下载并重新发送办公室缺少的更改",
        "the office's data was put back to an earlier state: this computer pulls again and "
        "re-sends the changes the office no longer has",
    )


@router.get("/api/v1/stats", response_model=models.Stats, responses=ERRORS, tags=["stats"])
def get_stats(
    who: Who,
    store: Office,
    division: Annotated[
        str | None, Query(pattern=r"^\d{6}$", description="a division inside your zone")
    ] = None,
) -> dict[str, Any]:
    """The figures of a division (supervisors) or of the caller's own list."""
    with store.engine.connect() as conn:
        if not who.supervisor:
            if division is not None:
                raise ApiError(
                    403,
                    "forbidden",
                    "技术人员只能查看自己负责的机构统计",
                    "technicians see the figures of their own list only",
                )
            answer = stats.figures(conn, institution_scope(who), None, who.name)
            return answer | {"technician_id": who.id}
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
        scope = division_filter(institutions.c.division_code, code)
        return stats.figures(conn, scope, code, domain.full_name(code))


@router.get(
    "/api/v1/institutions/{institution_id}",
    response_model=models.InstitutionDetail,
    responses=ERRORS,
    tags=["office"],
)
def institution(
    who: Who,
    store: Office,
    institution_id: Annotated[str, Path(max_length=32, pattern=models.INSTITUTION_ID)],
) -> dict[str, Any]:
    """One institution with its checklist, visits and audit records (403 outside one's scope)."""
    with store.engine.connect() as conn:
        row = conn.execute(select(institutions).where(institutions.c.id == institution_id)).first()
        if row is None:
            raise ApiError(
                404,
                "not_found",
                f"没有机构“{institution_id}”",
                f"no institution '{institution_id}'",
            )
        if not may_touch(conn, who, row.id, row.division_code):
            raise ApiError(
                403, "forbidden", "该机构未分配给您", "this institution is not assigned to you"
            )
        owner = conn.execute(
            select(assignments.c.technician_id).where(assignments.c.institution_id == row.id)
        ).scalar()
        step_rows = conn.execute(select(steps).where(steps.c.institution_id == row.id))
        visit_rows = conn.execute(
            select(visits)
            .where(visits.c.institution_id == row.id)
            .order_by(visits.c.received_at.desc())
        )
        record_rows = conn.execute(
            select(records)
            .where(records.c.institution_id == row.id)
            .order_by(records.c.received_at.desc())
        )
        order = {k: i for i, k in enumerate(domain.STEP_KEYS)}
        return {
            "institution": institution_wire(row),
            "steps": sorted((step_wire(s) for s in step_rows), key=lambda s: order[s["step"]]),
            "visits": [visit_wire(v) for v in visit_rows],
            "records": [
                {
                    "kind": r.kind,
                    "technician_id": r.technician_id,
                    "hlc": r.hlc,
                    "received_at": r.received_at,
                    **r.data,
                }
                for r in record_rows
            ],
            "technician_id": owner,
            **platform_detail(conn, row.id),
        }


@router.get(
    "/api/v1/conflicts", response_model=list[models.Conflict], responses=ERRORS, tags=["office"]
)
def list_conflicts(who: Who, store: Office) -> list[dict[str, Any]]:
    """Concurrent edits flagged in the supervisor's zone."""
    if not who.supervisor:
        raise ApiError(
            403, "forbidden", "只有主管可以查看编辑冲突", "only supervisors see edit conflicts"
        )
    joined = conflicts.join(institutions, institutions.c.id == conflicts.c.institution_id)
    with store.engine.connect() as conn:
        rows = conn.execute(
            select(conflicts)
            .select_from(joined)
            .where(division_filter(institutions.c.division_code, who.zone))
            .order_by(conflicts.c.id)
        ).all()
    return [dict(r._mapping) for r in rows]


@router.post(
    "/api/v1/conflicts/{conflict_id}/resolve",
    response_model=models.Conflict,
    responses=ERRORS,
    tags=["office"],
)
def resolve_conflict(
    who: Who, store: Office, conflict_id: Annotated[int, Path(ge=1, le=2**31 - 1)]
) -> dict[str, Any]:
    """Mark a flagged edit as looked at (supervisors of the institution's zone)."""
    if not who.supervisor:
        raise ApiError(
            403, "forbidden", "只有主管可以处理编辑冲突", "only supervisors resolve edit conflicts"
        )
    joined = conflicts.join(institutions, institutions.c.id == conflicts.c.institution_id)
    with store.writing() as conn:
        row = conn.execute(
            select(conflicts, institutions.c.division_code)
            .select_from(joined)
            .where(conflicts.c.id == conflict_id)
        ).first()
        if row is None or not domain.contains(who.zone, row.division_code):
            raise ApiError(
                404,
                "not_found",
                f"您的辖区内没有编号为{conflict_id}的冲突",
                f"no conflict {conflict_id} in your zone",
            )
        conn.execute(update(conflicts).where(conflicts.c.id == conflict_id).values(resolved=True))
        found = conn.execute(select(conflicts).where(conflicts.c.id == conflict_id)).one()
    return dict(found._mapping)
