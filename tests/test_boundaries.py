"""The architecture holds: headless packages import without Textual, the domain without the rest."""

from __future__ import annotations

import ast
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _modules(package: str) -> list[str]:
    found = [package]
    for info in pkgutil.walk_packages([str(ROOT / package)], prefix=f"{package}."):
        found.append(info.name)
    return sorted(found)


# Every module of the headless packages, found on disk so a new module is checked too.
HEADLESS = _modules("fieldkit") + _modules("cache")


def _loaded_after_import(module: str) -> set[str]:
    code = f"import sys, {module}; print('\\n'.join(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(out.stdout.split())


@pytest.mark.parametrize("module", HEADLESS)
def test_headless_modules_do_not_load_textual(module: str) -> None:
    assert "textual" not in _loaded_after_import(module)


def test_domain_imports_nothing_else_of_the_project() -> None:
    loaded = _loaded_after_import("fieldkit.domain")
    others = {m for m in loaded if m.split(".")[0] in {"cache", "screens"}}
    others |= {
        m for m in loaded if m.startswith("fieldkit.") and not m.startswith("fieldkit.domain")
    }
    assert others == set()


def _payload_builders(path: Path) -> list[str]:
    """Where a file calls something that composes an EMV payment payload."""
    tree = ast.parse(path.read_text("utf-8"))
    return [
        f"{path.relative_to(ROOT)}:{node.lineno}"
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and getattr(node.func, "attr", getattr(node.func, "id", None)) in COMPOSERS
    ]


COMPOSERS = {"build_payload", "with_crc", "payment_for"}


def test_only_the_office_composes_payment_payloads() -> None:
    client = [
        p
        for package in ("fieldkit", "cache", "screens")
        for p in sorted((ROOT / package).rglob("*.py"))
        if "server" not in p.relative_to(ROOT).parts and p.name != "emv.py"
    ]
    assert client and [hit for p in client for hit in _payload_builders(p)] == []


def test_cli_version() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "fieldkit.cli", "--version"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip().startswith("fieldkit ")


def test_chinese_output_survives_a_legacy_code_page() -> None:
    env = {**__import__("os").environ, "PYTHONIOENCODING": "cp1252"}
    out = subprocess.run(
        [sys.executable, "-m", "fieldkit.cli", "--help"], capture_output=True, env=env, check=False
    )
    assert out.returncode == 0, out.stderr.decode("utf-8", "replace")
    assert "资金监管" in out.stdout.decode("utf-8")
