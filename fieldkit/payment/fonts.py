"""The Chinese font posters are drawn with: the one a dependency ships, else a system CJK font."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

# Characters every usable font must draw: a sample of what any poster prints.
PROBE = "用家长端扫码缴费监管账户退费经平台办理机构"
FONT_ENV = "FIELDKIT_FONT"

SYSTEM_CANDIDATES: dict[str, tuple[str, ...]] = {
    "linux": (
        "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
        "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
        "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc",
        "/usr/share/fonts/opentype/noto/NotoSansSC-Regular.otf",
        "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
        "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
        "/usr/share/fonts/wenquanyi/wqy-microhei/wqy-microhei.ttc",
        "/usr/share/fonts/truetype/arphic/uming.ttc",
        "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
    ),
    "win32": ("msyh.ttc", "msyh.ttf", "simhei.ttf", "simsun.ttc", "Deng.ttf"),
    "darwin": (
        "/System/Library/Fonts/PingFang.ttc",
        "/System/Library/Fonts/STHeiti Medium.ttc",
        "/System/Library/Fonts/STHeiti Light.ttc",
        "/System/Library/Fonts/Hiragino Sans GB.ttc",
        "/Library/Fonts/Arial Unicode.ttf",
        "/System/Library/Fonts/Supplemental/Songti.ttc",
    ),
}


class FontMissing(Exception):
    """No font that draws Simplified Chinese was found; the message says how to get one."""

    def __init__(self, zh: str, en: str) -> None:
        super().__init__(f"{zh} / {en}")
        self.zh = zh
        self.en = en
        self.code = "font_missing"


@dataclass(frozen=True)
class CJKFont:
    """A font file (and face index in a collection) that draws Simplified Chinese."""

    path: Path
    index: int = 0

    def at(self, size: int) -> ImageFont.FreeTypeFont:
        """The font at a pixel size."""
        return _truetype(str(self.path), self.index, size)


@lru_cache(maxsize=64)
def _truetype(path: str, index: int, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(path, size, index=index)


def missing_glyphs(font: CJKFont, text: str) -> set[str]:
    """The characters of text that the font draws only as its 'missing glyph' box (or not at all)."""
    face = font.at(48)
    notdef = _render(face, "\U0010fffd")
    missing = set()
    for char in set(text):
        if char.isspace():
            continue
        drawn = _render(face, char)
        if drawn == notdef or not any(drawn):
            missing.add(char)
    return missing


def _render(face: ImageFont.FreeTypeFont, char: str) -> bytes:
    """One character drawn alone on a fixed canvas, as raw grey bytes."""
    canvas = Image.new("L", (64, 80), 0)
    ImageDraw.Draw(canvas).text((4, 4), char, font=face, fill=255)
    return canvas.tobytes()


def _shipped_font() -> CJKFont | None:
    """Noto Sans SC as installed with fieldkit (package pylopdf-fonts-zh-cn)."""
    try:
        import pylopdf_fonts_zh_cn
    except ImportError:
        return None
    path = Path(pylopdf_fonts_zh_cn.sans_path())
    return CJKFont(path) if path.is_file() else None


def _system_paths() -> list[Path]:
    """Likely CJK font files on this system, best first."""
    found: list[Path] = []
    fc_list = shutil.which("fc-list")
    if fc_list:
        try:
            out = subprocess.run(
                [fc_list, ":lang=zh-cn", "file"],
                capture_output=True,
                text=True,
                timeout=10,
                check=False,
            ).stdout
        except (OSError, subprocess.SubprocessError):
            out = ""
        found += sorted(
            Path(line.split(":")[0].strip()) for line in out.splitlines() if line.strip()
        )
    platform = (
        "win32" if sys.platform == "win32" else "darwin" if sys.platform == "darwin" else "linux"
    )
    for name in SYSTEM_CANDIDATES[platform]:
        if platform == "win32":
            windir = Path(os.environ.get("WINDIR", r"C:\Windows"))
            found += [
                windir / "Fonts" / name,
                Path(os.environ.get("LOCALAPPDATA", "")) / "Microsoft/Windows/Fonts" / name,
            ]
        else:
            found.append(Path(name))
    return [p for p in dict.fromkeys(found) if p.is_file()]


def _best_face(path: Path) -> CJKFont | None:
    """The face of a file (a Simplified Chinese one in a collection) that draws the probe text."""
    faces: list[CJKFont] = []
    for index in range(16):
        try:
            name = " ".join(
                part or "" for part in ImageFont.truetype(str(path), 12, index=index).getname()
            )
        except OSError:
            break
        face = CJKFont(path, index)
        if any(tag in name for tag in (" SC", "GB", "Hei", "YaHei", "PingFang")):
            faces.insert(0, face)
        else:
            faces.append(face)
    return next((f for f in faces if not missing_glyphs(f, PROBE)), None)


def _explicit_font() -> CJKFont | None:
    """The font named by FIELDKIT_FONT, refused with the reason when it cannot draw Chinese."""
    value = os.environ.get(FONT_ENV)
    if not value:
        return None
    path = Path(value).expanduser()
    face = _best_face(path) if path.is_file() else None
    if face is None:
        raise FontMissing(
            f"环境变量 {FONT_ENV} 指定的字体 {path} 不存在或不含简体中文字形。请改为一个中文字体文件，或删除该变量。",
            f"{FONT_ENV} names {path}, which does not exist or has no Simplified Chinese glyphs. "
            "Point it at a Chinese font file, or unset it.",
        )
    return face


@lru_cache(maxsize=1)
def find_cjk_font() -> CJKFont:
    """The font to draw Chinese with: FIELDKIT_FONT, the shipped Noto Sans SC, or a system font."""
    explicit = _explicit_font()
    if explicit:
        return explicit
    shipped = _shipped_font()
    if shipped and not missing_glyphs(shipped, PROBE):
        return shipped
    for path in _system_paths():
        face = _best_face(path)
        if face:
            return face
    raise FontMissing(
        "找不到可显示中文的字体，无法生成海报。请重新安装 fieldkit（pip install fieldkit 会带上 "
        "pylopdf-fonts-zh-cn 中文字体），或安装系统中文字体（Debian/Ubuntu: sudo apt install "
        "fonts-noto-cjk），或设置环境变量 FIELDKIT_FONT=中文字体文件路径。",
        "No font that draws Chinese was found, so no poster can be made. Reinstall fieldkit "
        "(it brings the pylopdf-fonts-zh-cn font package), or install a system CJK font "
        "(Debian/Ubuntu: sudo apt install fonts-noto-cjk), or set FIELDKIT_FONT to a Chinese "
        "font file.",
    )
