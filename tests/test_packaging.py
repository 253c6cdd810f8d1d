"""The package as installed: its licence as an SPDX expression, one version, its classifiers."""

from __future__ import annotations

import tomllib
from importlib.metadata import files, metadata, version
from pathlib import Path

import fieldkit

PYPROJECT = tomllib.loads((Path(__file__).resolve().parents[1] / "pyproject.toml").read_text())


def test_the_version_is_defined_once_in_the_package() -> None:
    assert "version" not in PYPROJECT["project"] and "version" in PYPROJECT["project"]["dynamic"]
    assert version("fieldkit") == fieldkit.__version__


def test_the_licence_is_an_spdx_expression_with_its_text() -> None:
    meta = metadata("fieldkit")
    assert meta["License-Expression"] == "MIT"
    assert "License :: " not in " ".join(meta.get_all("Classifier") or [])  # PEP 639: not both
    assert Path(__file__).resolve().parents[1].joinpath("LICENSE").read_text().startswith("MIT")


def test_classifiers_name_the_languages_pythons_and_typing() -> None:
    classifiers = set(metadata("fieldkit").get_all("Classifier") or [])
    for expected in (
        "Natural Language :: Chinese (Simplified)",
        "Programming Language :: Python :: 3.11",
        "Typing :: Typed",
    ):
        assert expected in classifiers
    shipped = {str(f) for f in files("fieldkit") or []}
    assert (
        any(name.endswith("fieldkit/py.typed") for name in shipped)
        or Path(fieldkit.__file__).with_name("py.typed").exists()
    )
