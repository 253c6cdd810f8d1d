"""The on-site check field: a code typed, pasted, read by a USB scanner, or an image file's path."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from textual import events, on, work
from textual.message import Message
from textual.widgets import Input

from fieldkit.payment.qr import (
    CodeCheck,
    PaymentCodeRefused,
    QRDecodeError,
    classify,
    decode_image,
    verified_payload,
)

from .messages import BilingualFailure

if TYPE_CHECKING:
    from cache import Store

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff")
SCANNER_GAP = 0.05  # seconds between keys: faster than anyone types
UNTRUSTED = ("tampered", "unsigned", "no_office_key")

WORDS = {
    "placeholder": (
        "扫描、粘贴或输入前台的收款码内容（或图片文件路径），回车核对",
        "Scan, paste or type the code at the desk (or an image path), Enter",
    ),
    "decoding": ("正在识别图片…", "Reading the image…"),
}


class CodeCheckInput(Input):
    """Say whether a code found at the front desk is the institution's supervised one."""

    class Checked(Message):
        """A code was checked; `check` says what it is (recorded in the store when one was given)."""

        def __init__(
            self,
            check: CodeCheck,
            text: str,
            via_scanner: bool,
            recorded: bool,
            image: Path | None = None,
            check_id: str | None = None,
        ) -> None:
            super().__init__()
            self.check = check
            self.text = text
            self.via_scanner = via_scanner
            self.recorded = recorded
            self.image = image  # the photo the code was read from (evidence, if kept)
            self.check_id = check_id  # the recorded check's id (when recorded)

    class Failed(BilingualFailure):
        """A check could not be made (unreadable image, untrusted local code); zh/en say why."""

    def __init__(
        self,
        institution: dict,
        public_key: str | None,
        language: str = "zh",
        *,
        store: Store | None = None,
        visit_id: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        self.institution = institution
        self.language = language
        self.store = store
        self.visit_id = visit_id
        self.expected: str | None = None
        self.refusal: PaymentCodeRefused | None = None
        try:
            self.expected = verified_payload(institution, public_key)
        except PaymentCodeRefused as refused:
            self.refusal = refused
        super().__init__(placeholder=self._word("placeholder"), id=id, classes=classes)
        self._key_times: list[float] = []

    def _word(self, key: str) -> str:
        zh, en = WORDS[key]
        return zh if self.language == "zh" else en

    def on_key(self, event: events.Key) -> None:
        """Remember when each printable key arrived, to tell a scanner from a person."""
        if event.is_printable:
            self._key_times.append(event.time)

    def _typed_by_scanner(self, text: str) -> bool:
        """Whether the text arrived as one burst of keys (a USB scanner) rather than typing."""
        times = self._key_times[-len(text) :] if text else []
        if len(times) < max(4, len(text) // 2):
            return False
        gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
        return bool(gaps) and sum(gaps) / len(gaps) < SCANNER_GAP

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        text = event.value
        via_scanner = self._typed_by_scanner(text)
        self._key_times.clear()
        self.value = ""
        if not text.strip():
            return
        if self.refusal is not None and self.refusal.code in UNTRUSTED:
            self.post_message(self.Failed(self.refusal.zh, self.refusal.en))
            return
        path = _image_path(text)
        if path is not None:
            self.placeholder = self._word("decoding")
        self._check(text, path, via_scanner)

    @work(thread=True, exclusive=True, group="code-check", exit_on_error=False)
    def _check(self, text: str, path: Path | None, via_scanner: bool) -> None:
        """Decode (if an image), classify and record off the event loop."""
        content = text
        if path is not None:
            try:
                content = decode_image(path)
            except QRDecodeError as error:
                self.post_message(self.Failed(error.zh, error.en))
                return
            finally:
                self.app.call_from_thread(setattr, self, "placeholder", self._word("placeholder"))
        check = classify(content, self.expected, self.institution.get("id"))
        recorded, check_id = False, None
        if self.store is not None:
            op = self.store.record_qr_check(
                self.institution["id"],
                self.visit_id,
                check.result,
                check.found,
                check.content_sha256,
            )
            recorded, check_id = True, str(op["op_id"])
        self.post_message(
            self.Checked(check, content.strip(), via_scanner, recorded, path, check_id)
        )


def _image_path(text: str) -> Path | None:
    """The image file a pasted or dragged-in path names, if it names one (existing or not: a
    mistyped path is reported as such, not recorded as a code that says a file name)."""
    candidate = text.strip().strip("'\"")
    if "://" in candidate or "\n" in candidate or not candidate.lower().endswith(IMAGE_SUFFIXES):
        return None
    return Path(candidate).expanduser()
