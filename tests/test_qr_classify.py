"""Each kind of code found on site is told apart from the institution's supervised code."""

from __future__ import annotations

import hashlib

import pytest
import qrcode

from fieldkit.payment import emv
from fieldkit.payment.qr import QRDecodeError, classify, decode_image
from tests.test_qr_fixtures import signed_institution

EXPECTED = signed_institution()["payment"]["payload"]
OTHER_SHOP = emv.build_payload(
    "JG4307020099", "6228480000000001", "Xiaoming Art", "Changde", "小明美术工作室", "常德"
)


def test_the_supervised_code_matches() -> None:
    check = classify(EXPECTED, EXPECTED)
    assert (check.result, check.found) == ("match", "supervised")
    assert "监管收款码" in check.zh and "supervised" in check.en
    assert check.content_sha256 == hashlib.sha256(EXPECTED.encode()).hexdigest()


def test_scanner_line_ending_is_ignored() -> None:
    assert classify(EXPECTED + "\r\n", EXPECTED).result == "match"


def test_another_institutions_supervised_code_says_whose_it_is() -> None:
    check = classify(OTHER_SHOP, EXPECTED)
    assert (check.result, check.found) == ("mismatch", "other_institution")
    assert check.details["crc_ok"] is True and check.details["institution_id"] == "JG4307020099"
    assert "6228480000000001" in str(check.details["account"])
    assert "另一家机构的监管收款码：小明美术工作室（平台编号 JG4307020099）" in check.zh
    assert "another institution's supervised code: 小明美术工作室 (platform id JG4307020099)" in (
        check.en
    )
    assert "merchant" not in check.en and "商户" not in check.zh
    assert "校验码正确" in check.zh and "CRC correct" in check.en
    # without a verified code of its own, the institution's id still tells whose it is
    alone = classify(OTHER_SHOP, None, "JG4307020001")
    assert alone.found == "other_institution" and "JG4307020099" in alone.zh
    assert classify(OTHER_SHOP, None, "JG4307020099").found == "emv"  # its own, unsigned


def test_emv_with_a_wrong_crc_is_flagged() -> None:
    broken = OTHER_SHOP[:-4] + ("0000" if not OTHER_SHOP.endswith("0000") else "FFFF")
    check = classify(broken, EXPECTED)
    assert (check.result, check.found) == ("mismatch", "other_institution")
    assert check.details["crc_ok"] is False
    assert "校验码错误" in check.zh and "CRC wrong" in check.en


def test_the_supervised_code_altered_is_not_a_match() -> None:
    altered = EXPECTED.replace("常德", "长沙", 1)
    check = classify(altered, EXPECTED)
    assert (check.result, check.found) == ("mismatch", "emv")
    assert check.details["crc_ok"] is False
    assert check.details["same_account"] is True


def test_a_foreign_network_emv_code_shows_its_accounts() -> None:
    body = (
        "000201010211"
        + "15"
        + "31"
        + "9156000012345678901234567890123"
        + "5303156"
        + "5802CN"
        + "5906SHOP A"
        + "6007Beijing"
    )
    code = emv.with_crc(body)
    check = classify(code, EXPECTED)
    assert check.found == "emv" and check.details["crc_ok"] is True
    assert "15:9156000012345678901234567890123" in str(check.details["account"])


def test_a_damaged_emv_code_says_so() -> None:
    check = classify("000201010211269", EXPECTED)
    assert (check.result, check.found) == ("mismatch", "emv")
    assert check.details["crc_ok"] is False
    assert "格式损坏" in check.zh


@pytest.mark.parametrize("text", ["00020159²2ab6304ABCD", "000201010211262٣x6304ABCD"])
def test_non_ascii_digits_in_a_length_are_a_damaged_code(text: str) -> None:
    check = classify(text, EXPECTED)
    assert (check.result, check.found) == ("mismatch", "emv")
    assert "格式损坏" in check.zh


@pytest.mark.parametrize(
    "text",
    [
        "wxp://f2f0x1yZ8PqEXAMPLE",
        "https://payapp.weixin.qq.com/qr/AbCdEf?t=1",
        "weixin://wxpay/bizpayurl?pr=abc",
    ],
)
def test_wechat_personal_links(text: str) -> None:
    check = classify(text, EXPECTED)
    assert (check.result, check.found) == ("mismatch", "wechat_personal")
    assert "微信个人收款码" in check.zh and "WeChat Pay" in check.en
    assert "监管账户" in check.zh


@pytest.mark.parametrize(
    "text",
    [
        "https://qr.alipay.com/fkx12345abcde",
        "HTTPS://QR.ALIPAY.COM/x",
        "alipays://platformapi/startapp?saId=10000007",
    ],
)
def test_alipay_personal_links(text: str) -> None:
    check = classify(text, EXPECTED)
    assert (check.result, check.found) == ("mismatch", "alipay_personal")
    assert "支付宝" in check.zh and "Alipay" in check.en


@pytest.mark.parametrize(
    ("text", "host"),
    [("https://www.example.com/pay?x=1", "www.example.com"), ("www.hn-edu.cn/a", "www.hn-edu.cn")],
)
def test_other_urls(text: str, host: str) -> None:
    check = classify(text, EXPECTED)
    assert (check.result, check.found) == ("mismatch", "url")
    assert check.details["host"] == host and host in check.zh


@pytest.mark.parametrize("text", ["欢迎光临 星辰教育", "12345", ""])
def test_plain_text(text: str) -> None:
    check = classify(text, EXPECTED)
    assert (check.result, check.found) == ("mismatch", "text")


def test_without_a_verified_payload_nothing_matches() -> None:
    assert classify(EXPECTED, None).result == "mismatch"


def test_decode_image_reads_a_photo_of_a_code(tmp_path) -> None:
    path = tmp_path / "found.png"
    qrcode.make("wxp://f2f0abc").save(path)
    assert classify(decode_image(path), EXPECTED).found == "wechat_personal"


def test_decode_image_without_a_code_says_what_to_do(tmp_path) -> None:
    from PIL import Image

    path = tmp_path / "blank.png"
    Image.new("L", (200, 200), 255).save(path)
    with pytest.raises(QRDecodeError) as error:
        decode_image(path)
    assert "没有找到二维码" in error.value.zh and "No QR code" in error.value.en


def test_decode_image_of_a_non_image(tmp_path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("hello")
    with pytest.raises(QRDecodeError) as error:
        decode_image(path)
    assert "无法打开图片" in error.value.zh


def test_decode_image_without_zxing_says_how_to_install(tmp_path, monkeypatch) -> None:
    import sys

    path = tmp_path / "found.png"
    qrcode.make("wxp://f2f0abc").save(path)
    monkeypatch.setitem(sys.modules, "zxingcpp", None)  # as on a machine without it
    with pytest.raises(QRDecodeError) as error:
        decode_image(path)
    assert "pip install zxing-cpp" in error.value.zh and "paste" in error.value.en
