"""500 A6 desk cards into one PDF, per card, against a baseline measured in the same run.

The baseline only makes the same QR images with qrcode's own image path and draws the same text
with Pillow on a page of the same size: no signature check, no layout, no PDF. Target: ≤ 1.5x.
Run: python benchmarks/bench_posters.py [--cards 500]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import qrcode
import qrcode.constants
from PIL import Image, ImageDraw

from fieldkit.payment import emv, signing
from fieldkit.payment.fonts import find_cjk_font
from fieldkit.payment.posters import INSTRUCTIONS, LAYOUTS, TITLE, render_poster, save_pdf

NAMES = (
    "星辰教育培训学校",
    "阳光少儿艺术中心",
    "未来编程工作室",
    "小树苗美术培训有限公司",
    "常德市武陵区书法院",
    "博雅英语口语拓展培训中心",
)


def institutions(count: int) -> tuple[list[dict], str]:
    """Signed institutions of one county, and the office key that signed them."""
    key = signing.generate_private_key()
    made = []
    for n in range(1, count + 1):
        inst_id = f"JG430702{n:04d}"
        name = f"{NAMES[n % len(NAMES)]}{n}号"
        payload = emv.build_payload(
            inst_id, f"6222020000{n:06d}", "Xingchen Jiaoyu", "Changde", name, "常德"
        )
        made.append(
            {
                "id": inst_id,
                "name": name,
                "bank_status": "passed",
                "payment": {"payload": payload, "signature": signing.sign(key, payload)},
            }
        )
    return made, signing.public_key_of(key)


def run_fieldkit(items: list[dict], public_key: str, out: Path) -> float:
    """Seconds to render every desk card and stream them into one PDF."""
    started = time.perf_counter()
    pages = (render_poster(inst, public_key, "a6", raster=False) for inst in items)  # as the CLI
    save_pdf(pages, out)
    return time.perf_counter() - started


def run_baseline(items: list[dict]) -> float:
    """Seconds to make the same QR images with qrcode and draw the same text with Pillow."""
    layout = LAYOUTS["a6"]
    font = find_cjk_font()
    started = time.perf_counter()
    for inst in items:
        code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=4)
        code.add_data(inst["payment"]["payload"])
        code.make(fit=True)
        code.box_size = max(1, layout.qr_width // (code.modules_count + 8))
        qr_image = code.make_image().get_image()
        page = Image.new("L", (layout.width, layout.height or 1748), 255)
        page.paste(qr_image, ((layout.width - qr_image.width) // 2, 300))
        draw = ImageDraw.Draw(page)
        y = layout.margin
        texts = [
            (TITLE, layout.title),
            (inst["name"], layout.name),
            (f"平台编号 {inst['id']}", layout.body),
            *((f"{n}. {line}", layout.body) for n, line in enumerate(INSTRUCTIONS, 1)),
            ("湖南省校外培训机构预收费资金监管", layout.small),
            ("打印日期 2026-11-28", layout.small),
        ]
        for text, size in texts:
            draw.text((layout.margin, y), text, font=font.at(size), fill=0)
            y += int(size * 1.4)
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cards", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=2, help="alternating runs; best of each")
    args = parser.parse_args()
    items, public_key = institutions(args.cards)
    find_cjk_font().at(40)  # font lookup and loading are not part of either figure
    ours_runs, base_runs = [], []
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "cards.pdf"
        for _ in range(args.rounds):  # alternate, so a busy machine slows both alike
            base_runs.append(run_baseline(items))
            ours_runs.append(run_fieldkit(items, public_key, out))
        size_mb = out.stat().st_size / 1e6
    ours, base = min(ours_runs), min(base_runs)
    per_card, per_base = ours / args.cards * 1000, base / args.cards * 1000
    ratio = ours / base
    print(f"cards: {args.cards}, PDF {size_mb:.1f} MB, best of {args.rounds} alternating runs")
    print(f"fieldkit (verify + render + PDF): {ours:.2f} s, {per_card:.1f} ms/card")
    print(f"baseline (qrcode image + Pillow text): {base:.2f} s, {per_base:.1f} ms/card")
    print(f"ratio: {ratio:.2f}x (target ≤ 1.5x) {'OK' if ratio <= 1.5 else 'TOO SLOW'}")
    return 0 if ratio <= 1.5 else 1


if __name__ == "__main__":
    sys.exit(main())
