"""The generated province: the office's exact figures, determinism, and data that passes every rule."""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path

import pytest

from fieldkit import domain
from fieldkit.demo_data import DEMO_CITY, DEMO_TECH_COUNTY, Province, generate_province

ROOT = Path(__file__).resolve().parents[1]
WIRE_KEYS = {*domain.INSTITUTION_FIELDS, "account_no", "name_latin"}


def _digest(province: Province) -> str:
    """A hash over every row, in order."""
    text = json.dumps([province.institutions, province.steps], ensure_ascii=False, sort_keys=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@pytest.fixture(scope="module")
def province() -> Province:
    return generate_province()


@pytest.fixture(scope="module")
def statuses(province: Province) -> dict[str, dict[str, str]]:
    by_inst: dict[str, dict[str, str]] = defaultdict(dict)
    for row in province.steps:
        by_inst[row["institution_id"]][row["step"]] = row["status"]
    return by_inst


def test_province_figures_are_exact(
    province: Province, statuses: dict[str, dict[str, str]]
) -> None:
    rows = province.institutions
    assert len(rows) == 7750
    assert sum(r["bank_status"] == "passed" for r in rows) == 6760
    assert round(6760 / 7750, 4) == 0.8723
    assert sum(domain.is_full_process(s) for s in statuses.values()) == 4179
    assert sum(r["orders"] for r in rows) == 6885
    assert sum(r["order_amount_fen"] for r in rows) == 688_670_000


def test_bank_verified_step_done_exactly_when_bank_passed(
    province: Province, statuses: dict[str, dict[str, str]]
) -> None:
    for row in province.institutions:
        assert (statuses[row["id"]]["bank_verified"] == "done") == (row["bank_status"] == "passed")
        if row["bank_status"] == "failed":
            assert re.search(r"[\u4e00-\u9fff]", row["bank_reason"])
        else:
            assert row["bank_reason"] is None
    assert Counter(r["bank_status"] for r in province.institutions).keys() == {
        "passed",
        "failed",
        "pending",
    }


def test_orders_only_where_first_purchase_is_done(
    province: Province, statuses: dict[str, dict[str, str]]
) -> None:
    for row in province.institutions:
        bought = statuses[row["id"]]["first_purchase"] == "done"
        assert (row["orders"] >= 1) == bought
        assert (row["order_amount_fen"] > 0) == bought
        if bought:
            assert row["order_amount_fen"] % 100 == 0  # whole yuan
            assert 100 * 100 <= row["order_amount_fen"] / row["orders"] <= 5000 * 100


def test_every_done_step_has_its_prerequisites(
    province: Province, statuses: dict[str, dict[str, str]]
) -> None:
    assert len(province.steps) == 11 * 7750
    for states in statuses.values():
        assert set(states) == set(domain.STEP_KEYS)
        for key, status in states.items():
            assert status in domain.STATUSES
            if status == domain.DONE:
                domain.check_transition(states, key, domain.DONE, actor=domain.SERVER)


def test_blocked_steps_carry_a_reason(province: Province) -> None:
    blocked = [row for row in province.steps if row["status"] == domain.BLOCKED]
    assert len(blocked) > 100
    assert all(row["reason"] and re.search(r"[\u4e00-\u9fff]", row["reason"]) for row in blocked)
    assert all(row["reason"] is None for row in province.steps if row["status"] != domain.BLOCKED)
    assert {row["step"] for row in blocked} >= {
        "registered",
        "account",
        "bank_verified",
        "payment_enabled",
    }


def test_every_credit_code_is_valid_unique_and_in_its_county(province: Province) -> None:
    codes = [row["uscc"] for row in province.institutions]
    assert len(set(codes)) == len(codes)
    for row in province.institutions:
        assert domain.validate_uscc(row["uscc"]) == row["uscc"]
        assert row["uscc"][2:8] == row["division_code"]
        assert row["uscc"][:2] in {"52", "91"}


def test_every_division_phone_and_kind_is_valid(province: Province) -> None:
    for row in province.institutions:
        assert domain.validate_division(row["division_code"]) == row["division_code"]
        assert domain.DIVISIONS[row["division_code"]].level == "county"
        assert domain.validate_mobile(row["contact_phone"]) == row["contact_phone"]
        assert row["kind"] in domain.INSTITUTION_KINDS
        assert row["address"].startswith("湖南省" + domain.full_name(row["division_code"]))
    assert {row["division_code"] for row in province.institutions} == {
        c.code for c in domain.COUNTIES
    }


def test_rows_have_the_wire_shape_and_unique_names(province: Province) -> None:
    ids = [row["id"] for row in province.institutions]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    names = [row["name"] for row in province.institutions]
    assert len(set(names)) == len(names)
    licences = [row["licence_no"] for row in province.institutions]
    assert len(set(licences)) == len(licences)
    for row in province.institutions:
        assert set(row) == WIRE_KEYS
        assert re.fullmatch(r"JG" + row["division_code"] + r"\d{4}", row["id"])
        assert re.fullmatch(r"教民1" + row["division_code"] + r"\d{8}号", row["licence_no"])
        assert re.fullmatch(r"[\u4e00-\u9fff]{6,}", row["name"])
        assert row["payment"] is None
        assert row["account_no"].isdigit()


def test_pinyin_keys_and_latin_names(province: Province) -> None:
    for row in province.institutions:
        assert re.fullmatch(r"[a-z]+", row["pinyin"])
        assert re.fullmatch(r"[a-z]+", row["initials"])
        assert len(row["initials"]) == len(row["name"])
        assert row["pinyin"].startswith(row["initials"][0])
        assert 0 < len(row["name_latin"]) <= 25
        assert re.fullmatch(r"[A-Z][a-z]*( [A-Z][a-z]*)*", row["name_latin"])
    by_name = {row["name"]: row for row in province.institutions}
    changsha = next(n for n in by_name if n.startswith("长沙"))
    assert by_name[changsha]["pinyin"].startswith("changsha")
    assert by_name[changsha]["initials"].startswith("cs")


def test_changsha_is_the_biggest_city(province: Province) -> None:
    per_city = Counter(r["division_code"][:4] + "00" for r in province.institutions)
    assert len(per_city) == 14
    assert per_city.most_common(1)[0][0] == "430100"


def test_demo_county_holds_a_realistic_mix(
    province: Province, statuses: dict[str, dict[str, str]]
) -> None:
    rows = [r for r in province.institutions if r["division_code"] == DEMO_TECH_COUNTY]
    assert DEMO_CITY == "430700" and domain.DIVISIONS[DEMO_TECH_COUNTY].parent == DEMO_CITY
    assert 50 <= len(rows) <= 70
    county_ids = sorted(r["id"] for r in rows)
    assert county_ids[0] == f"JG{DEMO_TECH_COUNTY}0001"
    mine = [statuses[r["id"]] for r in rows]
    assert any(domain.is_full_process(s) for s in mine)
    assert any(s["registered"] != "done" for s in mine)
    assert any(domain.BLOCKED in s.values() for s in mine)
    assert {r["bank_status"] for r in rows} == {"passed", "failed", "pending"}
    assert any(r["orders"] > 0 for r in rows)


def test_same_seed_same_rows_in_a_fresh_process(province: Province) -> None:
    code = (
        "import hashlib, json, sys\n"
        "from fieldkit.demo_data import generate_province\n"
        "for seed in (2026, 7):\n"
        "    p = generate_province(seed)\n"
        "    t = json.dumps([p.institutions, p.steps], ensure_ascii=False, sort_keys=True)\n"
        "    print(hashlib.sha256(t.encode('utf-8')).hexdigest())\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env=os.environ | {"PYTHONHASHSEED": "12345"},
        cwd=ROOT,
    )
    fresh, other_seed = out.stdout.split()
    assert fresh == _digest(province)
    assert other_seed != fresh


def test_callers_get_copies_they_may_change(province: Province) -> None:
    mine = generate_province()
    mine.institutions[0]["name"] = "改掉的名字"
    mine.steps[0]["status"] = "blocked"
    mine.institutions.pop()
    again = generate_province()
    assert again.institutions[0]["name"] == province.institutions[0]["name"] != "改掉的名字"
    assert again.steps[0]["status"] == province.steps[0]["status"]
    assert len(again.institutions) == 7750
