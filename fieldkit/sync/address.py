"""The office's address as a technician types it: an input method's full-width `：／。`, stray spaces
and a missing `https://` are put right; anything still wrong is a sentence in both languages."""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from urllib.parse import urlsplit

from .errors import SyncError, config_problem

EXAMPLE = "https://office.example:8400"
# What a Chinese input method types in place of the ASCII a URL needs (NFKC leaves these alone).
IME_MARKS = str.maketrans({"。": ".", "｡": ".", "、": "/", "＼": "/", "\\": "/", "﹕": ":"})
_SPACES = re.compile(r"\s+")
_HOST = re.compile(
    r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*"
)


def _bad(zh: str, en: str, typed: str) -> SyncError:
    return config_problem(
        f"服务器地址无效：{typed!r}，{zh}。地址应形如 {EXAMPLE}",
        f"Not a server address: {typed!r}: {en}. Expected e.g. {EXAMPLE}",
    )


def clean_address(typed: str) -> str:
    """The address with full-width characters (NFKC), IME punctuation and spaces put right, and
    `https://` (`http://` on this computer) added when no scheme was typed."""
    text = unicodedata.normalize("NFKC", typed).translate(IME_MARKS)
    text = _SPACES.sub("", text)  # a URL holds no spaces; an IME adds them around punctuation
    if "://" not in text:
        text = ("http://" if _is_loopback(_host_part(text)) else "https://") + text
    return text.rstrip("/")


def _host_part(text: str) -> str:
    host = text.split("/", 1)[0].rsplit("@", 1)[-1]
    if host.startswith("["):
        return host[1 : host.find("]")] if "]" in host else host
    return host.split(":", 1)[0]


def parse_address(typed: str) -> tuple[str, str, int | None]:
    """(clean URL, host, port) of a typed office address, or a SyncError('config') saying what is
    wrong: the scheme, the host, the port."""
    text = clean_address(typed)
    try:
        parts = urlsplit(text)
    except ValueError:
        raise _bad("其中有无法识别的字符", "it holds characters an address cannot", typed) from None
    if parts.scheme.lower() not in ("http", "https"):
        raise _bad(
            f"只能使用 https://（或本机的 http://），不能是 {parts.scheme}://",
            f"only https:// (or http:// on this computer) works, not {parts.scheme}://",
            typed,
        )
    host = parts.hostname or ""
    if not host:
        raise _bad("缺少服务器的主机名或 IP", "the host name or IP address is missing", typed)
    if re.fullmatch(r"[0-9.]+", host) and not _is_ip(host):
        raise _bad(
            f"IP 地址 {host!r} 无效（应为四段 0–255 的数字，如 192.168.1.10）",
            f"the IP address {host!r} is not valid (four numbers 0-255, e.g. 192.168.1.10)",
            typed,
        )
    if not _valid_host(host):
        raise _bad(
            f"主机名 {host!r} 中有不允许的字符（只能是字母、数字、“-”和“.”）",
            f"the host {host!r} holds characters a host name cannot (letters, digits, '-', '.')",
            typed,
        )
    after_host = parts.netloc.rsplit("@", 1)[-1].rsplit("]", 1)[-1]  # IPv6 holds colons itself
    if after_host.count(":") > 1:
        raise _bad(
            f"主机名后有多个冒号（{after_host}），只能有一个端口号，如 :8400",
            f"it has more than one port after the host ({after_host}); give one, e.g. :8400",
            typed,
        )
    try:
        port = parts.port
    except ValueError:
        port_text = parts.netloc.rsplit(":", 1)[-1]
        if port_text.isdigit():
            raise _bad(
                f"端口 {port_text} 超出范围（1–65535）",
                f"the port {port_text} is out of range (1-65535)",
                typed,
            ) from None
        raise _bad(
            f"端口 {port_text!r} 不是数字", f"the port {port_text!r} is not a number", typed
        ) from None
    if port == 0 or parts.netloc.endswith(":"):
        raise _bad(
            "冒号后缺少端口号（1–65535）",
            "the port after the colon is missing or zero (1-65535)",
            typed,
        )
    if parts.query or parts.fragment:
        raise _bad("地址中不应有“?”或“#”之后的部分", "it must not hold a '?' or '#' part", typed)
    return text, host, port


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _valid_host(host: str) -> bool:
    """A DNS name (IDN allowed), an IPv4 or an IPv6 address."""
    if _is_ip(host):
        return True
    try:
        ascii_host = host.encode("idna").decode("ascii").lower()
    except UnicodeError:
        return False
    return bool(_HOST.fullmatch(ascii_host)) and len(ascii_host) <= 253


def _is_loopback(host: str) -> bool:
    """Whether the host is this computer."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
