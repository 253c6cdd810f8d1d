"""Every failure of the office API answers JSON `{"error", "message"}` (and `field` for 422)."""

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger("fieldkit.server")


class ApiError(Exception):
    """An error answer: HTTP status, stable code and a bilingual message."""

    def __init__(
        self,
        status: int,
        code: str,
        zh: str,
        en: str,
        field: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(en)
        self.status, self.code, self.message, self.field = status, code, f"{zh} / {en}", field
        self.headers = headers or {}


def error_response(
    status: int,
    code: str,
    message: str,
    field: str | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    """The JSON error body every failure uses."""
    body: dict[str, Any] = {"error": code, "message": message}
    if field:
        body["field"] = field
    return JSONResponse(body, status_code=status, headers=headers)


def install_error_handlers(app: FastAPI) -> None:
    """Every error, including FastAPI's own 404/405/422, answers {"error", "message"}."""

    @app.exception_handler(ApiError)
    async def _api_error(_request: Request, exc: ApiError) -> JSONResponse:
        headers = dict(exc.headers) | ({"WWW-Authenticate": "Bearer"} if exc.status == 401 else {})
        return error_response(exc.status, exc.code, exc.message, exc.field, headers or None)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 400:  # a body FastAPI could not even decode (e.g. not UTF-8)
            return error_response(
                422,
                "invalid",
                "请求体无法解析，须为 UTF-8 编码、嵌套不过深的 JSON / "
                "the body cannot be read: send JSON encoded as UTF-8, not "
                "nested too deeply",
                "body",
            )
        codes = {
            404: ("not_found", "没有这个地址", "no such endpoint"),
            405: ("method_not_allowed", "不支持此请求方法", "method not allowed"),
        }
        code, zh, en = codes.get(exc.status_code, ("http_error", "请求失败", str(exc.detail)))
        return error_response(
            exc.status_code,
            code,
            f"{zh} / {en}",
            headers=dict(exc.headers) if exc.headers else None,
        )

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        first: dict[str, Any] = dict(exc.errors()[0]) if exc.errors() else {"msg": "invalid"}
        if first.get("type") == "json_invalid":
            detail = (first.get("ctx") or {}).get("error", "")
            return error_response(
                422,
                "invalid",
                f"请求体不是有效的 JSON / the body is not valid JSON: {detail}",
                "body",
            )
        loc = [str(p) for p in first.get("loc", ())]
        field = ".".join(loc[1:] if loc[:1] in (["body"], ["query"], ["path"]) else loc) or "body"
        message = (
            f"字段“{field}”无效：{first.get('msg')} / field '{field}' is invalid: "
            f"{first.get('msg')}"
        )
        return error_response(422, "invalid", message, field)

    @app.exception_handler(Exception)
    async def _crash(_request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error", exc_info=exc)
        return error_response(
            500,
            "internal",
            "服务器内部错误，已记录，请稍后重试 / internal error, logged; try again later",
        )
