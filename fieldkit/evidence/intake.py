"""Taking a file in as evidence: check it, reduce an image, read its time and place, hash it."""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from fieldkit.domain.evidence import sha256_hex

from . import limits
from .errors import EvidenceError

_HEIF_BRANDS = (b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1", b"avif")
_EXIF_IFD = 0x8769
_GPS_IFD = 0x8825
_DATETIME = 0x0132
_DATETIME_ORIGINAL = 0x9003
_MAKE, _MODEL = 0x010F, 0x0110


@dataclass(frozen=True)
class Prepared:
    """A file ready to be kept: the stored bytes, their SHA-256, and what was learnt of it."""

    data: bytes
    sha256: str
    mime: str
    name: str
    original_size: int
    original_sha256: str
    width: int | None = None
    height: int | None = None
    taken_at: str | None = None  # local time the photo was taken (EXIF), ISO 8601
    lat: float | None = None
    lon: float | None = None

    @property
    def size(self) -> int:
        """Bytes stored."""
        return len(self.data)

    def wire(self) -> dict[str, Any]:
        """What the op tells the office about the file (its bytes travel separately)."""
        return {
            "sha256": self.sha256,
            "size": self.size,
            "mime": self.mime,
            "name": self.name,
            "width": self.width,
            "height": self.height,
            "taken_at": self.taken_at,
            "lat": self.lat,
            "lon": self.lon,
            "original_size": self.original_size,
            "original_sha256": self.original_sha256,
        }


def read_stable(path: Path) -> bytes:
    """The file's bytes, refused if it is missing, too large, or changes while being read."""
    path = Path(path)
    try:
        before = path.stat()
    except FileNotFoundError:
        raise EvidenceError(
            "not_found",
            f"找不到文件：{path}。请检查路径（可直接把文件拖入终端）。",
            f"No such file: {path}. Check the path (you can drop the file into the terminal).",
        ) from None
    except OSError as exc:
        raise _unreadable(path, exc) from None
    if not path.is_file():
        raise EvidenceError(
            "not_a_file",
            f"{path} 不是文件（是文件夹或设备），请选择照片或 PDF 文件。",
            f"{path} is not a file (a folder or a device); choose a photo or a PDF.",
        )
    if before.st_size > limits.MAX_INPUT_BYTES:
        raise EvidenceError(
            "too_large",
            f"文件 {path.name} 有 {limits.mib(before.st_size)}，超过上限 "
            f"{limits.mib(limits.MAX_INPUT_BYTES)}。请用手机导出较小的照片后再附上。",
            f"{path.name} is {limits.mib(before.st_size)}, over the "
            f"{limits.mib(limits.MAX_INPUT_BYTES)} limit; export a smaller copy from the phone.",
        )
    if before.st_size == 0:
        raise _truncated(path.name)
    try:
        data = path.read_bytes()
        after = path.stat()
    except OSError as exc:
        raise _unreadable(path, exc) from None
    if (after.st_size, after.st_mtime_ns) != (before.st_size, before.st_mtime_ns) or len(
        data
    ) != after.st_size:
        raise EvidenceError(
            "changed",
            f"文件 {path.name} 在读取时发生了变化（可能仍在复制或同步中）。请等它复制完成后再附上。",
            f"{path.name} changed while it was being read (still copying or syncing?); "
            "attach it again once it is complete.",
        )
    return data


def prepare(path: Path) -> Prepared:
    """Read a JPEG, PNG, HEIC or PDF and make what is stored of it (EvidenceError if refused)."""
    path = Path(path)
    data = read_stable(path)
    return prepare_bytes(data, path.name)


def prepare_bytes(data: bytes, name: str) -> Prepared:
    """The stored form of a file's bytes (images reduced, PDFs checked and kept as they are)."""
    kind = sniff(data)
    if kind is None:
        raise EvidenceError(
            "not_supported",
            f"{name} 不是可接受的证据文件。只接受照片（JPEG、PNG、HEIC）或 PDF。",
            f"{name} is not an evidence file fieldkit accepts: photos (JPEG, PNG, HEIC) or PDFs.",
        )
    if kind == "pdf":
        return _prepare_pdf(data, name)
    return _prepare_image(data, name, kind)


def sniff(data: bytes) -> str | None:
    """The file's kind from its first bytes: jpeg, png, heif, pdf, or None."""
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data[4:8] == b"ftyp" and data[8:12] in _HEIF_BRANDS:
        return "heif"
    if data[:1024].lstrip().startswith(b"%PDF-"):
        return "pdf"
    return None


def _prepare_pdf(data: bytes, name: str) -> Prepared:
    if len(data) > limits.MAX_PDF_BYTES:
        raise EvidenceError(
            "too_large",
            f"PDF 文件 {name} 有 {limits.mib(len(data))}，超过上限 {limits.mib(limits.MAX_PDF_BYTES)}。",
            f"The PDF {name} is {limits.mib(len(data))}, over the "
            f"{limits.mib(limits.MAX_PDF_BYTES)} limit.",
        )
    if b"%%EOF" not in data[-2048:]:
        raise _truncated(name)
    digest = sha256_hex(data)
    return Prepared(data, digest, limits.MIME_PDF, name, len(data), digest)


def _prepare_image(data: bytes, name: str, kind: str) -> Prepared:
    from PIL import Image, ImageOps

    if kind == "heif":
        _register_heif()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            width, height = image.size
            if width * height > limits.MAX_PIXELS:
                raise _bomb(name, width, height)
            if kind == "jpeg" and max(width, height) >= 2 * limits.LONG_SIDE:
                # decode at 1/2, 1/4… scale straight away (the whole stream is still read, so a
                # truncated file is still caught)
                image.draft("RGB", _scaled((width, height), limits.LONG_SIDE))
            image.load()
    except EvidenceError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _bomb(name, *_claimed_size(data, kind)) from None
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        if "truncated" in str(exc) or isinstance(exc, EOFError):
            raise _truncated(name) from None
        raise EvidenceError(
            "unreadable_image",
            f"无法读取照片 {name}（{exc}）。文件可能已损坏，请从手机重新导出。",
            f"The photo {name} cannot be read ({exc}); it may be damaged: export it again.",
        ) from None
    exif = image.getexif()
    taken_at = _taken_at(exif)
    lat, lon = _location(exif)
    if max(image.size) > limits.LONG_SIDE:  # reduce first: turning a small image is cheaper
        image.thumbnail((limits.LONG_SIDE, limits.LONG_SIDE), Image.Resampling.LANCZOS)
    upright = ImageOps.exif_transpose(image)
    out = io.BytesIO()
    if kind == "png":
        upright.save(out, format="PNG", optimize=True)
        mime = limits.MIME_PNG
    else:
        if upright.mode not in ("RGB", "L"):
            upright = upright.convert("RGB")
        upright.save(
            out,
            format="JPEG",
            quality=limits.JPEG_QUALITY,
            exif=_kept_exif(exif).tobytes(),
        )
        mime = limits.MIME_JPEG
    stored = out.getvalue()
    if len(stored) > limits.MAX_STORED_BYTES:
        raise EvidenceError(
            "stored_too_large",
            f"{name} 缩小后仍有 {limits.mib(len(stored))}，超过上限 "
            f"{limits.mib(limits.MAX_STORED_BYTES)}。",
            f"{name} is still {limits.mib(len(stored))} after reduction, over the "
            f"{limits.mib(limits.MAX_STORED_BYTES)} limit.",
        )
    return Prepared(
        stored,
        sha256_hex(stored),
        mime,
        name,
        len(data),
        sha256_hex(data),
        upright.size[0],
        upright.size[1],
        taken_at,
        lat,
        lon,
    )


def _claimed_size(data: bytes, kind: str) -> tuple[int, int]:
    """The width and height a PNG's header claims (0, 0 for other kinds)."""
    if kind == "png" and len(data) >= 24 and data[12:16] == b"IHDR":
        return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    return 0, 0


def _scaled(size: tuple[int, int], long_side: int) -> tuple[int, int]:
    """`size` scaled so its long side is `long_side`."""
    ratio = long_side / max(size)
    return max(1, round(size[0] * ratio)), max(1, round(size[1] * ratio))


def _register_heif() -> None:
    try:
        from pillow_heif import register_heif_opener
    except ImportError:  # pragma: no cover - a declared dependency
        raise EvidenceError(
            "heif_missing",
            "读取 HEIC 照片需要 pillow-heif，请运行 pip install pillow-heif。",
            "Reading HEIC photos needs pillow-heif: pip install pillow-heif.",
        ) from None
    register_heif_opener()


def _taken_at(exif: Any) -> str | None:
    """When the photo was taken (EXIF DateTimeOriginal, else DateTime), as ISO 8601."""
    raw = exif.get_ifd(_EXIF_IFD).get(_DATETIME_ORIGINAL) or exif.get(_DATETIME)
    if not isinstance(raw, str):
        return None
    try:
        return datetime.strptime(raw.strip("\x00 ")[:19], "%Y:%m:%d %H:%M:%S").isoformat()
    except ValueError:
        return None


def _location(exif: Any) -> tuple[float | None, float | None]:
    """Latitude and longitude in degrees from the GPS IFD, or (None, None)."""
    gps = exif.get_ifd(_GPS_IFD)
    try:
        lat = _degrees(gps[2], gps.get(1, "N"), "S")
        lon = _degrees(gps[4], gps.get(3, "E"), "W")
    except (KeyError, TypeError, ValueError, ZeroDivisionError, IndexError):
        return None, None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return None, None
    return lat, lon


def _degrees(dms: Any, ref: Any, negative: str) -> float:
    d, m, s = (float(x) for x in dms)
    value = d + m / 60 + s / 3600
    if isinstance(ref, bytes):
        ref = ref.decode("ascii", "replace")
    return round(-value if str(ref).strip("\x00 ").upper() == negative else value, 7)


def _kept_exif(exif: Any) -> Any:
    """A small EXIF for the stored JPEG: camera, time taken and GPS (orientation is applied)."""
    from PIL import Image

    kept = Image.Exif()
    for tag in (_MAKE, _MODEL, _DATETIME):
        if tag in exif:
            kept[tag] = exif[tag]
    original = exif.get_ifd(_EXIF_IFD).get(_DATETIME_ORIGINAL)
    if original:
        kept.get_ifd(_EXIF_IFD)[_DATETIME_ORIGINAL] = original
    gps = exif.get_ifd(_GPS_IFD)
    if gps:
        kept.get_ifd(_GPS_IFD).update(gps)
    return kept


def _bomb(name: str, width: int, height: int) -> EvidenceError:
    size = f"{width} × {height}" if width and height else "?"
    return EvidenceError(
        "bomb",
        f"图片 {name} 声称有 {size} 像素，超过上限（{limits.MAX_PIXELS // 1_000_000} 百万像素），"
        "可能是恶意文件，未附上。",
        f"The image {name} claims {size} pixels, over the {limits.MAX_PIXELS // 1_000_000} MP "
        "limit (a decompression bomb?); it was not attached.",
    )


def _truncated(name: str) -> EvidenceError:
    return EvidenceError(
        "truncated",
        f"文件 {name} 不完整（被截断），可能复制未完成。请重新从手机复制后再附上。",
        f"{name} is incomplete (truncated), perhaps a copy cut short; copy it from the phone "
        "again and attach it.",
    )


def _unreadable(path: Path, exc: OSError) -> EvidenceError:
    return EvidenceError(
        "unreadable",
        f"无法读取文件 {path}（{exc.strerror or exc}）。请检查权限。",
        f"Cannot read {path} ({exc.strerror or exc}); check its permissions.",
    )
