"""The exit codes of every `fieldkit` command, one meaning each, listed in `--help` and README.md.

A script can tell a wrong command line from "log in first" from "no such institution" from
"the office did not answer" without reading the message. New commands return these, never a
bare number.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """What a command's exit status means."""

    OK = 0
    FAILED = 1  # did not finish (the office refused, a file could not be written…): see the message
    USAGE = 2  # the command line is wrong (argparse's own code)
    NOT_LOGGED_IN = 3  # this profile has no login, or its token file cannot be used
    NOT_FOUND = 4  # the institution, visit, file or office store named does not exist
    BAD_INPUT = 5  # a file or value given was refused (an import's rows, an unreadable photo)
    CACHE_UNUSABLE = 6  # the local cache is damaged or from a newer fieldkit
    OFFLINE = 7  # the office could not be reached; nothing was lost, try again later
    MISMATCH = 8  # check-code: the code found is not the institution's supervised code
    INTERRUPTED = 130  # Ctrl+C


MEANINGS: dict[ExitCode, tuple[str, str]] = {
    ExitCode.OK: ("完成", "done"),
    ExitCode.FAILED: ("未完成（原因见提示）", "not finished (the message says why)"),
    ExitCode.USAGE: ("命令行有误", "wrong command line"),
    ExitCode.NOT_LOGGED_IN: (
        "尚未登录或令牌文件不可用",
        "not logged in, or the token file unusable",
    ),
    ExitCode.NOT_FOUND: (
        "找不到指定的机构、走访、文件或数据库",
        "the institution, visit, file or store named does not exist",
    ),
    ExitCode.BAD_INPUT: ("输入的文件或数值被拒绝", "a file or value given was refused"),
    ExitCode.CACHE_UNUSABLE: (
        "本地缓存损坏或来自更新版本",
        "the local cache is damaged or from a newer fieldkit",
    ),
    ExitCode.OFFLINE: ("无法连接办公室服务器", "the office could not be reached"),
    ExitCode.MISMATCH: (
        "check-code：该码不是机构的监管收款码",
        "check-code: the code is not the institution's supervised code",
    ),
    ExitCode.INTERRUPTED: ("被中断（Ctrl+C）", "interrupted (Ctrl+C)"),
}


def table(lang: str) -> str:
    """The exit codes and their meanings, one per line, in the given language ('zh' or 'en')."""
    title = "退出码：" if lang == "zh" else "exit codes:"
    rows = [
        f"  {int(code):>3}  {zh if lang == 'zh' else en}" for code, (zh, en) in MEANINGS.items()
    ]
    return "\n".join([title, *rows])


class CommandFailed(Exception):
    """An expected failure of a command: `fieldkit.cli.main` prints it in both languages (no
    traceback) and exits with `exit_code`. Raise it from any handler."""

    def __init__(self, zh: str, en: str, exit_code: ExitCode = ExitCode.FAILED) -> None:
        super().__init__(f"{zh} / {en}")
        self.zh = zh
        self.en = en
        self.exit_code = exit_code

    @classmethod
    def from_bilingual(cls, text: str, exit_code: ExitCode = ExitCode.FAILED) -> CommandFailed:
        """From a '中文 / English' message (a StoreError's, say); whole in both if it has no ' / '."""
        zh, sep, en = text.partition(" / ")
        return cls(zh, en if sep else zh, exit_code)
