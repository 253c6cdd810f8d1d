"""Validators for what technicians and offices enter: credit codes, divisions, phones, course fees."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date

from .divisions import DIVISIONS
from .errors import ValidationError

# GB 32100-2015: 31 characters, without I, O, Z, S, V.
USCC_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_USCC_SHAPE = re.compile(rf"^[{USCC_CHARSET}]{{18}}$")
_MOBILE = re.compile(r"^1[3-9][0-9]{9}$")


def _halfwidth(value: str) -> str:
    """Full-width digits and letters (as Chinese input methods type them) as ASCII, trimmed."""
    return unicodedata.normalize("NFKC", value).strip()


def uscc_check_char(first17: str) -> str:
    """The GB 32100-2015 check character for the first 17 characters of a credit code."""
    total = sum(USCC_CHARSET.index(c) * w for c, w in zip(first17, USCC_WEIGHTS, strict=True))
    return USCC_CHARSET[(31 - total % 31) % 31]


def validate_uscc(value: str, field: str = "uscc") -> str:
    """Normalise and check an 18-character unified social credit code; return it upper-cased."""
    code = _halfwidth(value).upper()
    if len(code) != 18:
        raise ValidationError(
            "uscc_length",
            f"统一社会信用代码应为18位，当前为{len(code)}位，请核对营业执照或办学许可证",
            f"The unified social credit code must have 18 characters, not {len(code)}; "
            "copy it again from the business licence",
            field,
        )
    if not _USCC_SHAPE.match(code):
        bad = next(c for c in code if c not in USCC_CHARSET)
        raise ValidationError(
            "uscc_charset",
            f"统一社会信用代码含有不允许的字符“{bad}”（不使用 I、O、Z、S、V）",
            f"The unified social credit code contains '{bad}', which GB 32100 does not use "
            "(no I, O, Z, S, V)",
            field,
        )
    expected = uscc_check_char(code[:17])
    if code[17] != expected:
        raise ValidationError(
            "uscc_check",
            f"统一社会信用代码校验位错误（应为“{expected}”），请逐位核对",
            f"The credit code's check character is wrong (expected '{expected}'): "
            "check each character against the licence",
            field,
        )
    return code


def validate_division(value: str, field: str = "division_code", level: str | None = None) -> str:
    """Check a 6-digit GB/T 2260 code of Hunan (43xxxx) that this build knows, of `level` if given."""
    code = _halfwidth(value)
    if not re.fullmatch(r"[0-9]{6}", code):
        raise ValidationError(
            "division_shape",
            f"行政区划代码应为6位数字，收到“{code}”",
            f"A division code has 6 digits; got '{code}'",
            field,
        )
    if not code.startswith("43"):
        raise ValidationError(
            "division_province",
            f"行政区划代码“{code}”不在湖南省（43开头）",
            f"Division code '{code}' is not in Hunan (codes start with 43)",
            field,
        )
    if code not in DIVISIONS:
        raise ValidationError(
            "division_unknown",
            f"未知的行政区划代码“{code}”，请按 GB/T 2260 填写市或县（区）代码",
            f"Unknown division code '{code}': use a GB/T 2260 city or county code",
            field,
        )
    if level is not None and DIVISIONS[code].level != level:
        zh_level = {"province": "省", "city": "市（州）", "county": "县（市、区）"}.get(
            level, level
        )
        raise ValidationError(
            "division_level",
            f"行政区划代码“{code}”（{DIVISIONS[code].name}）不是{zh_level}级代码",
            f"Division code '{code}' ({DIVISIONS[code].name}) is not a {level} code",
            field,
        )
    return code


def validate_mobile(value: str, field: str = "contact_phone") -> str:
    """Check a mainland mobile number (11 digits starting 13-19); +86, spaces and dashes allowed."""
    digits = re.sub(r"[\s\-]", "", _halfwidth(value))
    if digits.startswith("+86"):
        digits = digits[3:]
    elif digits.startswith("0086"):
        digits = digits[4:]
    if not _MOBILE.match(digits):
        raise ValidationError(
            "mobile",
            f"手机号“{value.strip()}”无效：应为以1开头的11位数字",
            f"Mobile number '{value.strip()}' is invalid: 11 digits starting with 1 (13-19)",
            field,
        )
    return digits


# A landline: its area code (010, 02x, 0xxx), a local number of 7-8 digits not starting with 0,
# maybe an extension: 0736-1234567, 07361234567, (0736) 1234567, 0736-1234567-802, …转802.
_LANDLINE = re.compile(
    r"^(0(?:10|2\d|[3-9]\d{2}))-?([1-9]\d{6,7})(?:(?:-|转|ext\.?)(\d{1,6}))?$", re.IGNORECASE
)


def validate_phone(value: str, field: str = "contact_phone") -> str:
    """An institution's contact number: a mobile (as validate_mobile) or a landline with its area
    code, which comes back as AREA-NUMBER[-EXTENSION] (0736-1234567)."""
    compact = re.sub(r"[\s()（）]", "", _halfwidth(value))
    landline = _LANDLINE.match(compact)
    if landline:
        area, number, extension = landline.groups()
        return f"{area}-{number}" + (f"-{extension}" if extension else "")
    try:
        return validate_mobile(value, field)
    except ValidationError:
        raise ValidationError(
            "phone",
            f"电话号码“{value.strip()}”无效：手机号为以1开头的11位数字，座机请带区号（如 0736-1234567）",
            f"Phone number '{value.strip()}' is invalid: a mobile is 11 digits starting with 1, "
            "a landline needs its area code (e.g. 0736-1234567)",
            field,
        ) from None


MAX_CLASS_HOURS = 60
MAX_MONTHS = 3
MAX_NON_ACADEMIC_FEN = 500_000  # 5,000 yuan
ACADEMIC = "academic"
NON_ACADEMIC = "non_academic"
INSTITUTION_KINDS = (ACADEMIC, NON_ACADEMIC)


@dataclass(frozen=True)
class CourseCharge:
    """One prepaid charge for a course."""

    kind: str  # ACADEMIC or NON_ACADEMIC
    class_hours: int
    course_start: date
    course_end: date
    amount_fen: int
    charged_on: date


def _add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year = day.year + month // 12
    month = month % 12 + 1
    for dd in (day.day, 30, 29, 28):
        try:
            return date(year, month, dd)
        except ValueError:
            continue
    raise AssertionError("unreachable")


def validate_course_charge(charge: CourseCharge) -> CourseCharge:
    """Check the prepaid-fee rules: ≤60 hours and ≤3 months; non-academic ≤5,000 yuan; ≤1 month early."""
    if charge.kind not in INSTITUTION_KINDS:
        raise ValidationError(
            "course_kind",
            f"培训类别“{charge.kind}”无效，应为学科类（academic）或非学科类（non_academic）",
            f"Training kind '{charge.kind}' is invalid: use academic or non_academic",
            "kind",
        )
    if charge.class_hours <= 0:
        raise ValidationError(
            "course_hours", "课时数须为正数", "Class hours must be positive", "class_hours"
        )
    if charge.amount_fen < 0:
        raise ValidationError(
            "course_amount", "收费金额不能为负", "The amount cannot be negative", "amount_fen"
        )
    if charge.course_end < charge.course_start:
        raise ValidationError(
            "course_dates",
            "课程结束日期早于开始日期",
            "The course ends before it starts",
            "course_end",
        )
    if charge.class_hours > MAX_CLASS_HOURS:
        raise ValidationError(
            "prepaid_hours",
            f"单次收费不得超过60课时（本次{charge.class_hours}课时）",
            f"One charge may cover at most 60 class hours (this one covers {charge.class_hours})",
            "class_hours",
        )
    if charge.course_end > _add_months(charge.course_start, MAX_MONTHS):
        raise ValidationError(
            "prepaid_months",
            "单次收费时间跨度不得超过3个月",
            "One charge may cover at most 3 months of lessons",
            "course_end",
        )
    if charge.kind == NON_ACADEMIC and charge.amount_fen > MAX_NON_ACADEMIC_FEN:
        raise ValidationError(
            "prepaid_amount",
            f"非学科类单次收费不得超过5000元（本次{charge.amount_fen / 100:.2f}元）",
            f"A non-academic charge may be at most 5,000 yuan (this one is "
            f"{charge.amount_fen / 100:,.2f})",
            "amount_fen",
        )
    if charge.charged_on < _add_months(charge.course_start, -1):
        raise ValidationError(
            "prepaid_early",
            "不得在开课前一个月以上收取费用",
            "Fees may not be collected more than one month before the course starts",
            "charged_on",
        )
    return charge


def typed_id(text: str) -> str:
    """A record id as a person types it, without its spaces or the `#` the app shows before it."""
    return "".join(str(text).split()).lstrip("#")
