"""The office server's HTTP API (FastAPI): identity, sync pull and push, stats, the office key."""


import logging
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.gzip import GZipMiddleware
from fastapi.responses import JSONResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import select
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from fieldkit import __version__, domain

from . import models, pull, push, stats
from .auth import Caller, division_filter, find_caller, institution_scope, may_touch
from .store import (
    Store,
    assignments,
    conflicts,
    institution_wire,
    institutions,
    records,
    step_wire,
    steps,
    visit_wire,
    visits,
)

MAX_BODY = 2 * 1024 * 1024
DEFAULT_OFFICE_NAME = "湖南省校外培训监管办公室"
log = logging.getLogger("fieldkit.server")


class ApiError(Exception):
    """An error answer: HTTP status, stable code and a bilingual message."""

    def __init__(self, status: int, code: str, zh: str, en: str, field: str | None = None) -> None:
        super().__init__(en)
        self.status, self.code, self.message, self.field = status, code, f"{zh} / {en}", field


def error_response(status: int, code: str, message: str, field: str | None = None,
                   headers: dict[str, str] | None = None) -> JSONResponse:
    """The JSON error body every failure uses."""
    body: dict[str, Any] = {"error": code, "message": message}
    if field:
        body["field"] = field
    return JSONResponse(body, status_code=status, headers=headers)


class BodyLimit:
    """Refuse request bodies over a size with 413, before anything parses them."""

    def __init__(self, app: ASGIApp, max_bytes: int = MAX_BODY) -> None:
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(scope, receive, send)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            if size > self.max_bytes:
                await self._refuse(scope, receive, send)
                return
            if not message.get("more_body", False):
                break
        body, sent = b"".join(chunks), False

        async def replay() -> Message:
            nonlocal sent
            if sent:
                return await receive()
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = error_response(
            413, "too_large", f"请求体超过{self.max_bytes // 1024 // 1024} MiB，请分批发送 / "
            f"the request body is over {self.max_bytes // 1024 // 1024} MiB; send smaller batches",
            headers={"Connection": "close"})
        await response(scope, receive, send)


def _install_errors(app: FastAPI) -> None:
    """Every error, including FastAPI's own 404/405/422, answers {"error", "message"}."""

    @app.exception_handler(ApiError)
    async def _api_error(_request: Request, exc: ApiError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        return error_response(exc.status, exc.code, exc.message, exc.field, headers)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        codes = {404: ("not_found", "没有这个地址", "no such endpoint"),
                 405: ("method_not_allowed", "不支持此请求方法", "method not allowed")}
        code, zh, en = codes.get(exc.status_code, ("http_error", "请求失败", str(exc.detail)))
        return error_response(exc.status_code, code, f"{zh} / {en}",
                              headers=dict(exc.headers) if exc.headers else None)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        first: dict[str, Any] = dict(exc.errors()[0]) if exc.errors() else {"msg": "invalid"}
        if first.get("type") == "json_invalid":
            detail = (first.get("ctx") or {}).get("error", "")
            return error_response(422, "invalid", "请求体不是有效的 JSON / the body is not valid "
                                  f"JSON: {detail}", "body")
        loc = [str(p) for p in first.get("loc", ())]
        field = ".".join(loc[1:] if loc[:1] in (["body"], ["query"], ["path"]) else loc) \
            or "body"
        message = f"字段“{field}”无效：{first.get('msg')} / field '{field}' is invalid: " \
                  f"{first.get('msg')}"
        return error_response(422, "invalid", message, field)

    @app.exception_handler(Exception)
    async def _crash(_request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error", exc_info=exc)
        return error_response(500, "internal", "服务器内部错误，已记录，请稍后重试 / "
                              "internal error, logged; try again later")


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


def close_app(app: FastAPI) -> None:
    """Stop the app's background work and release its store."""
    app.state.puller.close()
    app.state.store.close()


def create_app(db: str | Path, office_name: str = DEFAULT_OFFICE_NAME) -> FastAPI:
    """The office API over the store at `db` (a path or database URL); initialises it if new."""
    store = Store(db)
    store.initialize(office_name)
    epoch = store.get_meta("epoch") or ""
    app = FastAPI(title="fieldkit office server", version=__version__,
                  description="同步、统计与支付码签名 / sync, stats and payment-code signing")
    puller = pull.Puller(store, epoch)
    app.state.store, app.state.puller = store, puller
    app.add_middleware(GZipMiddleware, minimum_size=1000, compresslevel=6)
    app.add_middleware(BodyLimit, max_bytes=MAX_BODY)
    _install_errors(app)
    bearer = HTTPBearer(auto_error=False, description="the technician's token")

    def caller(creds: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]) -> Caller:
        """The technician behind the bearer token (401 otherwise)."""
        if creds is None or creds.scheme.lower() != "bearer" or not creds.credentials:
            raise ApiError(401, "unauthorized", "缺少访问令牌，请先登录",
                           "no bearer token: log in first")
        with store.engine.connect() as conn:
            found = find_caller(conn, creds.credentials)
        if found is None:
            raise ApiError(401, "unauthorized", "访问令牌无效或已停用，请向办公室索取新令牌",
                           "the token is not valid: ask the office for a new one")
        return found

    Who = Annotated[Caller, Depends(caller)]
    errors: dict[int | str, dict[str, Any]] = {
        s: {"model": models.ErrorBody} for s in (401, 403, 404, 410, 413, 422)}

    @app.get("/healthz", tags=["office"])
    def healthz() -> dict[str, bool]:
        """Whether the server is up."""
        return {"ok": True}

    @app.get("/api/v1/office", response_model=models.Office, tags=["office"])
    def office() -> dict[str, str]:
        """The office's name and the public key that verifies its payment codes."""
        return {"name": store.get_meta("office_name") or "", "public_key": store.public_key,
                "epoch": epoch}

    @app.get("/api/v1/me", response_model=models.Me, responses=errors, tags=["sync"])
    def me(who: Who) -> dict[str, str]:
        """The technician the token belongs to."""
        return who.wire()

    @app.get("/api/v1/sync/pull", response_model=models.PullAnswer, responses=errors,
             tags=["sync"])
    def sync_pull(who: Who, request: Request, cursor: Annotated[int, Query(ge=0)] = 0,
                  limit: Annotated[int, Query(ge=1, le=pull.MAX_LIMIT)] = pull.DEFAULT_LIMIT
                  ) -> Response:
        """Changes after `cursor` in server order, only what the caller may see (gzip)."""
        gzipped = accepts_gzip(request.headers.get("accept-encoding", ""))
        try:
            page = puller.page(who, cursor, limit, gzipped)
        except pull.CursorUnknown:
            raise ApiError(410, "cursor_unknown", "服务器不认识这个同步位置，请从头重新同步",
                           "the server does not know this cursor: pull again from 0") from None
        headers = {}
        if page.gzipped:  # compressed here already (GZipMiddleware leaves it as it is)
            headers = {"Content-Encoding": "gzip", "Vary": "Accept-Encoding"}
        return Response(page.body, media_type="application/json", headers=headers)

    @app.post("/api/v1/sync/push", response_model=models.PushAnswer, responses=errors,
              response_model_exclude_none=True, tags=["sync"])
    def sync_push(who: Who, batch: models.PushRequest) -> dict[str, Any]:
        """Apply a batch of ops; one result per op."""
        if len(batch.ops) > models.MAX_OPS:
            raise ApiError(413, "batch_too_large",
                           f"一批最多{models.MAX_OPS}条操作（收到{len(batch.ops)}条），请分批发送",
                           f"at most {models.MAX_OPS} ops per batch (got {len(batch.ops)})")
        ops = [op.model_dump() for op in batch.ops]
        return {"results": push.push(store, who, batch.client_id, ops)}

    @app.get("/api/v1/stats", response_model=models.Stats, responses=errors, tags=["stats"])
    def get_stats(who: Who, division: Annotated[str | None, Query(
            pattern=r"^\d{6}$", description="a division inside your zone")] = None
                  ) -> dict[str, Any]:
        """The figures of a division (supervisors) or of the caller's own list."""
        with store.engine.connect() as conn:
            if not who.supervisor:
                if division is not None:
                    raise ApiError(403, "forbidden", "技术人员只能查看自己负责的机构统计",
                                   "technicians see the figures of their own list only")
                answer = stats.figures(conn, institution_scope(who), None, who.name)
                return answer | {"technician_id": who.id}
            code = division or who.zone
            if code not in domain.DIVISIONS:
                raise ApiError(422, "invalid", f"未知的行政区划代码“{code}”",
                               f"unknown division code '{code}'", "division")
            if not domain.contains(who.zone, code):
                raise ApiError(403, "forbidden", f"“{domain.full_name(code)}”不在您的管辖范围",
                               f"division {code} is outside your zone {who.zone}")
            scope = division_filter(institutions.c.division_code, code)
            return stats.figures(conn, scope, code, domain.full_name(code))

    @app.get("/api/v1/institutions/{institution_id}", response_model=models.InstitutionDetail,
             responses=errors, tags=["office"])
    def institution(who: Who, institution_id: str) -> dict[str, Any]:
        """One institution with its checklist and visits (403 outside the caller's scope)."""
        with store.engine.connect() as conn:
            row = conn.execute(select(institutions)
                               .where(institutions.c.id == institution_id)).first()
            if row is None:
                raise ApiError(404, "not_found", f"没有机构“{institution_id}”",
                               f"no institution '{institution_id}'")
            if not may_touch(conn, who, row.id, row.division_code):
                raise ApiError(403, "forbidden", "该机构未分配给您",
                               "this institution is not assigned to you")
            owner = conn.execute(select(assignments.c.technician_id)
                                 .where(assignments.c.institution_id == row.id)).scalar()
            step_rows = conn.execute(select(steps).where(steps.c.institution_id == row.id))
            visit_rows = conn.execute(select(visits).where(visits.c.institution_id == row.id)
                                      .order_by(visits.c.received_at.desc()))
            record_rows = conn.execute(select(records).where(records.c.institution_id == row.id)
                                       .order_by(records.c.received_at.desc()))
            order = {k: i for i, k in enumerate(domain.STEP_KEYS)}
            return {"institution": institution_wire(row),
                    "steps": sorted((step_wire(s) for s in step_rows),
                                    key=lambda s: order[s["step"]]),
                    "visits": [visit_wire(v) for v in visit_rows],
                    "records": [{"kind": r.kind, "technician_id": r.technician_id, "hlc": r.hlc,
                                 "received_at": r.received_at, **r.data} for r in record_rows],
                    "technician_id": owner}

    @app.get("/api/v1/conflicts", response_model=list[models.Conflict], responses=errors,
             tags=["office"])
    def list_conflicts(who: Who) -> list[dict[str, Any]]:
        """Concurrent edits flagged in the supervisor's zone."""
        if not who.supervisor:
            raise ApiError(403, "forbidden", "只有主管可以查看编辑冲突",
                           "only supervisors see edit conflicts")
        joined = conflicts.join(institutions, institutions.c.id == conflicts.c.institution_id)
        with store.engine.connect() as conn:
            rows = conn.execute(select(conflicts).select_from(joined)
                                .where(division_filter(institutions.c.division_code, who.zone))
                                .order_by(conflicts.c.id)).all()
        return [dict(r._mapping) for r in rows]

    return app
