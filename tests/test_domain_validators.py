"""Validators: credit codes, division codes, mobiles and the prepaid-fee rules, with bilingual errors."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fieldkit.domain import (
    ACADEMIC,
    CITIES,
    COUNTIES,
    DIVISIONS,
    NON_ACADEMIC,
    CourseCharge,
    ValidationError,
    city_of,
    contains,
    counties_of,
    full_name,
    uscc_check_char,
    validate_course_charge,
    validate_division,
    validate_mobile,
    validate_uscc,
)
from fieldkit.domain.validators import USCC_CHARSET

CJK = re.compile(r"[\u4e00-\u9fff]")

# Published codes: the example of GB 32100-2015 itself, and codes printed on the business
# licences of well-known companies (Tencent, Huawei, PetroChina, Xiaomi, Baidu, BYD).
PUBLISHED_VALID = [
    "91350100M000100Y43",
    "9144030071526726XG",
    "914403001922038216",
    "91110000710925462X",
    "91110108551385082Q",
    "91110000802100433B",
    "91440300192317458F",
]


def _assert_bilingual(err: ValidationError, field: str, code: str) -> None:
    """The error names the field and the rule, in Chinese and English."""
    assert err.field == field
    assert err.code == code
    assert CJK.search(err.zh) and err.message("zh") == err.zh
    assert re.search(r"[A-Za-z]{4,}", err.en) and err.message("en") == err.en
    assert err.zh in str(err) and err.en in str(err)


# --- unified social credit code -------------------------------------------------------------


@pytest.mark.parametrize("code", PUBLISHED_VALID)
def test_published_credit_codes_are_valid(code: str) -> None:
    assert validate_uscc(code) == code
    assert uscc_check_char(code[:17]) == code[17]


def test_credit_code_is_normalised() -> None:
    assert validate_uscc("  9144030071526726xg ") == "9144030071526726XG"


@pytest.mark.parametrize(
    "code",
    [
        "91350100M000100Y44",  # last character changed
        "9144030071526726XA",
        "914403001922038217",
        "91110000710925462Y",
        "19110108551385082Q",  # two characters swapped
    ],
)
def test_wrong_check_character_is_refused(code: str) -> None:
    with pytest.raises(ValidationError) as info:
        validate_uscc(code)
    _assert_bilingual(info.value, "uscc", "uscc_check")
    assert uscc_check_char(code[:17]) in info.value.en


@pytest.mark.parametrize("letter", list("IOZSV"))
def test_letters_outside_the_charset_are_refused(letter: str) -> None:
    code = "91350100M000100Y4" + letter
    with pytest.raises(ValidationError) as info:
        validate_uscc(code)
    _assert_bilingual(info.value, "uscc", "uscc_charset")
    assert letter in info.value.zh and letter in info.value.en


@pytest.mark.parametrize("code", ["", "91350100M000100Y4", "91350100M000100Y433", "123"])
def test_wrong_length_is_refused_with_the_length(code: str) -> None:
    with pytest.raises(ValidationError) as info:
        validate_uscc(code)
    _assert_bilingual(info.value, "uscc", "uscc_length")
    assert str(len(code)) in info.value.zh and str(len(code)) in info.value.en


def test_credit_code_error_carries_the_callers_field() -> None:
    with pytest.raises(ValidationError) as info:
        validate_uscc("91350100M000100Y44", field="credit_code")
    assert info.value.field == "credit_code"


body = st.text(alphabet=USCC_CHARSET, min_size=17, max_size=17)


@given(body)
def test_any_17_characters_with_their_check_character_validate(first17: str) -> None:
    code = first17 + uscc_check_char(first17)
    assert validate_uscc(code) == code


@given(body, st.integers(min_value=0, max_value=17), st.integers(min_value=1, max_value=30))
def test_changing_any_one_character_invalidates(first17: str, pos: int, shift: int) -> None:
    code = first17 + uscc_check_char(first17)
    changed = USCC_CHARSET[(USCC_CHARSET.index(code[pos]) + shift) % 31]
    altered = code[:pos] + changed + code[pos + 1 :]
    with pytest.raises(ValidationError) as info:
        validate_uscc(altered)
    assert info.value.code == "uscc_check"


# --- division codes -------------------------------------------------------------------------


def test_hunan_has_14_cities_and_122_counties() -> None:
    assert len(CITIES) == 14
    assert len(COUNTIES) == 122
    assert sum(len(counties_of(c.code)) for c in CITIES) == 122
    assert {c.name for c in CITIES} >= {"长沙市", "常德市", "张家界市", "湘西土家族苗族自治州"}
    assert len({c.code for c in COUNTIES}) == 122


@pytest.mark.parametrize(
    "code,name",
    [
        ("430100", "长沙市"),
        ("430102", "长沙市芙蓉区"),
        ("430702", "常德市武陵区"),
        ("430582", "邵阳市邵东市"),
        ("431181", "永州市祁阳市"),
        ("433101", "湘西土家族苗族自治州吉首市"),
        ("430811", "张家界市武陵源区"),
        ("430000", "湖南省"),
    ],
)
def test_known_divisions_validate_with_their_names(code: str, name: str) -> None:
    assert validate_division(code) == code
    assert full_name(code) == name


def test_every_city_and_county_validates() -> None:
    for division in CITIES + COUNTIES:
        assert validate_division(division.code) == division.code
        city = city_of(division.code)
        assert city is not None
        assert city.code == (division.parent if division.level == "county" else division.code)
        assert contains("430000", division.code)
    assert contains("430700", "430702") and not contains("430700", "430102")
    assert city_of("430000") is None and city_of("110101") is None


@pytest.mark.parametrize("code", ["110101", "440300", "420100", "500000"])
def test_non_hunan_codes_are_refused(code: str) -> None:
    with pytest.raises(ValidationError) as info:
        validate_division(code)
    _assert_bilingual(info.value, "division_code", "division_province")
    assert code in info.value.zh


@pytest.mark.parametrize("code", ["430199", "431199", "439900", "430706"])
def test_unknown_hunan_codes_are_refused(code: str) -> None:
    with pytest.raises(ValidationError) as info:
        validate_division(code)
    _assert_bilingual(info.value, "division_code", "division_unknown")
    assert "GB/T 2260" in info.value.en


@pytest.mark.parametrize("code", ["43070", "4307021", "43O702", "", "43 702"])
def test_malformed_division_codes_are_refused(code: str) -> None:
    with pytest.raises(ValidationError) as info:
        validate_division(code)
    _assert_bilingual(info.value, "division_code", "division_shape")


def test_full_width_input_is_read_as_ascii() -> None:
    assert validate_division("４３０７０２") == "430702"
    assert validate_uscc("９１３５０１００Ｍ０００１００Ｙ４３") == "91350100M000100Y43"
    assert validate_mobile("１３８１２３４５６７８") == "13812345678"


def test_division_level_can_be_required() -> None:
    assert validate_division("430702", level="county") == "430702"
    with pytest.raises(ValidationError) as info:
        validate_division("430700", level="county")
    _assert_bilingual(info.value, "division_code", "division_level")
    assert DIVISIONS["430700"].name in info.value.zh


# --- mobiles --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw,digits",
    [
        ("13812345678", "13812345678"),
        ("+86 138 1234 5678", "13812345678"),
        ("0086-199-0000-1111", "19900001111"),
        (" 15073612345 ", "15073612345"),
    ],
)
def test_valid_mobiles_are_normalised(raw: str, digits: str) -> None:
    assert validate_mobile(raw) == digits


@pytest.mark.parametrize(
    "raw",
    [
        "12812345678",
        "1381234567",
        "138123456789",
        "0731-8888888",
        "1381234567a",
        "",
        "+1 138 1234 5678",
    ],
)
def test_invalid_mobiles_are_refused(raw: str) -> None:
    with pytest.raises(ValidationError) as info:
        validate_mobile(raw)
    _assert_bilingual(info.value, "contact_phone", "mobile")
    assert "11" in info.value.zh and "11" in info.value.en


@given(st.sampled_from("3456789"), st.text(alphabet="0123456789", min_size=9, max_size=9))
def test_any_mainland_mobile_validates(second: str, rest: str) -> None:
    assert validate_mobile("1" + second + rest) == "1" + second + rest


# --- prepaid course charges -----------------------------------------------------------------

START = date(2026, 3, 1)


def charge(**changes: object) -> CourseCharge:
    values: dict[str, object] = {
        "kind": NON_ACADEMIC,
        "class_hours": 40,
        "course_start": START,
        "course_end": date(2026, 5, 31),
        "amount_fen": 300_000,
        "charged_on": date(2026, 2, 15),
    }
    values.update(changes)
    return CourseCharge(**values)  # type: ignore[arg-type]


def _refused(c: CourseCharge, field: str, code: str) -> ValidationError:
    with pytest.raises(ValidationError) as info:
        validate_course_charge(c)
    _assert_bilingual(info.value, field, code)
    return info.value


def test_a_charge_within_every_limit_is_accepted() -> None:
    c = charge()
    assert validate_course_charge(c) is c


def test_sixty_class_hours_is_the_limit() -> None:
    validate_course_charge(charge(class_hours=60))
    err = _refused(charge(class_hours=61), "class_hours", "prepaid_hours")
    assert "60" in err.zh and "61" in err.en


def test_three_months_is_the_limit() -> None:
    validate_course_charge(charge(course_end=date(2026, 6, 1)))  # exactly three months
    _refused(charge(course_end=date(2026, 6, 2)), "course_end", "prepaid_months")


def test_three_months_from_a_month_end() -> None:
    start = date(2026, 11, 30)
    validate_course_charge(
        charge(course_start=start, course_end=date(2027, 2, 28), charged_on=start)
    )
    _refused(
        charge(course_start=start, course_end=date(2027, 3, 1), charged_on=start),
        "course_end",
        "prepaid_months",
    )


def test_whichever_is_lower_applies() -> None:
    # 30 hours over four months: under the hour limit, over the month limit.
    _refused(charge(class_hours=30, course_end=date(2026, 7, 1)), "course_end", "prepaid_months")
    # 80 hours over one month: under the month limit, over the hour limit.
    _refused(charge(class_hours=80, course_end=date(2026, 3, 31)), "class_hours", "prepaid_hours")


def test_five_thousand_yuan_for_non_academic_only() -> None:
    validate_course_charge(charge(amount_fen=500_000))
    err = _refused(charge(amount_fen=500_001), "amount_fen", "prepaid_amount")
    assert "5000" in err.zh and "5,000" in err.en
    validate_course_charge(charge(kind=ACADEMIC, amount_fen=800_000))


def test_no_fee_earlier_than_one_month_before_the_start() -> None:
    validate_course_charge(charge(charged_on=date(2026, 2, 1)))  # exactly one month early
    _refused(charge(charged_on=date(2026, 1, 31)), "charged_on", "prepaid_early")
    validate_course_charge(charge(charged_on=date(2026, 3, 20)))  # after the start is fine


@pytest.mark.parametrize(
    "changes,field,code",
    [
        ({"kind": "tutoring"}, "kind", "course_kind"),
        ({"class_hours": 0}, "class_hours", "course_hours"),
        ({"amount_fen": -1}, "amount_fen", "course_amount"),
        ({"course_end": date(2026, 2, 28)}, "course_end", "course_dates"),
    ],
)
def test_nonsense_charges_are_refused(changes: dict[str, object], field: str, code: str) -> None:
    _refused(charge(**changes), field, code)


def test_unknown_kind_names_the_allowed_kinds() -> None:
    err = _refused(charge(kind="tutoring"), "kind", "course_kind")
    assert "tutoring" in err.en and "non_academic" in err.zh and "学科类" in err.zh


@given(
    hours=st.integers(1, 200),
    days=st.integers(0, 200),
    fen=st.integers(0, 2_000_000),
    early=st.integers(-60, 60),
    academic=st.booleans(),
)
def test_course_rules_as_a_property(
    hours: int, days: int, fen: int, early: int, academic: bool
) -> None:
    c = charge(
        kind=ACADEMIC if academic else NON_ACADEMIC,
        class_hours=hours,
        course_end=START + timedelta(days=days),
        amount_fen=fen,
        charged_on=START - timedelta(days=early),
    )
    ok = (
        hours <= 60
        and START + timedelta(days=days) <= date(2026, 6, 1)
        and (academic or fen <= 500_000)
        and START - timedelta(days=early) >= date(2026, 2, 1)
    )
    if ok:
        validate_course_charge(c)
    else:
        with pytest.raises(ValidationError):
            validate_course_charge(c)
