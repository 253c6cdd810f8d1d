"""EMV merchant-presented QR payloads (EMVCo QRCPS): build the office's static codes, parse any code."""

from __future__ import annotations

import binascii
import re
from dataclasses import dataclass

# The platform's identifier in the merchant-account template (tag 26, sub-tag 00).
PLATFORM_GUID = "CN.GOV.MOE.JYJG"
# Longest merchant name and city EMVCo allows (tags 59/60, and 01/02 inside template 64).
NAME_MAX, CITY_MAX = 25, 15
MCC_EDUCATION = "8299"
CURRENCY_CNY = "156"
COUNTRY_CN = "CN"
_TWO_DIGITS = re.compile(r"[0-9]{2}")


class EMVError(ValueError):
    """A payload is not a well-formed EMV merchant-presented code."""


def crc16_ccitt_false(data: bytes) -> int:
    """CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF): the EMV QR checksum.

    The standard library's CRC-CCITT (XMODEM's table-driven CRC) started at 0xFFFF is exactly it.
    """
    return binascii.crc_hqx(data, 0xFFFF)


def _tlv(tag: str, value: str) -> str:
    if len(value) > 99:
        raise EMVError(f"value of tag {tag} is longer than 99 characters")
    return f"{tag}{len(value):02d}{value}"


def with_crc(body: str) -> str:
    """Append tag 63 with the CRC computed over everything before it, '6304' included."""
    head = body + "6304"
    return head + f"{crc16_ccitt_false(head.encode('utf-8')):04X}"


def build_payload(
    institution_id: str,
    account: str,
    name_latin: str,
    city_latin: str,
    name_zh: str,
    city_zh: str = "",
) -> str:
    """The static collection code of one institution's supervised account."""
    merchant = _tlv("00", PLATFORM_GUID) + _tlv("01", institution_id) + _tlv("02", account)
    language = _tlv("00", "ZH") + _tlv("01", name_zh[:NAME_MAX])
    if city_zh:
        language += _tlv("02", city_zh[:CITY_MAX])
    body = (
        _tlv("00", "01")
        + _tlv("01", "11")
        + _tlv("26", merchant)
        + _tlv("52", MCC_EDUCATION)
        + _tlv("53", CURRENCY_CNY)
        + _tlv("58", COUNTRY_CN)
        + _tlv("59", name_latin[:NAME_MAX])
        + _tlv("60", city_latin[:CITY_MAX])
        + _tlv("64", language)
    )
    return with_crc(body)


def parse_tlv(text: str) -> dict[str, str]:
    """Split a TLV string into tag → value, in order; raise EMVError on a broken length."""
    fields: dict[str, str] = {}
    i = 0
    while i < len(text):
        if i + 4 > len(text):
            raise EMVError(f"truncated field at position {i}")
        tag, length = text[i : i + 2], text[i + 2 : i + 4]
        if not (_TWO_DIGITS.fullmatch(tag) and _TWO_DIGITS.fullmatch(length)):
            raise EMVError(f"bad tag or length at position {i}")
        end = i + 4 + int(length)
        if end > len(text):
            raise EMVError(f"field {tag} runs past the end")
        fields[tag] = text[i + 4 : end]
        i = end
    return fields


@dataclass(frozen=True)
class EMVPayload:
    """What a parsed EMV code says."""

    fields: dict[str, str]
    merchant_accounts: dict[str, dict[str, str]]
    crc_ok: bool

    @property
    def merchant_name(self) -> str:
        return self.fields.get("59", "")

    @property
    def merchant_city(self) -> str:
        return self.fields.get("60", "")

    @property
    def name_zh(self) -> str:
        return self.language.get("01", "")

    @property
    def language(self) -> dict[str, str]:
        raw = self.fields.get("64")
        try:
            return parse_tlv(raw) if raw else {}
        except EMVError:
            return {}

    @property
    def platform_account(self) -> dict[str, str] | None:
        """The merchant-account template that names the supervision platform, if any."""
        return next(
            (v for v in self.merchant_accounts.values() if v.get("00") == PLATFORM_GUID), None
        )


def parse_payload(text: str) -> EMVPayload:
    """Parse an EMV merchant-presented payload and check its CRC; EMVError if it is not one."""
    if not text.startswith("000201"):
        raise EMVError("does not start with the payload format indicator 000201")
    fields = parse_tlv(text)
    if "63" not in fields or len(fields["63"]) != 4 or not text.endswith(fields["63"]):
        raise EMVError("no CRC field (63) at the end")
    expected = f"{crc16_ccitt_false(text[:-4].encode('utf-8')):04X}"
    accounts: dict[str, dict[str, str]] = {}
    for tag, value in fields.items():
        if "26" <= tag <= "51":
            try:
                accounts[tag] = parse_tlv(value)
            except EMVError:
                accounts[tag] = {"raw": value}
    return EMVPayload(fields, accounts, crc_ok=fields["63"].upper() == expected)
