"""Payment QR codes: the office-signed payload checked before use, drawn, and codes found on site told apart."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit

import qrcode
import qrcode.constants
import qrcode.util

from . import emv, signing

QUIET_ZONE = 4  # modules of light margin around the symbol, as the QR standard requires
ERROR_CORRECTION = qrcode.constants.ERROR_CORRECT_M


class PaymentCodeRefused(Exception):
    """The app will not render, print or compare this institution's code; .zh/.en say why and what to do."""

    def __init__(self, code: str, zh: str, en: str) -> None:
        super().__init__(f"{zh} / {en}")
        self.code = code
        self.zh = zh
        self.en = en

    def message(self, lang: str = "zh") -> str:
        """The reason in one language."""
        return self.zh if lang == "zh" else self.en


class QRDecodeError(Exception):
    """An image could not be read as a QR code; .zh/.en say what to do."""

    def __init__(self, zh: str, en: str) -> None:
        super().__init__(f"{zh} / {en}")
        self.zh = zh
        self.en = en


def verified_payload(institution: dict, public_key_b64: str | None) -> str:
    """The institution's payment payload, only if the office's signature over it checks out."""
    name = institution.get("name") or institution.get("id", "")
    if institution.get("bank_status") != "passed":
        reason = institution.get("bank_reason")
        zh_reason = f"（{reason}）" if reason else ""
        en_reason = f" ({reason})" if reason else ""
        raise PaymentCodeRefused(
            "bank_not_passed",
            f"银行核验未通过{zh_reason}：{name} 还没有监管收款码，不能显示或打印。",
            f"Bank verification has not passed{en_reason}: {name} has no supervised "
            "collection code yet, so none can be shown or printed.",
        )
    payment = institution.get("payment") or {}
    payload = payment.get("payload")
    if not payload:
        raise PaymentCodeRefused(
            "no_payload",
            f"银行核验已通过，但本机还没有 {name} 的平台收款码。请先同步（fieldkit sync）。",
            f"Bank verification has passed but this device has no platform code for {name} "
            "yet. Sync first (fieldkit sync).",
        )
    signature = payment.get("signature")
    if not signature:
        raise PaymentCodeRefused(
            "unsigned",
            "收款码没有办公室签名，不能使用。本地数据被改动，请重新同步。",
            "The payment code carries no office signature and cannot be used. The local "
            "data was altered; sync again.",
        )
    if not public_key_b64:
        raise PaymentCodeRefused(
            "no_office_key",
            "本机没有办公室公钥，无法核验收款码。请先登录（fieldkit login 服务器地址）。",
            "This device has no pinned office key to check payment codes with. Log in "
            "first (fieldkit login URL).",
        )
    if not signing.verify(public_key_b64, payload, signature):
        raise PaymentCodeRefused(
            "tampered",
            "收款码签名核验失败：本地数据被改动，请重新同步。",
            "The payment code's signature does not verify: the local data was altered. Sync again.",
        )
    owner = _payload_owner(payload)
    if owner != institution.get("id"):
        raise PaymentCodeRefused(
            "tampered",
            f"收款码属于另一家机构（{owner or '未知'}），不是 {name} 的：本地数据被改动，请重新同步。",
            f"The payment code belongs to another institution ({owner or 'unknown'}), not "
            f"{name}: the local data was altered. Sync again.",
        )
    return payload


def _payload_owner(payload: str) -> str | None:
    """The platform id a payment payload pays into (tag 26 sub-tag 01), if it names one."""
    try:
        account = emv.parse_payload(payload).platform_account
    except emv.EMVError:
        return None
    return account.get("01") if account else None


def payload_sha256(payload: str) -> str:
    """The hash recorded for each printed poster and each on-site check."""
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


class _Code(qrcode.QRCode):  # type: ignore[misc]
    """qrcode's encoder, noting which modules carry data when it lays the data out."""

    data_cells: list[tuple[int, int]] = []

    def map_data(self, data: bytes, mask_pattern: int) -> None:
        self.data_cells = [
            (r, c)
            for r, row in enumerate(self.modules)
            for c, value in enumerate(row)
            if value is None
        ]
        super().map_data(data, mask_pattern)


def qr_matrix(payload: str) -> list[list[bool]]:
    """The symbol's modules (True = dark), quiet zone included, with qrcode's choice of mask."""
    code = _Code(error_correction=ERROR_CORRECTION, border=QUIET_ZONE)
    code.add_data(payload)
    code.best_fit()
    code.makeImpl(True, 0)  # test layout: format and version areas light, as qrcode scores them
    code.makeImpl(False, best_mask(code.modules, code.data_cells))
    return code.get_matrix()


def best_mask(test_modules: list[list[bool]], data_cells: list[tuple[int, int]]) -> int:
    """The mask qrcode's best_mask_pattern() picks, scored on whole rows as integers (much faster)."""
    count = len(test_modules)
    mask0 = qrcode.util.mask_func(0)
    rows = [sum(1 << c for c, dark in enumerate(row) if dark) for row in test_modules]
    for r, c in data_cells:
        if mask0(r, c):
            rows[r] ^= 1 << c  # now: the data unmasked
    best, best_points = 0, -1
    for pattern, flips in enumerate(_mask_rows(count, tuple(data_cells))):
        masked = [row ^ flip for row, flip in zip(rows, flips, strict=True)]
        points = penalty(masked, count)
        if best_points < 0 or points < best_points:
            best, best_points = pattern, points
    return best


@lru_cache(maxsize=64)
def _mask_rows(count: int, data_cells: tuple[tuple[int, int], ...]) -> list[list[int]]:
    """For each of the 8 masks, the data modules it flips, one integer per row."""
    masks = []
    for pattern in range(8):
        func = qrcode.util.mask_func(pattern)
        flips = [0] * count
        for r, c in data_cells:
            if func(r, c):
                flips[r] |= 1 << c
        masks.append(flips)
    return masks


RUNS = re.compile(r"0{5,}|1{5,}")
FINDER_LIKE = re.compile(r"(?=10111010000|00001011101)")


def penalty(rows: list[int], count: int) -> int:
    """ISO 18004 mask penalty, exactly as qrcode.util.lost_point computes it (bit i = column i)."""
    row_text = [format(row, f"0{count}b") for row in rows]
    col_text = ["".join(column) for column in zip(*row_text, strict=True)]
    text = "|".join(row_text + col_text)
    points = sum(len(run) - 2 for run in RUNS.findall(text))
    points += 40 * len(FINDER_LIKE.findall(text))
    edge = (1 << (count - 1)) - 1
    for upper, lower in zip(rows, rows[1:], strict=False):
        same = ~(upper ^ lower) & ~(upper ^ (upper >> 1)) & ~(lower ^ (lower >> 1)) & edge
        points += 3 * same.bit_count()
    dark = sum(row.bit_count() for row in rows)
    return points + 10 * int(abs(dark / count**2 * 100 - 50) / 5)


def terminal_lines(payload: str) -> list[str]:
    """The code as text, two module rows per line with half blocks; draw dark-on-light."""
    matrix = qr_matrix(payload)
    if len(matrix) % 2:
        matrix = [*matrix, [False] * len(matrix[0])]
    glyphs = {(False, False): " ", (True, False): "▀", (False, True): "▄", (True, True): "█"}
    return [
        "".join(glyphs[top, bottom] for top, bottom in zip(upper, lower, strict=True))
        for upper, lower in zip(matrix[0::2], matrix[1::2], strict=True)
    ]


# ---------------------------------------------------------------- on-site check

KINDS = (
    "supervised",
    "other_institution",  # the platform's supervised code, but of another institution
    "emv",
    "wechat_personal",
    "alipay_personal",
    "url",
    "text",
)


@dataclass(frozen=True)
class CodeCheck:
    """What a code found on site is, compared with the institution's supervised code."""

    result: str  # "match" | "mismatch"
    found: str  # one of KINDS
    content_sha256: str
    zh: str
    en: str
    details: dict[str, str | bool] = field(default_factory=dict)

    def message(self, lang: str = "zh") -> str:
        """The human description in one language."""
        return self.zh if lang == "zh" else self.en

    @property
    def is_match(self) -> bool:
        return self.result == "match"


NOT_OURS_ZH = "不是该机构的监管收款码："
NOT_OURS_EN = "Not the institution's supervised code: "
BYPASS_ZH = "家长付款将不进入监管账户。"
BYPASS_EN = "Money paid with it does not go into the supervised account."


def classify(
    text: str, expected_payload: str | None, institution_id: str | None = None
) -> CodeCheck:
    """Say whether text is the institution's supervised code and, if not, what it is (another
    institution's supervised code is named: whose it is, by name and platform id)."""
    content = text.strip()
    digest = payload_sha256(content)
    if expected_payload is not None and content == expected_payload:
        return CodeCheck(
            "match",
            "supervised",
            digest,
            "这是该机构的监管收款码（与办公室签名的内容一致）。",
            "This is the institution's supervised collection code "
            "(identical to the office-signed one).",
        )
    if content.startswith("000201"):
        return _classify_emv(content, digest, expected_payload, institution_id)
    lowered = content.lower()
    host = _host(content)
    if lowered.startswith(("wxp://", "weixin://")) or host.endswith(
        ("payapp.weixin.qq.com", "wx.tenpay.com", "weixin.qq.com")
    ):
        return CodeCheck(
            "mismatch",
            "wechat_personal",
            digest,
            f"{NOT_OURS_ZH}微信个人收款码（{_short(content)}）。{BYPASS_ZH}",
            f"{NOT_OURS_EN}a WeChat Pay personal collection code ({_short(content)}). {BYPASS_EN}",
            {"link": content},
        )
    if lowered.startswith(("alipays://", "alipay://")) or host.endswith("alipay.com"):
        return CodeCheck(
            "mismatch",
            "alipay_personal",
            digest,
            f"{NOT_OURS_ZH}支付宝个人收款码（{_short(content)}）。{BYPASS_ZH}",
            f"{NOT_OURS_EN}an Alipay personal collection code ({_short(content)}). {BYPASS_EN}",
            {"link": content},
        )
    if host:
        return CodeCheck(
            "mismatch",
            "url",
            digest,
            f"{NOT_OURS_ZH}一个网址（{host}）。请核实它的用途。",
            f"{NOT_OURS_EN}a web address ({host}). Check what it is for.",
            {"link": content, "host": host},
        )
    return CodeCheck(
        "mismatch",
        "text",
        digest,
        f"{NOT_OURS_ZH}一段文字（{_short(content) or '空'}）。",
        f"{NOT_OURS_EN}plain text ({_short(content) or 'empty'}).",
        {"text": content},
    )


def _classify_emv(
    content: str, digest: str, expected_payload: str | None, institution_id: str | None
) -> CodeCheck:
    """An EMV merchant-presented payload that is not the supervised one."""
    try:
        parsed = emv.parse_payload(content)
    except emv.EMVError as exc:
        return CodeCheck(
            "mismatch",
            "emv",
            digest,
            f"{NOT_OURS_ZH}格式损坏的商户收款码（{exc}）。请重新扫描或拍照识别。",
            f"{NOT_OURS_EN}a damaged merchant payment code ({exc}). Scan it again "
            "or decode a photo of it.",
            {"crc_ok": False, "merchant_name": "", "account": ""},
        )
    account = _account_text(parsed)
    name = parsed.name_zh or parsed.merchant_name or "?"
    crc_zh = "校验码正确" if parsed.crc_ok else "校验码错误（内容被改动或扫描有误）"
    crc_en = "CRC correct" if parsed.crc_ok else "CRC wrong (altered, or misread by the scanner)"
    details: dict[str, str | bool] = {
        "merchant_name": parsed.merchant_name,
        "merchant_name_zh": parsed.name_zh,
        "account": account,
        "crc_ok": parsed.crc_ok,
    }
    owner = _other_institution(parsed, expected_payload, institution_id)
    if owner is not None:
        details["institution_id"] = owner
        return CodeCheck(
            "mismatch",
            "other_institution",
            digest,
            f"{NOT_OURS_ZH}这是另一家机构的监管收款码：{name}（平台编号 {owner}），{crc_zh}。"
            "家长付款将进入该机构的监管账户，而不是本机构的。",
            f"{NOT_OURS_EN}it is another institution's supervised code: "
            f"{parsed.name_zh or parsed.merchant_name or name} (platform id {owner}), {crc_en}. "
            "Money paid with it goes into that institution's supervised account, not this one's.",
            details,
        )
    hint_zh = hint_en = ""
    if expected_payload and _same_account(parsed, expected_payload):
        details["same_account"] = True
        hint_zh = "账户与监管收款码相同，但内容不一致：请用图片识别再核对一次。"
        hint_en = (
            "It names the supervised account, but the content differs: check again "
            "by decoding a photo."
        )
    return CodeCheck(
        "mismatch",
        "emv",
        digest,
        f"{NOT_OURS_ZH}另一个商户收款码（EMV），商户 {name}，账户 {account}，{crc_zh}。{hint_zh}",
        f"{NOT_OURS_EN}another merchant payment code (EMV), merchant "
        f"{parsed.merchant_name or name}, account {account}, {crc_en}. {hint_en}".rstrip(),
        details,
    )


def _other_institution(
    parsed: emv.EMVPayload, expected_payload: str | None, institution_id: str | None
) -> str | None:
    """The platform id of the institution a supervised code belongs to, when it is not ours."""
    owner = (parsed.platform_account or {}).get("01", "")
    if not owner:
        return None
    ours = institution_id
    if expected_payload:
        try:
            ours = (emv.parse_payload(expected_payload).platform_account or {}).get("01") or ours
        except emv.EMVError:
            pass
    return owner if ours and owner.upper() != ours.upper() else None


def _account_text(parsed: emv.EMVPayload) -> str:
    """The payee account(s) an EMV payload names, readable."""
    platform = parsed.platform_account
    if platform is not None:
        return f"{platform.get('02', '')} ({emv.PLATFORM_GUID} {platform.get('01', '')})"
    parts = []
    for tag, value in parsed.fields.items():
        if "02" <= tag <= "25":
            parts.append(f"{tag}:{value}")
    for sub in parsed.merchant_accounts.values():
        parts.append(" ".join(v for v in sub.values()))
    return "; ".join(parts) or "?"


def _same_account(parsed: emv.EMVPayload, expected_payload: str) -> bool:
    """Whether a payload names the same platform account as the supervised payload."""
    try:
        expected = emv.parse_payload(expected_payload).platform_account
    except emv.EMVError:
        return False
    return expected is not None and parsed.platform_account == expected


def _host(content: str) -> str:
    """The host of a URL-looking text, else ''."""
    if " " in content:
        return ""
    candidate = (
        content
        if "://" in content
        else (f"http://{content}" if content.lower().startswith("www.") else "")
    )
    if not candidate:
        return ""
    try:
        return (urlsplit(candidate).hostname or "").lower()
    except ValueError:
        return ""


def _short(content: str, limit: int = 48) -> str:
    """The start of a text, for a message."""
    return content if len(content) <= limit else content[:limit] + "…"


def decode_image(path: str | Path) -> str:
    """The text of the QR code in an image file (zxing-cpp, QR format only)."""
    try:
        import zxingcpp
    except ImportError as exc:
        raise QRDecodeError(
            "识别图片需要 zxing-cpp：请运行 pip install zxing-cpp，或直接粘贴/扫描收款码内容。",
            "Decoding an image needs zxing-cpp: run `pip install zxing-cpp`, or paste or scan "
            "the code's content instead.",
        ) from exc
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            found = zxingcpp.read_barcodes(
                image.convert("L"), formats=zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode)
            )
    except (OSError, UnidentifiedImageError) as exc:
        raise QRDecodeError(
            f"无法打开图片 {path}（{exc}）。请确认文件是照片或截图。",
            f"Cannot open image {path} ({exc}). Check it is a photo or screenshot.",
        ) from exc
    texts = [r.text for r in found if r.valid]
    if not texts:
        raise QRDecodeError(
            f"图片 {path} 中没有找到二维码。请拍得更近、更清楚后再试。",
            f"No QR code found in {path}. Take a closer, sharper photo and try again.",
        )
    return texts[0]
