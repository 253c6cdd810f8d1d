"""Command-line conventions shared by every `fieldkit` command.

- Help text in both languages: write `help=bi("中文", "English")` (descriptions, subcommand help
  and argument help alike); `localise` shows the interface language's half.
- Global options (`--profile`, `--lang`) are accepted before or after any subcommand:
  `add_global_options_everywhere` gives every subparser a copy, so a new subcommand gets them
  without doing anything.
- A wrong command line exits with `ExitCode.USAGE` (2) and says so in both languages.
"""

from __future__ import annotations

import argparse
import re
import sys
import unicodedata
from collections.abc import Iterator, Sequence
from typing import Any, NoReturn

from fieldkit.cli.exits import ExitCode

LANGS = ("zh", "en")


class Bilingual(str):
    """A help text in Chinese and English; reads as '中文 / English' until localised."""

    zh: str
    en: str

    def __new__(cls, zh: str, en: str) -> Bilingual:
        text = super().__new__(cls, f"{zh} / {en}")
        text.zh, text.en = zh, en
        return text

    def pick(self, lang: str) -> str:
        """The text in 'zh' or 'en'."""
        return self.zh if lang == "zh" else self.en


def bi(zh: str, en: str) -> Bilingual:
    """A help text given in both languages."""
    return Bilingual(zh, en)


def display_width(text: str) -> int:
    """Terminal columns `text` takes: two for each wide (Chinese) character."""
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)


def wrap_wide(text: str, width: int) -> list[str]:
    """Lines of at most `width` terminal columns: breaking between Latin words, or anywhere
    between Chinese characters."""
    lines: list[str] = []
    line = ""
    for token in re.findall(r"\s+|[\x21-\x7e]+|.", " ".join(text.split())):
        if line and display_width(line + token.rstrip()) > width:
            lines.append(line.rstrip())
            line = token.lstrip()
        else:
            line += token
    if line.strip():
        lines.append(line.rstrip())
    return lines or [""]


class WideHelpFormatter(argparse.HelpFormatter):
    """Help wrapped by terminal columns, so Chinese (two columns a character) fits the screen;
    text with line breaks of its own (the exit-code table) is kept as written."""

    def _split_lines(self, text: str, width: int) -> list[str]:
        return wrap_wide(text, width)

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        if "\n" in text:
            return "\n".join(indent + line for line in text.splitlines())
        return "\n".join(indent + line for line in wrap_wide(text, width))


class FieldkitParser(argparse.ArgumentParser):
    """An ArgumentParser whose headings and usage errors follow the interface language."""

    lang = "en"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", WideHelpFormatter)
        super().__init__(*args, **kwargs)

    def format_usage(self) -> str:
        return self._localised(super().format_usage())

    def format_help(self) -> str:
        return self._localised(super().format_help())

    def _localised(self, text: str) -> str:
        if self.lang == "zh" and text.startswith("usage: "):
            return "用法：" + text[len("usage: ") :]
        return text

    def error(self, message: str) -> NoReturn:
        """A wrong command line: the usage, the problem in both languages, exit code 2."""
        self.print_usage(sys.stderr)
        self.exit(
            ExitCode.USAGE,
            f"{self.prog}: 命令行有误 / usage error: {message}\n"
            f"请运行 `{self.prog} --help` 查看用法 / run `{self.prog} --help` for the options\n",
        )


GLOBAL_HELP = {
    "profile": bi(
        "使用哪个配置（服务器、令牌、缓存各自独立）；默认为环境变量 FIELDKIT_PROFILE，"
        "否则为应用上次打开的配置（如演示的 demo-technician），否则 default",
        "which profile (server, token, cache) to use; default $FIELDKIT_PROFILE, else the one "
        "the app last opened (the demo's demo-technician, say), else 'default'",
    ),
    "lang": bi(
        "界面语言：zh 中文 或 en 英文（默认：已保存的设置或系统语言）",
        "interface language: zh or en (default: the saved setting, or the system's)",
    ),
}


def profile_name(text: str) -> str:
    """A --profile value that can be a folder name everywhere; argparse's usage error otherwise.

    The default (fieldkit.profiles.current) comes through here too and keeps how it was chosen.
    """
    from fieldkit import config, profiles

    try:
        name = config.check_profile(text)
    except config.ConfigError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return (
        text
        if isinstance(text, profiles.ProfileName)
        else profiles.ProfileName(name, profiles.GIVEN)
    )


def add_global_options(parser: argparse.ArgumentParser, *, top: bool) -> None:
    """--profile and --lang; below the top the default is "not given" so the top's value stays."""
    from fieldkit import profiles

    taken = {s for action in parser._actions for s in action.option_strings}
    if "--profile" not in taken:
        parser.add_argument(
            "--profile",
            metavar="NAME",
            type=profile_name,
            default=profiles.current() if top else argparse.SUPPRESS,
            help=GLOBAL_HELP["profile"],
        )
    if "--lang" not in taken:
        parser.add_argument(
            "--lang",
            choices=LANGS,
            default=None if top else argparse.SUPPRESS,
            help=GLOBAL_HELP["lang"],
        )


def subparsers(parser: argparse.ArgumentParser) -> Iterator[argparse.ArgumentParser]:
    """Every parser below this one, depth first."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in dict.fromkeys(action.choices.values()):  # aliases: once each
                yield child
                yield from subparsers(child)


def add_global_options_everywhere(parser: argparse.ArgumentParser) -> None:
    """The global options on the top parser and on every subcommand, however deep."""
    add_global_options(parser, top=True)
    for child in subparsers(parser):
        add_global_options(child, top=False)


def localise(parser: argparse.ArgumentParser, lang: str) -> None:
    """Show every bilingual help text, heading and description in `lang` ('zh' or 'en')."""
    for each in (parser, *subparsers(parser)):
        if isinstance(each, FieldkitParser):
            each.lang = lang
        if lang == "zh":
            each._positionals.title = "参数"
            each._optionals.title = "选项"
        for action in each._actions:
            if action.option_strings == ["-h", "--help"]:
                action.help = "显示本帮助并退出" if lang == "zh" else "show this help and exit"
            if isinstance(action, argparse._SubParsersAction):
                for pseudo in action._choices_actions:
                    _localise_help(pseudo, lang)
                    child = action.choices.get(pseudo.dest)
                    if child is not None and child.description is None:
                        child.description = pseudo.help
            _localise_help(action, lang)
        for text_field in ("description", "epilog"):
            text = getattr(each, text_field)
            if isinstance(text, Bilingual):
                setattr(each, text_field, text.pick(lang))


def _localise_help(action: argparse.Action, lang: str) -> None:
    if isinstance(action.help, Bilingual):
        action.help = action.help.pick(lang)


def every_action(
    parser: argparse.ArgumentParser,
) -> Iterator[tuple[argparse.ArgumentParser, argparse.Action]]:
    """Each (parser, action) of the whole command line, subcommands included (for tests)."""
    for each in (parser, *subparsers(parser)):
        for action in each._actions:
            yield each, action


def prescan(argv: Sequence[str], option: str) -> str | None:
    """The value of a global option anywhere in argv (`--lang en` or `--lang=en`), before parsing.

    The help is built in the interface language, so the language must be known before argparse
    reads the command line; the last occurrence wins, as argparse would have it.
    """
    found: str | None = None
    for index, word in enumerate(argv):
        if word == "--":
            break
        if word == option and index + 1 < len(argv):
            found = argv[index + 1]
        elif word.startswith(option + "="):
            found = word.split("=", 1)[1]
    return found
