"""Real evidence files for tests: phone-like JPEGs with EXIF (orientation, time, GPS), HEIC, PNG, PDF."""

from __future__ import annotations

import io
import struct
import zlib
from functools import lru_cache
from pathlib import Path

from PIL import Image, ImageDraw
from PIL.TiffImagePlugin import IFDRational

WULING = (29.0416667, 111.6972222)  # 常德市武陵区, where the test photos are "taken"


def _dms(value: float) -> tuple[IFDRational, IFDRational, IFDRational]:
    d = int(value)
    m = int((value - d) * 60)
    s = round(((value - d) * 60 - m) * 60 * 100)
    return IFDRational(d), IFDRational(m), IFDRational(s, 100)


def phone_exif(
    taken: str = "2026:11:28 09:15:00",
    where: tuple[float, float] | None = WULING,
    orientation: int = 6,
) -> Image.Exif:
    """The EXIF a phone writes: make, model, time taken, GPS, and an orientation to apply."""
    exif = Image.Exif()
    exif[0x010F], exif[0x0110], exif[0x0112] = "HUAWEI", "P60", orientation
    exif.get_ifd(0x8769)[0x9003] = taken
    if where is not None:
        lat, lon = where
        exif.get_ifd(0x8825).update({1: "N", 2: _dms(lat), 3: "E", 4: _dms(lon)})
    return exif


@lru_cache(maxsize=4)
def _texture(width: int, height: int, sigma: float) -> Image.Image:
    """A photo-like texture (noise over a gradient), made once per size: noise is slow to make."""
    red = Image.effect_noise((width, height), sigma)
    green = Image.linear_gradient("L").resize((width, height))
    blue = Image.effect_noise((width, height), sigma / 2)
    return Image.merge("RGB", (red, green, blue))


def photo(
    n: int = 0,
    size: tuple[int, int] = (4000, 3000),
    quality: int = 90,
    sigma: float = 40,
    **exif: object,
) -> bytes:
    """A distinct phone photo (JPEG with EXIF); `n` makes its bytes differ from every other."""
    image = _texture(*size, sigma).copy()
    draw = ImageDraw.Draw(image)
    draw.rectangle((40 + n * 7 % 900, 40, 400 + n * 7 % 900, 300), fill=(n * 37 % 256, 90, 200))
    draw.text((60, 60), f"photo {n}", fill=(255, 255, 255))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=quality, exif=phone_exif(**exif).tobytes())  # type: ignore[arg-type]
    return out.getvalue()


def write(path: Path, data: bytes) -> Path:
    """Write bytes to a file (its folder made) and return its path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def heic_photo(size: tuple[int, int] = (1200, 800)) -> bytes:
    """A HEIC as iPhones write them, with EXIF time and GPS (smooth: HEVC encoding is slow)."""
    from pillow_heif import register_heif_opener

    register_heif_opener()
    image = Image.linear_gradient("L").resize(size).convert("RGB")
    ImageDraw.Draw(image).rectangle((100, 100, 600, 400), fill=(200, 30, 30))
    out = io.BytesIO()
    image.save(out, "HEIF", quality=50, exif=phone_exif(orientation=6).tobytes())
    return out.getvalue()


def png_screenshot(size: tuple[int, int] = (1080, 2400)) -> bytes:
    """A phone screenshot (PNG, no EXIF)."""
    image = Image.new("RGB", size, (245, 245, 245))
    ImageDraw.Draw(image).rectangle((100, 300, 980, 1180), fill=(20, 20, 20))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def pdf_document(text: str = "licence") -> bytes:
    """A small one-page PDF (a scanned licence, say)."""
    image = Image.new("RGB", (595, 842), "white")
    ImageDraw.Draw(image).text((50, 50), text, fill="black")
    out = io.BytesIO()
    image.save(out, "PDF")
    return out.getvalue()


def png_bomb(width: int = 50_000, height: int = 50_000) -> bytes:
    """A tiny PNG whose header claims width x height pixels (a decompression bomb)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    rows = zlib.compress(b"\x00" * 1024)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", rows) + chunk(b"IEND", b"")
    )


def phone_photos(folder: Path, count: int) -> list[Path]:
    """`count` distinct phone photos of 3–6 MB (4096 × 3072, EXIF with orientation, time, GPS)."""
    return [
        write(
            folder / f"IMG_{n:04d}.jpg",
            photo(
                n, size=(4096, 3072), quality=88, sigma=30, taken=f"2026:11:28 09:{n % 60:02d}:00"
            ),
        )
        for n in range(count)
    ]
