"""The EMV checksum: CRC-16/CCITT-FALSE through binascii.crc_hqx, checked against the definition."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from fieldkit.payment import emv


def crc_by_definition(data: bytes) -> int:
    """CRC-16/CCITT-FALSE bit by bit: polynomial 0x1021, initial value 0xFFFF, no reflection."""
    crc = 0xFFFF
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else (crc << 1)
            crc &= 0xFFFF
    return crc


def test_the_catalogued_check_value() -> None:
    assert emv.crc16_ccitt_false(b"123456789") == 0x29B1
    assert emv.crc16_ccitt_false(b"") == 0xFFFF


@given(st.binary(max_size=512))
def test_the_library_crc_is_the_definition(data: bytes) -> None:
    assert emv.crc16_ccitt_false(data) == crc_by_definition(data)


def test_a_built_payload_carries_its_checksum_and_parses() -> None:
    payload = emv.with_crc("000201010211")
    assert payload[-8:-4] == "6304"
    assert payload[-4:] == f"{crc_by_definition(payload[:-4].encode()):04X}"
