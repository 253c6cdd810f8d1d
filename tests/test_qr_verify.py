"""A payment code is used only when the office's signature over it checks out with the pinned key."""

from __future__ import annotations

import pytest

from fieldkit.payment import signing
from fieldkit.payment.qr import PaymentCodeRefused, verified_payload
from tests.test_qr_fixtures import PUBLIC_KEY, signed_institution


def test_signed_payload_is_returned() -> None:
    inst = signed_institution()
    assert verified_payload(inst, PUBLIC_KEY) == inst["payment"]["payload"]


@pytest.mark.parametrize(
    ("changes", "code", "zh"),
    [
        ({"bank_status": "failed", "bank_reason": "户名不符"}, "bank_not_passed", "银行核验未通过"),
        ({"bank_status": "pending"}, "bank_not_passed", "银行核验未通过"),
        ({"payment": None}, "no_payload", "请先同步"),
        ({"payment": {"payload": "", "signature": "x"}}, "no_payload", "请先同步"),
    ],
)
def test_no_verified_payload_is_refused(changes: dict, code: str, zh: str) -> None:
    with pytest.raises(PaymentCodeRefused) as refused:
        verified_payload(signed_institution(**changes), PUBLIC_KEY)
    assert refused.value.code == code
    assert zh in refused.value.zh
    assert refused.value.en and refused.value.en != refused.value.zh


def test_bank_reason_is_shown() -> None:
    with pytest.raises(PaymentCodeRefused) as refused:
        verified_payload(
            signed_institution(bank_status="failed", bank_reason="户名不符"), PUBLIC_KEY
        )
    assert "户名不符" in refused.value.message("zh")


def test_unsigned_payload_is_refused() -> None:
    inst = signed_institution()
    inst["payment"] = {"payload": inst["payment"]["payload"], "signature": None}
    with pytest.raises(PaymentCodeRefused) as refused:
        verified_payload(inst, PUBLIC_KEY)
    assert refused.value.code == "unsigned"


def test_altered_payload_is_refused() -> None:
    inst = signed_institution()
    good = inst["payment"]["payload"]
    inst["payment"] = {
        **inst["payment"],
        "payload": good.replace("6222020000000001", "6222029999999999"),
    }
    assert inst["payment"]["payload"] != good
    with pytest.raises(PaymentCodeRefused) as refused:
        verified_payload(inst, PUBLIC_KEY)
    assert refused.value.code == "tampered"
    assert "本地数据被改动，请重新同步" in refused.value.zh
    assert "altered" in refused.value.en


def test_signature_by_another_key_is_refused() -> None:
    inst = signed_institution()
    other = signing.generate_private_key()
    payload = inst["payment"]["payload"]
    inst["payment"] = {"payload": payload, "signature": signing.sign(other, payload)}
    with pytest.raises(PaymentCodeRefused) as refused:
        verified_payload(inst, PUBLIC_KEY)
    assert refused.value.code == "tampered"


@pytest.mark.parametrize("key", [None, ""])
def test_without_a_pinned_key_nothing_is_trusted(key: str | None) -> None:
    with pytest.raises(PaymentCodeRefused) as refused:
        verified_payload(signed_institution(), key)
    assert refused.value.code == "no_office_key"
    assert "fieldkit login" in refused.value.zh


def test_a_signed_code_of_another_institution_is_refused() -> None:
    inst = signed_institution(serial=1)
    inst["payment"] = signed_institution(serial=2)["payment"]  # swapped in the local file
    with pytest.raises(PaymentCodeRefused) as refused:
        verified_payload(inst, PUBLIC_KEY)
    assert refused.value.code == "tampered"
    assert "另一家机构" in refused.value.zh and "another institution" in refused.value.en
