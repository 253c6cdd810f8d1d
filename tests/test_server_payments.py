"""Payment codes: the bank's answers issue signed EMV payloads that verify with the served key."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from fieldkit import domain
from fieldkit.payment import emv, signing
from tests.live_server import (
    INSTITUTION_HEADER,
    LiveServer,
    SmallOffice,
    admin,
    institution_line,
    make_uscc,
    small_office,
    token_from,
    write_csv,
)

ACCOUNT = "43050338847530331111"


@pytest.fixture(scope="module")
def office(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[SmallOffice, str]]:
    """The small office with the bank's answers for two Wuling institutions, under uvicorn."""
    tmp = tmp_path_factory.mktemp("payments")
    built = small_office(tmp)
    bank = [
        "统一社会信用代码,核验结果,原因,监管账号",
        f"{make_uscc(1, '430702')},通过,,{ACCOUNT}",
        f"{make_uscc(2, '430702')},未通过,账户名称与机构名称不一致,",
    ]
    code, out = admin(built.db, "import-bank-results", str(write_csv(tmp / "bank.csv", bank)))
    assert code == 0, out
    with LiveServer(built.db) as server:
        yield built, server.url


def pulled(office: tuple[SmallOffice, str], who: str = "tech_a") -> dict[str, dict[str, Any]]:
    built, url = office
    answer = httpx.get(url + "/api/v1/sync/pull", headers=built.headers(who))
    return {c["id"]: c["data"] for c in answer.json()["changes"]}


def served_key(office: tuple[SmallOffice, str]) -> str:
    return httpx.get(office[1] + "/api/v1/office").json()["public_key"]


def test_a_pass_issues_a_payload_signed_with_the_served_key(
    office: tuple[SmallOffice, str],
) -> None:
    changes = pulled(office)
    institution = changes["JG4307020001"]
    assert institution["bank_status"] == "passed" and institution["bank_reason"] is None
    payment = institution["payment"]
    assert signing.verify(served_key(office), payment["payload"], payment["signature"])
    assert changes["JG4307020001:bank_verified"]["status"] == "done"
    assert changes["JG4307020001:bank_verified"]["updated_by"] == "office"


def test_the_payload_is_an_emv_code_of_the_supervised_account(
    office: tuple[SmallOffice, str],
) -> None:
    payload = pulled(office)["JG4307020001"]["payment"]["payload"]
    parsed = emv.parse_payload(payload)
    assert parsed.crc_ok
    assert payload[-4:] == f"{emv.crc16_ccitt_false(payload[:-4].encode()):04X}"
    assert parsed.fields["00"] == "01" and parsed.fields["01"] == "11"  # static code
    assert parsed.platform_account == {"00": emv.PLATFORM_GUID, "01": "JG4307020001", "02": ACCOUNT}
    assert parsed.fields["53"] == "156" and parsed.fields["58"] == "CN"
    assert parsed.merchant_name == "ChangDeXingChenJiaoYuPeiX"
    assert parsed.merchant_city == "Changde"
    assert parsed.merchant_name.isascii() and parsed.merchant_city.isascii()
    assert parsed.language["00"] == "ZH"
    assert parsed.name_zh == "常德星辰教育培训学校"


def test_a_changed_payload_no_longer_verifies(office: tuple[SmallOffice, str]) -> None:
    payment = pulled(office)["JG4307020001"]["payment"]
    forged = payment["payload"].replace(ACCOUNT, "62220000000000000000")
    assert forged != payment["payload"]
    assert not signing.verify(served_key(office), forged, payment["signature"])


def test_a_failure_carries_the_banks_reason_and_no_payment(office: tuple[SmallOffice, str]) -> None:
    changes = pulled(office)
    institution = changes["JG4307020002"]
    assert (institution["bank_status"], institution["bank_reason"], institution["payment"]) == (
        "failed",
        "账户名称与机构名称不一致",
        None,
    )
    step = changes["JG4307020002:bank_verified"]
    assert (step["status"], step["reason"]) == ("blocked", "账户名称与机构名称不一致")
    assert changes["JG4307020003"]["bank_status"] == "pending"


def test_clients_cannot_touch_the_payment_or_the_bank_answer(
    office: tuple[SmallOffice, str],
) -> None:
    built, url = office
    clock = domain.HLC("laptop-a")
    ops = [
        {
            "op_id": str(uuid.uuid4()),
            "hlc": clock.now(),
            "kind": kind,
            "institution_id": "JG4307020002",
            "data": data,
        }
        for kind, data in (
            ("step.set", {"step": "bank_verified", "status": "done"}),
            ("payment.set", {"payload": "000201", "signature": "x"}),
            ("contact.set", {"payment": None}),
            ("contact.set", {"bank_status": "passed"}),
        )
    ]
    answer = httpx.post(
        url + "/api/v1/sync/push",
        headers=built.headers("tech_a"),
        json={"client_id": "laptop-a", "ops": ops},
    )
    assert [r["reason"] for r in answer.json()["results"]] == ["server_owned"] * 4
    assert pulled(office)["JG4307020002"]["payment"] is None


def test_a_later_pass_replaces_a_failure(office: tuple[SmallOffice, str], tmp_path: Path) -> None:
    built, _ = office
    bank = ["uscc,result,reason,account_no", f"{make_uscc(2, '430702')},passed,,{ACCOUNT}2"]
    code, out = admin(built.db, "import-bank-results", str(write_csv(tmp_path / "b.csv", bank)))
    assert code == 0, out
    changes = pulled(office)
    payment = changes["JG4307020002"]["payment"]
    assert signing.verify(served_key(office), payment["payload"], payment["signature"])
    assert emv.parse_payload(payment["payload"]).platform_account["02"] == ACCOUNT + "2"
    assert changes["JG4307020002:bank_verified"]["status"] == "done"


def _one_verified(tmp: Path, name: str) -> Path:
    """A fresh office with one Wuling institution called `name`, passed by the bank."""
    db = tmp / "one.sqlite"
    assert admin(db, "init")[0] == 0
    lines = [INSTITUTION_HEADER, institution_line(name, 1, "430702")]
    assert admin(db, "import-institutions", str(write_csv(tmp / "i.csv", lines)))[0] == 0
    bank = ["uscc,result,reason,account_no", f"{make_uscc(1, '430702')},passed,,{ACCOUNT}"]
    code, out = admin(db, "import-bank-results", str(write_csv(tmp / "b.csv", bank)))
    assert code == 0, out
    return db


def _served_payment(db: Path) -> tuple[str, str, str]:
    """(payload, signature, served public key) of JG4307020001 as a supervisor pulls it."""
    code, out = admin(db, "add-technician", "主管", "--zone", "430700", "--supervisor")
    assert code == 0, out
    headers = {"Authorization": f"Bearer {token_from(out)}"}
    with LiveServer(db) as server:
        changes = httpx.get(server.url + "/api/v1/sync/pull", headers=headers).json()["changes"]
        key = httpx.get(server.url + "/api/v1/office").json()["public_key"]
    payment = next(c["data"]["payment"] for c in changes if c["id"] == "JG4307020001")
    return payment["payload"], payment["signature"], key


def test_a_long_name_gets_a_code_within_emv_lengths(tmp_path: Path) -> None:
    name = "常德市武陵区" + "星辰" * 40 + "学校"  # 88 characters: the import takes up to 100
    payload, signature, key = _served_payment(_one_verified(tmp_path, name))
    parsed = emv.parse_payload(payload)
    assert parsed.crc_ok and signing.verify(key, payload, signature)
    assert parsed.name_zh == name[:25] and len(parsed.language["02"]) <= 15


def test_renaming_a_verified_institution_reissues_its_code(tmp_path: Path) -> None:
    db = _one_verified(tmp_path, "常德星辰教育培训学校")
    lines = [INSTITUTION_HEADER, institution_line("常德星辰艺术培训学校", 1, "430702")]
    code, out = admin(db, "import-institutions", str(write_csv(tmp_path / "r.csv", lines)))
    assert code == 0, out
    payload, signature, key = _served_payment(db)
    assert signing.verify(key, payload, signature)
    assert emv.parse_payload(payload).name_zh == "常德星辰艺术培训学校"
    assert emv.parse_payload(payload).platform_account["02"] == ACCOUNT
