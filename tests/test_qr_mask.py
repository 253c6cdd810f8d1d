"""The fast mask choice gives exactly the symbol qrcode itself would make."""

from __future__ import annotations

import qrcode
import qrcode.util
from hypothesis import given, settings
from hypothesis import strategies as st

from fieldkit.payment.qr import ERROR_CORRECTION, QUIET_ZONE, _Code, penalty, qr_matrix
from tests.test_qr_fixtures import signed_institution


def reference(payload: str) -> list[list[bool]]:
    code = qrcode.QRCode(error_correction=ERROR_CORRECTION, border=QUIET_ZONE)
    code.add_data(payload)
    code.make(fit=True)
    return code.get_matrix()


def test_a_signed_payload_gives_qrcodes_own_symbol() -> None:
    payload = signed_institution()["payment"]["payload"]
    assert qr_matrix(payload) == reference(payload)


@settings(max_examples=40, deadline=None)
@given(
    st.text(alphabet=st.sampled_from("0123456789ABCxyz:/.中文机构缴费"), min_size=1, max_size=400)
)
def test_any_payload_gives_qrcodes_own_symbol(payload: str) -> None:
    assert qr_matrix(payload) == reference(payload)


@settings(max_examples=15, deadline=None)
@given(st.text(min_size=1, max_size=200), st.integers(0, 7))
def test_penalty_equals_qrcodes_lost_point(payload: str, mask: int) -> None:
    code = _Code(error_correction=ERROR_CORRECTION, border=QUIET_ZONE)
    code.add_data(payload)
    code.best_fit()
    code.makeImpl(True, mask)
    rows = [sum(1 << c for c, dark in enumerate(row) if dark) for row in code.modules]
    assert penalty(rows, len(rows)) == qrcode.util.lost_point(code.modules)
