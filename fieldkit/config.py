"""A profile's settings and token: one JSON file and one owner-only token file per profile."""

from __future__ import annotations

import json
import locale
import os
import re
import stat
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

from . import paths


class ConfigError(Exception):
    """A profile's files cannot be used; the message says what to do."""


class NotLoggedIn(ConfigError):
    """This profile has no login, or its token file cannot be used: `fieldkit login` again."""


# A profile is one folder name on every platform: letters (Chinese too), digits, '-', '_', '.'.
_PROFILE_NAME = re.compile(r"[^\W_][\w.-]{0,63}")
_WINDOWS_DEVICES = {"con", "prn", "aux", "nul", *(f"com{n}" for n in range(10))} | {
    f"lpt{n}" for n in range(10)
}


def check_profile(profile: str) -> str:
    """The profile name if it can be a folder on Windows and elsewhere, else a ConfigError."""
    stem = profile.split(".")[0].lower()
    if (
        _PROFILE_NAME.fullmatch(profile)
        and not profile.endswith(".")
        and stem not in _WINDOWS_DEVICES
    ):
        return profile
    raise ConfigError(
        f"配置名称无效：{profile!r}。请只用字母、数字、汉字、“-”“_”“.”（以字母、数字或汉字开头，"
        f"最多64个字符），例如 --profile work / "
        f"Invalid profile name {profile!r}: use letters, digits, '-', '_' and '.' only (starting "
        "with a letter or digit, at most 64 characters), e.g. --profile work"
    )


@dataclass
class Technician:
    """Who is logged in on this profile, as the server said at login."""

    id: str
    name: str
    role: str  # "technician" or "supervisor"
    zone: str


@dataclass
class Settings:
    """Everything a profile remembers besides its token and cache."""

    profile: str = "default"
    server_url: str | None = None
    office_name: str | None = None
    office_public_key: str | None = None  # pinned at login, base64 Ed25519
    ca_file: str | None = None
    technician: Technician | None = None
    language: str = field(default_factory=lambda: system_language())
    theme: str | None = None  # the colours chosen in the app (Textual theme name)

    @property
    def cache_path(self) -> Path:
        """This profile's SQLite cache."""
        return paths.cache_file(self.profile)

    @property
    def logged_in(self) -> bool:
        """Whether a login saved the office, its pinned key and the technician."""
        return bool(self.server_url and self.technician and self.office_public_key)


def system_language() -> str:
    """'zh' when the system locale is Chinese (or unknown on a Chinese Windows), else 'en'."""
    for var in ("FIELDKIT_LANG", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(var)
        if value:
            return "zh" if value.lower().startswith("zh") else "en"
    try:
        loc = locale.getlocale()[0] or ""
    except ValueError:
        loc = ""
    return "zh" if loc.lower().startswith(("zh", "chinese")) else "en"


def load(profile: str = "default") -> Settings:
    """Read a profile's settings; a new profile gets defaults (and is not written yet)."""
    path = paths.config_file(check_profile(profile))
    if not path.exists():
        return Settings(profile=profile)
    try:
        raw = json.loads(path.read_text("utf-8"))
        tech = raw.pop("technician", None)
        raw["profile"] = profile
        known = {k: v for k, v in raw.items() if k in Settings.__dataclass_fields__}
        return Settings(**known, technician=Technician(**tech) if tech else None)
    except (OSError, ValueError, TypeError) as exc:
        raise ConfigError(
            f"配置文件无法读取：{path}（{exc}）。请删除该文件后重新登录 fieldkit login。 / "
            f"Cannot read settings {path} ({exc}); delete it and run `fieldkit login` again."
        ) from exc


def save(settings: Settings) -> None:
    """Write a profile's settings atomically."""
    path = paths.config_file(settings.profile)
    with _saving(path):
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)  # the cache there is personal
        tmp = path.with_suffix(".tmp")
        with tmp.open("w", encoding="utf-8") as out:
            out.write(json.dumps(asdict(settings), ensure_ascii=False, indent=2))
            out.flush()
            os.fsync(out.fileno())  # on disk before it replaces the old one (a dead battery)
        os.replace(tmp, path)


@contextmanager
def _saving(path: Path) -> Iterator[None]:
    """Turn a failure to write a profile file into words: what failed and what to check."""
    try:
        yield
    except OSError as exc:
        raise ConfigError(
            f"无法保存 {path}（{exc}）。请检查磁盘空间、文件夹权限和 FIELDKIT_HOME 设置后重试。 / "
            f"Cannot save {path} ({exc}); check disk space, folder permissions and FIELDKIT_HOME, "
            "then try again."
        ) from None


def save_token(profile: str, token: str) -> Path:
    """Store the bearer token in a file only its owner can read."""
    path = paths.token_file(check_profile(profile))
    with _saving(path):
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.unlink(missing_ok=True)  # a leftover file keeps its old mode: never write into it
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
        fd = os.open(tmp, flags, 0o600)
        try:
            os.write(fd, token.strip().encode("utf-8"))
            os.fsync(fd)
        finally:
            os.close(fd)
        _restrict(tmp)
        os.replace(tmp, path)
    return path


def load_token(profile: str) -> str:
    """Read the bearer token, refusing a file others can read (with the fix)."""
    path = paths.token_file(check_profile(profile))
    if not path.exists():
        raise NotLoggedIn(
            "尚未登录：请运行 fieldkit login 服务器地址 / Not logged in: run `fieldkit login URL`."
        )
    if sys.platform != "win32":
        info = path.stat()
        mode = stat.S_IMODE(info.st_mode)
        if mode & 0o077:
            raise NotLoggedIn(
                f"令牌文件 {path} 可被其他用户读取（权限 {mode:o}）。请执行 chmod 600 {path} / "
                f"Token file {path} is readable by others (mode {mode:o}); run: chmod 600 {path}"
            )
        if info.st_uid != os.getuid():
            raise NotLoggedIn(
                f"令牌文件 {path} 属于其他用户，不予使用。请删除该文件后重新运行 fieldkit login / "
                f"Token file {path} belongs to another user and is not used; delete it and run "
                "`fieldkit login` again."
            )
    try:
        return path.read_text("utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise NotLoggedIn(
            f"令牌文件 {path} 无法读取（{exc}）。请重新运行 fieldkit login / "
            f"Cannot read the token file {path} ({exc}); run `fieldkit login` again."
        ) from None


def _restrict(path: Path) -> None:
    """Owner-only permissions; on Windows the user's profile folder already is."""
    if sys.platform != "win32":
        os.chmod(path, 0o600)
