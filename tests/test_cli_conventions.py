"""Command-line conventions: `python -m fieldkit`, global options anywhere, distinct exit codes,
help on every option in Chinese and in English."""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest

from fieldkit import config
from fieldkit.cli import build_parser, main
from fieldkit.cli.exits import MEANINGS, ExitCode
from fieldkit.cli.options import display_width, every_action, subparsers

README = (Path(__file__).resolve().parents[1] / "README.md").read_text("utf-8")
CJK = re.compile(r"[\u4e00-\u9fff]")


def fieldkit(*argv: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """`python -m fieldkit ARGV…` as a user runs it, no stdin."""
    return subprocess.run(
        [sys.executable, "-m", "fieldkit", *argv],
        capture_output=True,
        text=True,
        encoding="utf-8",
        stdin=subprocess.DEVNULL,
        env={**os.environ, **(env or {})},
        check=False,
        timeout=60,
    )


def test_python_m_fieldkit_version_is_the_installed_one() -> None:
    done = fieldkit("--version")
    assert done.returncode == 0
    assert done.stdout.strip() == f"fieldkit {version('fieldkit')}"


def save_profile(name: str, server: str) -> None:
    config.save(
        config.Settings(
            profile=name,
            server_url=server,
            office_public_key="k",
            technician=config.Technician("T0001", "李娜", "technician", "430702"),
        )
    )


@pytest.mark.parametrize(
    "argv",
    [
        ["--profile", "work", "status", "--json"],
        ["status", "--profile", "work", "--json"],
        ["status", "--json", "--profile=work"],
    ],
)
def test_profile_before_or_after_the_subcommand(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    save_profile("default", "http://127.0.0.1:1")
    save_profile("work", "http://127.0.0.1:2")
    assert main(argv) == ExitCode.OK
    report = json.loads(capsys.readouterr().out)
    assert (report["profile"], report["server"]) == ("work", "http://127.0.0.1:2")


def test_global_options_reach_nested_subcommands() -> None:
    args = build_parser().parse_args(
        ["server", "init", "--db", "x.sqlite", "--profile", "p2", "--lang", "zh"]
    )
    assert (args.profile, args.lang) == ("p2", "zh")
    args = build_parser().parse_args(["--profile", "p1", "export", "visits", "--csv", "v.csv"])
    assert args.profile == "p1" and args.lang is None


def test_the_option_after_the_subcommand_wins_as_the_last_one_given() -> None:
    args = build_parser().parse_args(["--profile", "a", "sync", "--profile", "b"])
    assert args.profile == "b"


def test_lang_chooses_the_help_language_before_or_after_the_subcommand() -> None:
    zh = fieldkit("qr", "--help", "--lang", "zh", env={"FIELDKIT_LANG": "en"})
    en = fieldkit("--lang", "en", "qr", "--help", env={"FIELDKIT_LANG": "zh"})
    assert zh.returncode == en.returncode == 0
    assert zh.stdout.startswith("用法：") and "写入 PDF 文件" in zh.stdout
    assert "显示本帮助并退出" in zh.stdout and "write a PDF here" not in zh.stdout
    assert en.stdout.startswith("usage:") and "write a PDF here" in en.stdout
    assert not CJK.search(en.stdout)


def test_help_follows_the_saved_interface_language() -> None:
    config.save(config.Settings(profile="default", language="en"))
    assert "write a PDF here" in fieldkit("qr", "--help").stdout
    config.save(config.Settings(profile="default", language="zh"))
    assert "写入 PDF 文件" in fieldkit("qr", "--help").stdout


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_option_of_every_command_has_help_in_the_language(lang: str) -> None:
    missing = []
    for parser, action in every_action(build_parser(lang)):
        if action.help == argparse.SUPPRESS:
            continue
        name = f"{parser.prog} {'/'.join(action.option_strings) or action.dest}"
        text = str(action.help or "")
        if not text.strip():
            missing.append(f"{name}: no help")
        elif lang == "zh" and not CJK.search(text):
            missing.append(f"{name}: no Chinese help ({text!r})")
        elif lang == "en" and CJK.search(text.replace("整改通知书", "")):
            missing.append(f"{name}: Chinese in the English help ({text!r})")
    assert not missing, "\n".join(missing)


def test_a_wrong_command_line_exits_2_with_words_in_both_languages() -> None:
    done = fieldkit("qr", "JG4307020001", "--size", "a3", "--png", "x.png")
    assert done.returncode == ExitCode.USAGE == 2
    assert "命令行有误" in done.stderr and "usage error" in done.stderr
    assert "invalid choice: 'a3'" in done.stderr and "fieldkit qr --help" in done.stderr
    assert "Traceback" not in done.stderr
    assert fieldkit("no-such-command").returncode == ExitCode.USAGE
    assert main(["status", "--jsn"]) == ExitCode.USAGE


def test_a_profile_name_that_cannot_be_a_folder_is_a_usage_error() -> None:
    done = fieldkit("status", "--profile", "../x")
    assert done.returncode == ExitCode.USAGE
    assert "配置名称无效" in done.stderr and "Invalid profile name" in done.stderr
    bad_env = fieldkit("status", env={"FIELDKIT_PROFILE": "a/b"})
    assert bad_env.returncode == ExitCode.USAGE and "Invalid profile name" in bad_env.stderr


def test_not_logged_in_exits_3() -> None:
    done = fieldkit("sync")
    assert done.returncode == ExitCode.NOT_LOGGED_IN == 3
    assert "尚未登录" in done.stderr and "fieldkit login" in done.stderr


def test_not_found_exits_4(tmp_path: Path) -> None:
    save_profile("default", "http://127.0.0.1:1")
    assert fieldkit("qr", "JG4307029999", "--png", str(tmp_path / "x.png")).returncode == 4
    missing = fieldkit("server", "add-technician", "李明", "--zone", "430702", "--db",
                       str(tmp_path / "none.sqlite"))  # fmt: skip
    assert missing.returncode == ExitCode.NOT_FOUND and "fieldkit server init" in missing.stderr


def test_exit_codes_are_distinct_and_documented_in_help_and_readme() -> None:
    assert len({int(code) for code in ExitCode}) == len(ExitCode)
    assert set(MEANINGS) == set(ExitCode)
    en, zh = fieldkit("--help", "--lang", "en").stdout, fieldkit("--help", "--lang", "zh").stdout
    section = README.split("## Exit codes", 1)[1].split("\n## ", 1)[0]
    for code, (meaning_zh, meaning_en) in MEANINGS.items():
        assert re.search(rf"^\s+{int(code)}\s+{re.escape(meaning_en)}$", en, re.M), code
        assert re.search(rf"^\s+{int(code)}\s+{re.escape(meaning_zh)}$", zh, re.M), code
        assert re.search(rf"^\| {int(code)} \|", section, re.M), f"README lacks exit code {code}"


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_help_page_fits_an_80_column_terminal(
    lang: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    parser = build_parser(lang)
    pages = [parser.format_help()] + [child.format_help() for child in subparsers(parser)]
    assert len(pages) > 15
    too_wide = [line for page in pages for line in page.splitlines() if display_width(line) > 80]
    assert not too_wide, "\n".join(too_wide)


def test_login_without_a_terminal_or_token_file_says_how_to_give_the_token() -> None:
    done = fieldkit("login", "http://127.0.0.1:9")  # no stdin, as in CI or a script
    assert done.returncode == ExitCode.BAD_INPUT  # README: a value given (none) was refused
    assert "没有收到令牌" in done.stderr and "--token-file" in done.stderr
    assert "Traceback" not in done.stderr and "Unexpected" not in done.stderr


@pytest.mark.parametrize("argv", [["--version"], ["status"], ["no-such-command"]])
def test_the_collector_paused_for_loading_is_on_again_for_every_command_but_the_app(
    argv: list[str], tmp_path: Path
) -> None:
    """The installed command pauses Python's cycle collector while it loads (fieldkit.command);
    every command but the app (which resumes it once drawn) runs with it on again."""
    (tmp_path / "gc_probe.py").write_text(
        "import gc\n\ndef run(args):\n    print('handler:', 'on' if gc.isenabled() else 'off')\n",
        encoding="utf-8",
    )
    probe = (
        "import gc, sys\n"
        "import fieldkit.cli\n"
        "fieldkit.cli.HANDLERS['status'] = ('gc_probe', 'run')\n"
        f"sys.argv = ['fieldkit', *{argv!r}]\n"
        "from fieldkit.command import main\n"
        "try:\n"
        "    main()\n"
        "finally:\n"
        "    print('after:', 'on' if gc.isenabled() else 'off')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        encoding="utf-8",
        stdin=subprocess.DEVNULL,
        env={**os.environ, "FIELDKIT_HOME": str(tmp_path), "PYTHONPATH": str(tmp_path)},
        check=False,
        timeout=60,
    )
    lines = done.stdout.strip().splitlines()
    assert lines[-1] == "after: on", done.stdout + done.stderr
    if argv == ["status"]:
        assert lines[-2] == "handler: on", done.stdout + done.stderr


def test_the_installed_command_is_the_one_that_pauses_the_collector() -> None:
    import tomllib

    project = tomllib.loads((Path(__file__).resolve().parents[1] / "pyproject.toml").read_text())
    assert project["project"]["scripts"]["fieldkit"] == "fieldkit.command:main"
