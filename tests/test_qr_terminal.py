"""The half-block terminal code decodes back to the signed payload, with its quiet zone."""

from __future__ import annotations

from PIL import Image

from fieldkit.payment.qr import QUIET_ZONE, terminal_lines
from tests.test_qr_fixtures import decode_qr, signed_institution

TOP = {"▀", "█"}
BOTTOM = {"▄", "█"}


def lines_to_image(lines: list[str], scale: int = 6) -> Image.Image:
    """Paint each character cell as two stacked pixels (dark = foreground), as a screen shows it."""
    width, height = len(lines[0]), len(lines) * 2
    image = Image.new("L", (width, height), 255)
    for row, line in enumerate(lines):
        for col, char in enumerate(line):
            if char in TOP:
                image.putpixel((col, row * 2), 0)
            if char in BOTTOM:
                image.putpixel((col, row * 2 + 1), 0)
    return image.resize((width * scale, height * scale), Image.Resampling.NEAREST)


def test_terminal_code_decodes_to_the_payload() -> None:
    payload = signed_institution()["payment"]["payload"]
    lines = terminal_lines(payload)
    assert decode_qr(lines_to_image(lines)) == [payload]


def test_only_half_blocks_and_spaces_are_used() -> None:
    lines = terminal_lines(signed_institution()["payment"]["payload"])
    assert set("".join(lines)) <= {"▀", "▄", "█", " "}
    assert len({len(line) for line in lines}) == 1


def test_quiet_zone_is_four_light_modules_on_every_side() -> None:
    lines = terminal_lines(signed_institution()["payment"]["payload"])
    assert all(line == " " * len(line) for line in lines[: QUIET_ZONE // 2])
    assert all(line[:QUIET_ZONE] == " " * QUIET_ZONE for line in lines)
    assert all(line[-QUIET_ZONE:] == " " * QUIET_ZONE for line in lines)
    # Bottom: the last full-module rows are light (an odd row count adds one more light row).
    assert all(
        set(line) <= {" ", "▀"} for line in lines[-(QUIET_ZONE // 2) - 1 : -(QUIET_ZONE // 2)]
    )
    assert all(line == " " * len(line) for line in lines[-(QUIET_ZONE // 2) :])
    # The finder pattern starts right after the quiet zone.
    assert lines[QUIET_ZONE // 2][QUIET_ZONE] == "█"


def test_a_short_payload_still_decodes() -> None:
    assert decode_qr(lines_to_image(terminal_lines("https://example.org/x"))) == [
        "https://example.org/x"
    ]
