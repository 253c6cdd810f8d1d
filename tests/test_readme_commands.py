"""README.md's commands are real: each one exists, has --help, and knows every option it shows."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from fieldkit.cli import build_parser

README = (Path(__file__).resolve().parents[1] / "README.md").read_text("utf-8")


def _block_after(heading: str) -> str:
    section = README.split(heading, 1)[1]
    return section.split("```", 2)[1]


REFERENCE = [
    line.split("  ")[0].strip()
    for line in _block_after("## Every command").splitlines()
    if line.startswith("fieldkit")
]
WORDS = re.compile(r"^[a-z][a-z-]*$")


def _command_words(line: str) -> list[str]:
    words = []
    for token in line.split()[1:]:
        if not WORDS.match(token):
            break
        words.append(token)
    return words


def _help(words: list[str]) -> str:
    out = subprocess.run(
        [sys.executable, "-m", "fieldkit.cli", *words, "--help"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert out.returncode == 0, f"`fieldkit {' '.join(words)} --help` failed: {out.stderr}"
    return out.stdout


def test_the_reference_lists_the_commands() -> None:
    assert len(REFERENCE) >= 15


@pytest.mark.parametrize("line", REFERENCE)
def test_each_command_has_help_and_every_option_shown(line: str) -> None:
    words = _command_words(line)
    text = _help(words)
    for option in re.findall(r"--[a-z][a-z-]*", line):
        assert option in text, f"README shows {option} for `fieldkit {' '.join(words)}`"


def test_every_command_of_the_parser_is_in_the_reference() -> None:
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")  # argparse's own listing
    listed = {" ".join(_command_words(line)[:1]) for line in REFERENCE}
    assert set(sub.choices) <= listed | {""}


def test_the_going_live_commands_parse() -> None:
    lines = [
        line.split("#")[0].strip()
        for line in _block_after("## Going live").splitlines()
        if line.startswith("fieldkit")
    ]
    assert len(lines) >= 6
    for line in lines:
        build_parser().parse_args(shlex.split(line)[1:])


def test_login_does_not_take_token_as_short_for_token_file(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(["login", "https://office.example", "--token", "fk_abc"])
    assert "unrecognized arguments: --token" in capsys.readouterr().err
    args = build_parser().parse_args(["login", "https://office.example", "--token-file", "-"])
    assert args.token_file == "-"
