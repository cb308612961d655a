#!/usr/bin/env python3
"""Render the printed-text images of argus-twin's evaluation set (twin/eval/text/).

Pillow only (requirements/model-tools.txt, `make model-tools`); the font is the one bundled in
Pillow's wheel (Aileron Regular, CC0, `ImageFont.load_default(size)`), so the images are the same
on every machine with these pinned versions. Each image gets a line in twin/eval/text/expected.tsv:
file, then the expected lines separated by " | ".

    .venv/models/bin/python twin/eval/render_text.py
"""

from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

OUT = Path(__file__).resolve().parent / "text"

# (file, font size px, lines, background, ink)
IMAGES = [
    ("printed-sans-32.png", 32, ["Argus analyses images", "on the local twin"], (255, 255, 255), (0, 0, 0)),
    ("printed-sans-20.png", 20, ["Offline models from PyPI packages", "pinned by SHA-256"], (255, 255, 255), (20, 20, 20)),
    ("printed-sans-48.png", 48, ["STOP", "No entry 24h"], (200, 30, 30), (255, 255, 255)),
    ("printed-sans-24-grey.png", 24, ["Invoice 2026-12-02", "Total due 418.50 EUR"], (235, 235, 225), (60, 60, 60)),
    ("printed-sans-16.png", 16, ["The quick brown fox jumps over the lazy dog", "PACK MY BOX WITH FIVE DOZEN LIQUOR JUGS"], (255, 255, 255), (0, 0, 0)),
]


def render(size: int, lines: list[str], bg, ink) -> Image.Image:
    font = ImageFont.load_default(size=size)
    pad = size
    widths = [font.getbbox(line)[2] for line in lines]
    line_h = int(size * 1.6)
    img = Image.new("RGB", (max(widths) + 2 * pad, line_h * len(lines) + 2 * pad), bg)
    draw = ImageDraw.Draw(img)
    for i, line in enumerate(lines):
        draw.text((pad, pad + i * line_h), line, font=font, fill=ink)
    return img


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    rows = []
    for name, size, lines, bg, ink in IMAGES:
        img = render(size, lines, bg, ink)
        if min(img.size) < 80:
            img = img.resize((max(img.width, 80), max(img.height, 80)))
        img.save(OUT / name, optimize=True)
        rows.append(f"{name}\t{' | '.join(lines)}")
    (OUT / "expected.tsv").write_text("# file\texpected lines (\" | \" between lines)\n" + "\n".join(rows) + "\n")


if __name__ == "__main__":
    main()
