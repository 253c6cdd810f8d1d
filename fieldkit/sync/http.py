"""The HTTP side of sync: one httpx.AsyncClient per office, failures turned into SyncErrors."""

from __future__ import annotations

import ipaddress
import json
import ssl
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pydantic_core

from fieldkit import __version__

from .address import parse_address
from .errors import (
    SyncError,
    auth_failed,
    config_problem,
    forbidden,
    offline,
    protocol,
    server_failed,
    throttled,
)

TIMEOUT = httpx.Timeout(30.0, connect=10.0)


def normalise_url(url: str) -> str:
    """The office's base URL as typed, put right (full-width `：／。`, spaces, no scheme: see
    fieldkit.sync.address), without a trailing slash; plain http only on this computer."""
    url, host, _port = parse_address(url)
    parts = urlsplit(url)
    if parts.username or parts.password:
        raise config_problem(
            "服务器地址中不能包含用户名或密码（会被保存并显示出来）。请只填写地址，令牌另行输入。",
            "The server address must not hold a user name or password (it would be saved and "
            "shown); give the address alone and the token separately.",
        )
    if parts.scheme == "http" and not _is_loopback(host):
        raise config_problem(
            f"为保护令牌，只能通过 https 连接其他计算机上的服务器：{url}。请改用 https:// 地址。",
            f"To protect the token, servers on other computers are reached over https only: {url}. "
            "Use an https:// address.",
        )
    return url


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def tls_context(ca_file: str | None) -> ssl.SSLContext:
    """Verified TLS, trusting the system's CAs or the office's own CA file."""
    if ca_file is None:
        return ssl.create_default_context()
    path = Path(ca_file)
    try:
        return ssl.create_default_context(cafile=str(path))
    except (OSError, ssl.SSLError) as exc:
        raise config_problem(
            f"无法读取 CA 证书文件 {path}（{exc}）。请确认是办公室提供的 PEM 文件。",
            f"Cannot read the CA file {path} ({exc}); it must be the office's PEM certificate.",
        ) from None


def make_client(
    url: str,
    token: str,
    ca_file: str | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    timeout: httpx.Timeout = TIMEOUT,
) -> httpx.AsyncClient:
    """An AsyncClient for one office with the bearer token; verification cannot be turned off.

    A plain-http office (allowed on this computer only: normalise_url) is never spoken to over
    TLS, so its client gets a context that verifies and trusts no one, instead of loading the
    system's ~140 CA certificates (~50 ms at every sync) for nothing."""
    plain = urlsplit(url).scheme == "http" and ca_file is None
    return httpx.AsyncClient(
        base_url=url,
        headers={
            "Authorization": f"Bearer {token}",
            "User-Agent": f"fieldkit/{__version__}",
            "Accept": "application/json",
        },
        verify=ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT) if plain else tls_context(ca_file),
        timeout=timeout,
        transport=transport,
        follow_redirects=False,
    )


async def request_json(
    http: httpx.AsyncClient,
    method: str,
    path: str,
    *,
    params: dict[str, Any] | None = None,
    body: Any = None,
) -> tuple[int, Any]:
    """Send one request; answer (status, parsed JSON) for 2xx, 410 and 413/422, raise otherwise."""
    try:
        if body is None:
            response = await http.request(method, path, params=params)
        else:
            content = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
            response = await http.request(
                method,
                path,
                params=params,
                content=content,
                headers={"Content-Type": "application/json"},
            )
    except httpx.DecodingError as exc:
        said = _hide_token(http, str(exc))
        raise protocol(
            f"回答无法解压（{said}）", f"the answer cannot be decoded ({said})"
        ) from None
    except httpx.TransportError as exc:
        raise _transport_error(http, exc) from None
    return response.status_code, _parse(response, path, _token_of(http))


HIDDEN = "[令牌已隐藏 / token hidden]"


def _token_of(http: httpx.AsyncClient) -> str:
    """The bearer token this client sends (empty if none)."""
    header = http.headers.get("Authorization", "")
    return header.removeprefix("Bearer ").strip()


def _hide_token(http: httpx.AsyncClient, text: str) -> str:
    """The text with this client's token replaced, so no message or log ever carries it."""
    token = _token_of(http)
    return text.replace(token, HIDDEN) if token else text


def _parse(response: httpx.Response, path: str, token: str = "") -> Any:
    """The JSON of a response, or the SyncError its status means (an echoed token hidden)."""
    status = response.status_code
    body = _json_or_none(response, token)
    detail = _detail(body)
    if status == 401:
        raise auth_failed(detail)
    if status == 403:
        raise forbidden(detail or path)
    if status == 429:
        raise throttled(response.headers.get("Retry-After"))
    if status >= 500:
        raise server_failed(status, detail)
    if status in (410, 413, 422) and isinstance(body, dict):
        return body
    if not 200 <= status < 300:
        raise protocol(
            f"{path} 返回了意外的 HTTP {status}{('：' + detail) if detail else ''}",
            f"{path} answered HTTP {status}{(': ' + detail) if detail else ''}",
            status,
        )
    if body is None:
        kind = response.headers.get("content-type", "?")
        raise protocol(
            f"{path} 返回的不是有效的 JSON（{kind}）", f"{path} did not answer valid JSON ({kind})"
        )
    return body


def _json_or_none(response: httpx.Response, token: str = "") -> Any:
    """The parsed body; a server echoing our token (in a message, a change) gets it hidden.

    Parsed by pydantic-core (already a dependency, through pydantic): a province's pull page of
    1.4 MB in about half the time of the json module, the same values."""
    content = response.content
    if token and token.encode() in content:
        content = content.replace(token.encode(), HIDDEN.encode())
    try:
        return pydantic_core.from_json(content)
    except ValueError:
        return None


def _detail(body: Any) -> str:
    if isinstance(body, dict):
        return str(body.get("message") or body.get("error") or body.get("detail") or "")[:300]
    return ""


def _transport_error(http: httpx.AsyncClient, exc: httpx.TransportError) -> SyncError:
    """A network failure, or a TLS certificate the office's CA does not vouch for."""
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, ssl.SSLCertVerificationError):
            return config_problem(
                f"服务器 {http.base_url} 的证书无法验证（不是本机信任的机构签发，或已过期、"
                "与地址不符）。如办公室使用自己的 CA，请用 fieldkit login 地址 --ca CA文件 登录。",
                f"The certificate of {http.base_url} cannot be verified ({cause.verify_message}). "
                "If the office uses its own CA, log in with `fieldkit login URL --ca CA_FILE`.",
                "certificate",
                str(cause.verify_message),
            )
        cause = cause.__cause__ or cause.__context__
    name = type(exc).__name__
    reason = (
        "timeout"
        if isinstance(exc, httpx.TimeoutException)
        else "refused"
        if isinstance(exc, httpx.ConnectError)
        else "network"
    )
    return offline(_hide_token(http, f"{name}: {exc}") if str(exc) else name, reason)
