"""What can go wrong in a sync, in words a technician can act on (中文 / English)."""

from __future__ import annotations

KINDS = ("offline", "auth", "server", "protocol", "key_changed", "config")
# What exactly happened, where a screen words it its own way (the connect screen does):
# refused: nothing listens at the address (or the name does not resolve); timeout: it took the
# connection but did not answer in time; network: the connection broke off mid-way; token: the
# token was refused (401); forbidden: 403; throttled: 429; server: 5xx; not_office: an answer
# that is not a fieldkit office's (404, an HTML page, JSON of another shape); certificate: its
# TLS certificate is not vouched for by the CAs this computer trusts.
REASONS = (
    "refused",
    "timeout",
    "network",
    "token",
    "forbidden",
    "throttled",
    "server",
    "not_office",
    "certificate",
)


class SyncError(Exception):
    """A sync or login failed; `kind` says which way, `zh`/`en` say what to do. Nothing saved is lost."""

    def __init__(
        self,
        kind: str,
        zh: str,
        en: str,
        *,
        reason: str = "",
        status: int | None = None,
        detail: str = "",
    ) -> None:
        if kind not in KINDS:
            raise ValueError(f"unknown SyncError kind {kind!r}")
        super().__init__(f"{zh} / {en}")
        self.kind = kind
        self.zh = zh
        self.en = en
        self.reason = reason  # finer than kind, for a screen's own words: see REASONS
        self.status = status  # the HTTP status the office answered, if it answered one
        self.detail = detail  # the technical detail (English, for the log), token hidden

    def message(self, lang: str = "zh") -> str:
        """The message in the user's language ('zh' or 'en')."""
        return self.zh if lang.startswith("zh") else self.en

    @property
    def retry_soon(self) -> bool:
        """Whether trying again shortly may help (the network or the server, not us)."""
        return self.kind in ("offline", "server")


KEPT_ZH = "本机未发送的更改均已保留。"
KEPT_EN = "Every unsent change is kept on this computer."
# The app retries by itself; a command (`fieldkit sync`, `fieldkit login`) does not.
RETRY_ZH = "应用会自动重试；命令行请稍后再次运行该命令。"
RETRY_EN = "The app retries by itself; on the command line, run the command again later."


def _halves(detail: str) -> tuple[str, str]:
    """The office's "中文 / English" message split into its two languages (or whole in both)."""
    zh, sep, en = (part.strip() for part in detail.partition(" / "))
    if sep and _has_cjk(zh) and en and not _has_cjk(en) and zh.count("[") == zh.count("]"):
        return zh, en
    return detail, detail  # not two halves (e.g. "[令牌已隐藏 / token hidden]" inside it)


def _has_cjk(text: str) -> bool:
    return any("\u4e00" <= c <= "\u9fff" for c in text)


# What went wrong on the way, in Chinese: the library's English (ConnectError: …) stays in the
# English half and in the log, never in a Chinese sentence.
OFFLINE_ZH = {
    "refused": "连接被拒绝或找不到该地址",
    "timeout": "服务器没有及时回应",
    "network": "网络连接中断",
}


def offline(detail: str, reason: str = "network") -> SyncError:
    """The server could not be reached or the connection broke (`detail`: the library's words,
    English only)."""
    why = OFFLINE_ZH.get(reason, OFFLINE_ZH["network"])
    return SyncError(
        "offline",
        f"无法连接服务器（{why}）。{KEPT_ZH}请检查网络和服务器地址；{RETRY_ZH}",
        f"Cannot reach the server ({detail}). {KEPT_EN} Check the network and the server "
        f"address. {RETRY_EN}",
        reason=reason,
        detail=detail,
    )


def server_failed(status: int, detail: str = "") -> SyncError:
    """The server answered with a failure of its own (5xx)."""
    zh, en = _halves(detail)
    extra = f"：{zh}" if detail else ""
    extra_en = f": {en}" if detail else ""
    return SyncError(
        "server",
        f"服务器暂时出错（HTTP {status}{extra}）。{KEPT_ZH}{RETRY_ZH}如持续出错请联系办公室。",
        f"The server failed (HTTP {status}{extra_en}). {KEPT_EN} {RETRY_EN} If it goes on, "
        "tell the office.",
        reason="server",
        status=status,
        detail=detail,
    )


def throttled(retry_after: str | None) -> SyncError:
    """The office asks this address to wait (429 after too many refused tokens)."""
    wait = retry_after if retry_after and retry_after.isdigit() else "60"
    return SyncError(
        "server",
        f"服务器要求稍候再试（尝试次数过多，请等待 {wait} 秒）。{KEPT_ZH}{RETRY_ZH}",
        f"The server asks to wait before trying again (too many attempts; wait {wait} s). "
        f"{KEPT_EN} {RETRY_EN}",
        reason="throttled",
        status=429,
        detail=wait,
    )


def auth_failed(detail: str = "") -> SyncError:
    """The token was refused (401)."""
    zh, en = _halves(detail)
    extra = f"（{zh}）" if detail else ""
    extra_en = f" ({en})" if detail else ""
    return SyncError(
        "auth",
        f"令牌无效或已被撤销{extra}。{KEPT_ZH}请向办公室索取新令牌后运行 fieldkit login 重新登录。",
        f"The token is invalid or has been revoked{extra_en}. {KEPT_EN} "
        "Ask the office for a new token and run `fieldkit login` again.",
        reason="token",
        status=401,
        detail=detail,
    )


def forbidden(detail: str = "") -> SyncError:
    """The token is valid but may not do this (403)."""
    zh, en = _halves(detail)
    return SyncError(
        "auth",
        f"服务器拒绝了此请求（无权限：{zh}）。{KEPT_ZH}请联系办公室。",
        f"The server refused this request (not allowed: {en}). {KEPT_EN} Contact the office.",
        reason="forbidden",
        status=403,
        detail=detail,
    )


def protocol(detail_zh: str, detail_en: str, status: int | None = None) -> SyncError:
    """The server answered something this client cannot trust (`status`: the HTTP status it
    answered, when that was the trouble)."""
    return SyncError(
        "protocol",
        f"服务器的回答无法识别：{detail_zh}。本机缓存与待发送更改保持不变。"
        "请检查服务器地址是否正确，或联系办公室。",
        f"The server's answer makes no sense: {detail_en}. The local cache and "
        "unsent changes are unchanged. Check the server address or contact the office.",
        reason="not_office",
        status=status,
        detail=detail_en,
    )


def key_changed(url: str) -> SyncError:
    """The office's signing key is not the one pinned at login."""
    return SyncError(
        "key_changed",
        f"服务器 {url} 的签名公钥与登录时记录的不一致，已拒绝连接（可能是假冒的服务器）。"
        f"{KEPT_ZH}请向办公室核实；如办公室确实更换了密钥，请删除本配置后重新登录。",
        f"The server {url} presents a signing key different from the one pinned at login; "
        f"refused (it may be an impostor). {KEPT_EN} Check with the office; if the office really "
        "changed its key, remove this profile's settings and log in again.",
    )


def config_problem(zh: str, en: str, reason: str = "", detail: str = "") -> SyncError:
    """Something on this computer must be fixed first (settings, CA file, address)."""
    return SyncError("config", zh, en, reason=reason, detail=detail)
