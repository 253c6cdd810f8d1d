"""The sample CSV files offices copy: saved as Excel saves them, and every row passes the rules."""

from __future__ import annotations

import csv
from pathlib import Path

from fieldkit.demo_data import generate_province
from fieldkit.domain import (
    INSTITUTION_KINDS,
    full_name,
    validate_division,
    validate_mobile,
    validate_uscc,
)

SAMPLES = Path(__file__).resolve().parents[1] / "fieldkit" / "server" / "samples"


def _rows(name: str) -> tuple[list[str], list[dict[str, str]]]:
    raw = (SAMPLES / name).read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf"), "Excel saves UTF-8 CSV with a BOM"
    with (SAMPLES / name).open(encoding="utf-8-sig", newline="") as f:
        reader = csv.DictReader(f)
        rows = list(reader)
        return list(reader.fieldnames or []), rows


def test_sample_institutions_are_valid_and_new() -> None:
    columns, rows = _rows("institutions.csv")
    assert columns == [
        "name",
        "uscc",
        "licence_no",
        "division_code",
        "address",
        "contact_name",
        "contact_phone",
        "kind",
    ]
    assert 5 <= len(rows) <= 20
    province = generate_province()
    known_codes = {i["uscc"] for i in province.institutions}
    known_names = {i["name"] for i in province.institutions}
    for row in rows:
        assert validate_uscc(row["uscc"]) == row["uscc"]
        assert row["uscc"][2:8] == row["division_code"]
        assert validate_division(row["division_code"], level="county") == row["division_code"]
        assert validate_mobile(row["contact_phone"]) == row["contact_phone"]
        assert row["kind"] in INSTITUTION_KINDS
        assert row["address"].startswith("湖南省" + full_name(row["division_code"]))
        assert row["name"] and row["contact_name"] and row["licence_no"].startswith("教民")
        assert row["uscc"] not in known_codes and row["name"] not in known_names
    assert len({r["uscc"] for r in rows}) == len(rows)


def test_sample_bank_results_answer_the_sample_institutions() -> None:
    columns, rows = _rows("bank_results.csv")
    assert columns == ["uscc", "result", "reason", "account_no"]
    _, institutions = _rows("institutions.csv")
    assert {r["uscc"] for r in rows} == {i["uscc"] for i in institutions}
    assert {r["result"] for r in rows} == {"passed", "failed"}
    for row in rows:
        if row["result"] == "passed":
            assert row["account_no"].isdigit() and not row["reason"]
        else:
            assert row["reason"] and not row["account_no"]
