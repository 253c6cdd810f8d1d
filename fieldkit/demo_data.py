"""A generated Hunan province: 7,750 institutions and their checklists, with the office's exact figures."""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from pypinyin import lazy_pinyin

from fieldkit.demo_words import (
    ACADEMIC_FORMS,
    ACCOUNT_BLOCK_REASONS,
    BANK_FAIL_REASONS,
    BRANDS,
    BUILDINGS,
    GIVEN,
    MOBILE_PREFIXES,
    NON_ACADEMIC_FORMS,
    PAYMENT_BLOCK_REASONS,
    PRICES_YUAN,
    PURCHASE_BLOCK_REASONS,
    REGISTER_BLOCK_REASONS,
    REVIEW_BLOCK_REASONS,
    ROADS,
    SURNAMES,
)
from fieldkit.domain import (
    ACADEMIC,
    BLOCKED,
    CITIES,
    DIVISIONS,
    DONE,
    IN_PROGRESS,
    NON_ACADEMIC,
    STEP_KEYS,
    TODO,
    counties_of,
    uscc_check_char,
)
from fieldkit.domain.validators import USCC_CHARSET

DEMO_TECH_COUNTY = "430702"
DEMO_CITY = "430700"
DEMO_COUNTY_SIZE = 60

# The province-wide figures an office reports (DESIGN.md "Dashboard").
TOTAL_INSTITUTIONS = 7_750
BANK_PASSED = 6_760
FULL_PROCESS = 4_179
TOTAL_ORDERS = 6_885
TOTAL_ORDER_AMOUNT_FEN = 688_670_000

# Institutions per city: Changsha biggest, Xiangxi and Zhangjiajie smallest; sums to 7,750.
CITY_SIZES: dict[str, int] = {
    "430100": 1650,
    "430200": 560,
    "430300": 400,
    "430400": 820,
    "430500": 650,
    "430600": 600,
    "430700": 560,
    "430800": 150,
    "430900": 400,
    "431000": 520,
    "431100": 500,
    "431200": 430,
    "431300": 380,
    "433100": 130,
}

# How far along the checklist an institution is; exact counts province-wide and in the demo county.
FULL = "full_process"
PURCHASED = "purchased"  # payment on, first purchase done, but not yet full-process
PAYING = "paying"  # payment on, no purchase yet
PASSED = "passed"  # bank passed, payment not on yet
FAILED = "failed"  # bank verification failed
AWAITING = "awaiting_bank"  # account reviewed, bank has not answered
ACCOUNT = "account_open"  # registered, account not reviewed yet
NOT_STARTED = "not_started"  # not registered yet
PROFILE_COUNTS: dict[str, int] = {
    FULL: FULL_PROCESS,
    PURCHASED: 420,
    PAYING: 781,
    PASSED: 1380,
    FAILED: 415,
    AWAITING: 250,
    ACCOUNT: 240,
    NOT_STARTED: 85,
}
DEMO_PROFILE_COUNTS: dict[str, int] = {
    FULL: 30,
    PURCHASED: 4,
    PAYING: 6,
    PASSED: 10,
    FAILED: 3,
    AWAITING: 3,
    ACCOUNT: 2,
    NOT_STARTED: 2,
}
PASSED_PROFILES = (FULL, PURCHASED, PAYING, PASSED)

ACADEMIC_SHARE = 0.15


@dataclass
class Province:
    """The generated province: institution rows (wire shape plus server-only keys) and 11 steps each."""

    institutions: list[dict[str, Any]]
    steps: list[dict[str, Any]]


def generate_province(seed: int = 2026) -> Province:
    """The generated province for a seed; the same seed always gives the same rows (fresh copies)."""
    institutions, steps = _generate(seed)
    return Province([dict(row) for row in institutions], [dict(row) for row in steps])


@lru_cache(maxsize=4)
def _generate(seed: int) -> tuple[tuple[dict[str, Any], ...], tuple[dict[str, Any], ...]]:
    """Build the province once per seed (pypinyin over 7,750 names takes about a second)."""
    rng = random.Random(seed)
    counties = _county_sizes(rng)
    profiles = _profiles(rng, counties)
    institutions: list[dict[str, Any]] = []
    steps: list[dict[str, Any]] = []
    names: set[str] = set()
    codes: set[str] = set()
    for (code, size), county_profiles in zip(counties, profiles, strict=True):
        for serial in range(1, size + 1):
            profile = county_profiles[serial - 1]
            inst = _institution(rng, code, serial, names, codes)
            statuses, reasons = _checklist(rng, profile)
            inst["bank_status"], inst["bank_reason"] = _bank(profile, reasons)
            institutions.append(inst)
            steps.extend(
                {
                    "institution_id": inst["id"],
                    "step": key,
                    "status": statuses[key],
                    "reason": reasons.get(key),
                }
                for key in STEP_KEYS
            )
    _add_orders(rng, institutions, steps)
    return tuple(institutions), tuple(steps)


def _county_sizes(rng: random.Random) -> list[tuple[str, int]]:
    """(county code, institutions) for all 122 counties, in code order, summing to 7,750."""
    sizes: list[tuple[str, int]] = []
    for city in CITIES:
        counties = counties_of(city.code)
        total = CITY_SIZES[city.code]
        fixed = {DEMO_TECH_COUNTY: DEMO_COUNTY_SIZE} if city.code == DEMO_CITY else {}
        free = [c for c in counties if c.code not in fixed]
        weights = [_county_weight(c.code, c.name) * rng.uniform(0.8, 1.2) for c in free]
        shares = _apportion(total - sum(fixed.values()), weights)
        allotted = dict(fixed) | {c.code: n for c, n in zip(free, shares, strict=True)}
        sizes.extend((c.code, allotted[c.code]) for c in counties)
    return sizes


def _county_weight(code: str, name: str) -> float:
    """Urban districts weigh most, county-level cities next, rural counties least."""
    if name.endswith("区"):
        return 3.0
    if code[4:6] >= "81":
        return 2.0
    return 1.2


def _apportion(total: int, weights: list[float]) -> list[int]:
    """Split total into integers proportional to weights (largest remainder)."""
    whole = sum(weights)
    raw = [total * w / whole for w in weights]
    shares = [int(r) for r in raw]
    order = sorted(range(len(raw)), key=lambda i: raw[i] - shares[i], reverse=True)
    for i in order[: total - sum(shares)]:
        shares[i] += 1
    return shares


def _profiles(rng: random.Random, counties: list[tuple[str, int]]) -> list[list[str]]:
    """The progress profile of each institution, county by county, with exact totals."""
    rest = Counter(PROFILE_COUNTS)
    rest.subtract(DEMO_PROFILE_COUNTS)
    pool = [p for p, n in sorted(rest.items()) for _ in range(n)]
    rng.shuffle(pool)
    demo = [p for p, n in DEMO_PROFILE_COUNTS.items() for _ in range(n)]
    rng.shuffle(demo)
    out: list[list[str]] = []
    for code, size in counties:
        if code == DEMO_TECH_COUNTY:
            out.append(demo)
        else:
            out.append(pool[:size])
            del pool[:size]
    return out


def _short_place(name: str) -> str:
    """'武陵区' -> '武陵', '城步苗族自治县' -> '城步', '南县' stays '南县'."""
    if "自治" in name:
        return name[:2]
    return name if len(name) <= 2 else name[:-1]


def _institution(
    rng: random.Random, county: str, serial: int, names: set[str], codes: set[str]
) -> dict[str, Any]:
    """One institution's master data (checklist and bank status are added by the caller)."""
    division = DIVISIONS[county]
    city = DIVISIONS[division.parent]
    kind = ACADEMIC if rng.random() < ACADEMIC_SHARE else NON_ACADEMIC
    place, brand, form = _unique_name(rng, division.name, city.name, kind, names)
    name = place + brand + form
    syllables = lazy_pinyin(name)
    contact = rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))
    return {
        "id": f"JG{county}{serial:04d}",
        "name": name,
        "uscc": _uscc(rng, county, form.endswith("公司"), codes),
        "licence_no": f"教民1{county}7{serial:07d}号",
        "division_code": county,
        "address": _address(rng, city.name, division.name),
        "contact_name": contact,
        "contact_phone": rng.choice(MOBILE_PREFIXES) + f"{rng.randrange(10**8):08d}",
        "kind": kind,
        "pinyin": "".join(syllables).lower(),
        "initials": "".join(s[0] for s in syllables).lower(),
        "bank_status": "pending",
        "bank_reason": None,
        "payment": None,
        "orders": 0,
        "order_amount_fen": 0,
        "account_no": "43050" + "".join(str(rng.randrange(10)) for _ in range(15)),
        "name_latin": _latin(syllables, (len(place), len(brand), len(form) - 4)),
    }


def _unique_name(
    rng: random.Random, county: str, city: str, kind: str, names: set[str]
) -> tuple[str, str, str]:
    """A (place, brand, form) whose joined name is not used yet."""
    forms = ACADEMIC_FORMS if kind == ACADEMIC else NON_ACADEMIC_FORMS
    places = (_short_place(county), _short_place(county), _short_place(city), "湖南")
    for _ in range(1000):
        parts = (rng.choice(places), rng.choice(BRANDS), rng.choice(forms))
        if "".join(parts) not in names:
            names.add("".join(parts))
            return parts
    raise AssertionError("name space exhausted")  # 120 brands x 20 forms x 3 places per county


def _latin(syllables: list[str], lengths: tuple[int, ...]) -> str:
    """Title Case pinyin by word (place, brand, category), as many words as fit in 25 characters."""
    words: list[str] = []
    start = 0
    for n in lengths:
        words.append("".join(syllables[start : start + n]).capitalize())
        start += n
    latin = words[0]
    for word in words[1:]:
        if len(latin) + 1 + len(word) > 25:
            break
        latin += " " + word
    return latin[:25]


def _org_code(body: str) -> str:
    """GB 11714 organisation code: 8 characters and their check character."""
    weights = (3, 7, 9, 10, 5, 8, 4, 2)
    total = sum(
        (int(c) if c.isdigit() else ord(c) - 55) * w for c, w in zip(body, weights, strict=True)
    )
    check = 11 - total % 11
    return body + ("X" if check == 10 else "0" if check == 11 else str(check))


def _uscc(rng: random.Random, county: str, company: bool, codes: set[str]) -> str:
    """A unique valid credit code: 91 (company) or 52 (private non-enterprise school) + county."""
    while True:
        if company:
            body = (
                "MA4" + rng.choice("LMPQRT") + "".join(rng.choice(USCC_CHARSET) for _ in range(4))
            )
        else:
            body = "MJ" + rng.choice("JKLM") + "".join(rng.choice(USCC_CHARSET) for _ in range(5))
        first17 = ("91" if company else "52") + county + _org_code(body)
        code = first17 + uscc_check_char(first17)
        if code not in codes:
            codes.add(code)
            return code


def _address(rng: random.Random, city: str, county: str) -> str:
    """A street address inside the county."""
    floor = rng.randrange(1, 12)
    return (
        f"湖南省{city}{county}{rng.choice(ROADS)}{rng.randrange(1, 400)}号"
        f"{rng.choice(BUILDINGS)}{floor}楼{floor}{rng.randrange(1, 20):02d}室"
    )


def _checklist(rng: random.Random, profile: str) -> tuple[dict[str, str], dict[str, str]]:
    """Step statuses and blocked reasons consistent with the profile and the prerequisites."""
    s = {key: TODO for key in STEP_KEYS}
    reasons: dict[str, str] = {}
    if profile == NOT_STARTED:
        roll = rng.random()
        if roll < 0.15:
            s["registered"] = BLOCKED
            reasons["registered"] = rng.choice(REGISTER_BLOCK_REASONS)
        elif roll < 0.55:
            s["registered"] = IN_PROGRESS
        return s, reasons
    s["registered"] = DONE
    for key in ("qualification", "personnel", "courses"):
        _review(rng, s, reasons, key, 0.93 if profile != ACCOUNT else 0.5)
    if profile == ACCOUNT:
        roll = rng.random()
        if roll < 0.25:
            s["account"] = BLOCKED
            reasons["account"] = rng.choice(ACCOUNT_BLOCK_REASONS)
        elif roll < 0.75:
            s["account"] = IN_PROGRESS
        s["parent_app"] = DONE if rng.random() < 0.3 else TODO
        return s, reasons
    s["account"] = DONE
    if profile == AWAITING:
        s["bank_verified"] = IN_PROGRESS
    elif profile == FAILED:
        s["bank_verified"] = BLOCKED
        reasons["bank_verified"] = rng.choice(BANK_FAIL_REASONS)
    else:
        s["bank_verified"] = DONE
        _after_bank(rng, s, reasons, profile)
    s["parent_app"] = (
        DONE
        if rng.random() < (0.92 if profile == FULL else 0.55)
        else (rng.choice((TODO, IN_PROGRESS)))
    )
    return s, reasons


def _review(
    rng: random.Random, s: dict[str, str], reasons: dict[str, str], key: str, done_share: float
) -> None:
    """One of the review steps: mostly done, sometimes in progress, now and then blocked."""
    roll = rng.random()
    if roll < done_share:
        s[key] = DONE
    elif roll < done_share + (1 - done_share) * 0.7:
        s[key] = IN_PROGRESS
    else:
        s[key] = BLOCKED
        reasons[key] = rng.choice(REVIEW_BLOCK_REASONS[key])


def _after_bank(
    rng: random.Random, s: dict[str, str], reasons: dict[str, str], profile: str
) -> None:
    """Payment, purchase, consumption and refund for an institution whose bank check passed."""
    if profile == PASSED:
        roll = rng.random()
        if roll < 0.15:
            s["payment_enabled"] = BLOCKED
            reasons["payment_enabled"] = rng.choice(PAYMENT_BLOCK_REASONS)
        elif roll < 0.65:
            s["payment_enabled"] = IN_PROGRESS
        return
    s["payment_enabled"] = DONE
    if profile == FULL:
        for key in ("first_purchase", "first_consumption", "refund_flow"):
            s[key] = DONE
    elif profile == PURCHASED:
        s["first_purchase"] = DONE
        if rng.random() < 0.5:
            s["first_consumption"] = DONE
            s["refund_flow"] = rng.choice((TODO, IN_PROGRESS))
        else:
            s["first_consumption"] = IN_PROGRESS
            s["refund_flow"] = rng.choice((TODO, IN_PROGRESS, DONE))
    else:
        roll = rng.random()
        if roll < 0.1:
            s["first_purchase"] = BLOCKED
            reasons["first_purchase"] = rng.choice(PURCHASE_BLOCK_REASONS)
        elif roll < 0.6:
            s["first_purchase"] = IN_PROGRESS
        s["refund_flow"] = DONE if rng.random() < 0.4 else rng.choice((TODO, IN_PROGRESS))


def _bank(profile: str, reasons: dict[str, str]) -> tuple[str, str | None]:
    """bank_status and bank_reason for a profile (the failed reason is the blocked step's)."""
    if profile in PASSED_PROFILES:
        return "passed", None
    if profile == FAILED:
        return "failed", reasons["bank_verified"]
    return "pending", None


def _add_orders(
    rng: random.Random, institutions: list[dict[str, Any]], steps: list[dict[str, Any]]
) -> None:
    """Platform orders at institutions whose first purchase is done: exact count and amount."""
    purchased = {
        row["institution_id"]
        for row in steps
        if row["step"] == "first_purchase" and row["status"] == DONE
    }
    buyers = [inst for inst in institutions if inst["id"] in purchased]
    orders = [1] * len(buyers)
    for _ in range(TOTAL_ORDERS - len(buyers)):
        orders[rng.randrange(len(buyers))] += 1
    prices = [rng.choice(PRICES_YUAN) for _ in range(TOTAL_ORDERS)]
    gap = TOTAL_ORDER_AMOUNT_FEN // 100 - sum(prices)
    each, extra = divmod(gap, TOTAL_ORDERS)
    prices = [p + each + (1 if i < extra else 0) for i, p in enumerate(prices)]
    start = 0
    for inst, n in zip(buyers, orders, strict=True):
        inst["orders"] = n
        inst["order_amount_fen"] = sum(prices[start : start + n]) * 100
        start += n
