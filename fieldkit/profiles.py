"""Which profile a command acts on when none is named: the one the app last opened.

`fieldkit demo` opens the app on the `demo-technician` profile; afterwards `fieldkit status`,
`qr`, `notice` and `export` act on that same profile, and say so (with how to choose another),
rather than on an empty `default`. Named outright (`--profile NAME` or FIELDKIT_PROFILE), a
profile is used as given. `fieldkit login` never logs in to a demo profile unless told to: a
real office's login goes to `default` after a demo.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

from . import config, paths

log = logging.getLogger(__name__)

DEFAULT = "default"
DEMO_PROFILES = ("demo-technician", "demo-supervisor")

# How a profile came to be used: named on the command line, by FIELDKIT_PROFILE, as the one
# the app last opened, or `default` for want of anything else.
GIVEN, ENVIRONMENT, LAST_OPENED, FALLBACK = "option", "environment", "last_opened", "default"


class ProfileName(str):
    """A checked profile name that remembers how it was chosen (`chosen_by`)."""

    chosen_by: str

    def __new__(cls, name: str, chosen_by: str) -> ProfileName:
        made = super().__new__(cls, name)
        made.chosen_by = chosen_by
        return made

    def __getnewargs__(self) -> tuple[str, str]:  # type: ignore[override]
        return str(self), self.chosen_by


class ProfileNotLoggedIn(config.NotLoggedIn):
    """A command on a profile without a login; `zh` and `en` say which profile and what to do."""

    def __init__(self, zh: str, en: str) -> None:
        super().__init__(f"{zh} / {en}")
        self.zh, self.en = zh, en


def _pointer() -> Path:
    """The note of the profile last opened, beside the profiles."""
    return paths.home() / "profiles" / "last-opened"


def last_opened() -> str | None:
    """The profile the app last opened (or a login last saved), if it is still a usable name."""
    try:
        name = _pointer().read_text("utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return None
    try:
        return config.check_profile(name) if name else None
    except config.ConfigError:
        return None


def remember(profile: str) -> None:
    """Note that the app (or a login) now uses `profile`; a read-only home only loses the note.

    Written only when it changes: a rename is ~10 ms on some file systems, paid at every start."""
    path = _pointer()
    try:
        if path.read_text("utf-8").strip() == profile:
            return
    except (OSError, UnicodeDecodeError):
        pass  # no note yet (or an unreadable one): write it
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(profile, "utf-8")
        os.replace(tmp, path)
    except OSError as exc:
        log.warning("cannot note the profile in use (%s): %s", path, exc)


def current() -> ProfileName:
    """The profile a command uses when --profile is not given."""
    named = os.environ.get("FIELDKIT_PROFILE")
    if named:
        return ProfileName(named, ENVIRONMENT)  # checked by the command line, as --profile is
    last = last_opened()
    if last:
        return ProfileName(last, LAST_OPENED)
    return ProfileName(DEFAULT, FALLBACK)


def for_login(profile: str) -> str:
    """The profile `fieldkit login` saves to: never a demo profile unless it was named."""
    if getattr(profile, "chosen_by", GIVEN) == LAST_OPENED and profile in DEMO_PROFILES:
        return ProfileName(DEFAULT, FALLBACK)
    return profile


def logged_in_profiles() -> list[str]:
    """The profiles of this computer that have a login, by name."""
    folder = paths.home() / "profiles"
    try:
        names = sorted(p.name for p in folder.iterdir() if (p / "config.json").is_file())
    except OSError:
        return []
    found = []
    for name in names:
        try:
            if config.load(name).logged_in:
                found.append(name)
        except config.ConfigError:
            continue
    return found


def chosen_note(profile: str) -> tuple[str, str] | None:
    """What to tell the user when a profile was picked for them (the app's last), else None."""
    if getattr(profile, "chosen_by", None) != LAST_OPENED or profile == DEFAULT:
        return None
    return (
        f"使用配置 {profile}（应用上次打开的配置；用 --profile 名称 选择其他配置）",
        f"using profile {profile} (the one the app last opened; --profile NAME chooses another)",
    )


def not_logged_in(profile: str) -> ProfileNotLoggedIn:
    """The sentence for a command on a profile without a login: which one, and what to do."""
    others = [name for name in logged_in_profiles() if name != profile]
    zh = f"配置 {profile} 尚未登录：请运行 fieldkit login 服务器地址"
    en = f"Profile {profile} is not logged in: run `fieldkit login URL`"
    if profile != DEFAULT:
        zh += f" --profile {profile}"
        en = en[:-1] + f" --profile {profile}`"
    if others:
        listed = "、".join(others)
        zh += f"；或用已登录的配置：--profile {others[0]}（已登录：{listed}）"
        en += f"; or use a profile that is logged in: --profile {others[0]} (logged in: " + (
            ", ".join(others) + ")"
        )
    return ProfileNotLoggedIn(zh + "。", en + ".")


def logged_in(profile: str) -> config.Settings:
    """The profile's settings if it has a login, else the sentence saying which and what to do."""
    settings = config.load(profile)
    if not settings.logged_in:
        raise not_logged_in(profile)
    return settings


def tell_if_chosen(profile: str) -> None:
    """On stderr (not in a script's output): which profile was picked, when the user named none."""
    note = chosen_note(profile)
    if note is not None:
        print(f"{note[0]} / {note[1]}", file=sys.stderr)
