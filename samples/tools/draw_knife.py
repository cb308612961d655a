#!/usr/bin/env python3
"""Draw samples/knife.png: a kitchen knife (blade, bolster, riveted handle) on white.

Generated for Argus (weapon-alert tests) and dedicated to the public domain (CC0 1.0).
Standard library only: the shapes are rasterised with 4x4 supersampling and the PNG is
written with zlib + struct, so the output is byte-for-byte reproducible.

Usage: python3 samples/tools/draw_knife.py [OUTPUT]   (default: samples/knife.png next to tools/)
"""

import math
import os
import struct
import sys
import zlib

WIDTH, HEIGHT = 480, 200
SUPERSAMPLE = 4

BACKGROUND = (255, 255, 255)
BLADE_SPINE = (222, 226, 231)
BLADE_BODY = (176, 184, 192)
BLADE_BEVEL = (236, 240, 243)
EDGE_LINE = (110, 118, 126)
BOLSTER = (120, 126, 134)
HANDLE = (92, 58, 30)
HANDLE_GRAIN = (74, 45, 22)
RIVET = (200, 204, 210)

TIP_X, TIP_Y = 30.0, 96.0
HEEL_X = 300.0
SPINE_Y, EDGE_Y = 78.0, 134.0


def spine_y(x):
    """Top of the blade: straight, dropping towards the tip over the last 80 px."""
    if x >= TIP_X + 80:
        return SPINE_Y
    t = (x - TIP_X) / 80.0
    return TIP_Y - (TIP_Y - SPINE_Y) * math.sqrt(max(t, 0.0))


def edge_y(x):
    """Cutting edge: straight, curving up to the tip (the belly) over the last 70 px."""
    if x >= TIP_X + 70:
        return EDGE_Y
    t = (x - TIP_X) / 70.0
    return TIP_Y + (EDGE_Y - TIP_Y) * math.sqrt(max(t, 0.0))


def in_rounded_rect(x, y, x0, y0, x1, y1, r):
    if not (x0 <= x <= x1 and y0 <= y <= y1):
        return False
    cx = min(max(x, x0 + r), x1 - r)
    cy = min(max(y, y0 + r), y1 - r)
    return (x - cx) ** 2 + (y - cy) ** 2 <= r * r


def colour_at(x, y):
    # Rivets first (they sit on the handle).
    for rx in (352.0, 398.0, 440.0):
        if (x - rx) ** 2 + (y - 105.0) ** 2 <= 25.0:
            return RIVET
    if in_rounded_rect(x, y, 314.0, 82.0, 462.0, 128.0, 18.0):
        grain = math.sin(y * 0.9 + math.sin(x * 0.05) * 3.0)
        return HANDLE_GRAIN if grain > 0.82 else HANDLE
    if 300.0 <= x <= 316.0 and 74.0 <= y <= 136.0:
        return BOLSTER
    if TIP_X <= x <= HEEL_X:
        top, bottom = spine_y(x), edge_y(x)
        if top <= y <= bottom:
            if bottom - y <= 1.5:
                return EDGE_LINE
            if bottom - y <= 11.0:
                return BLADE_BEVEL
            t = (y - top) / max(bottom - top, 1.0)
            return tuple(round(s + (b - s) * t) for s, b in zip(BLADE_SPINE, BLADE_BODY))
    return BACKGROUND


def render():
    rows = []
    n = SUPERSAMPLE * SUPERSAMPLE
    for py in range(HEIGHT):
        row = bytearray([0])  # PNG filter type 0 (None) for this scanline
        for px in range(WIDTH):
            acc = [0, 0, 0]
            for sy in range(SUPERSAMPLE):
                for sx in range(SUPERSAMPLE):
                    c = colour_at(px + (sx + 0.5) / SUPERSAMPLE, py + (sy + 0.5) / SUPERSAMPLE)
                    acc[0] += c[0]
                    acc[1] += c[1]
                    acc[2] += c[2]
            row += bytes(round(v / n) for v in acc)
        rows.append(bytes(row))
    return b"".join(rows)


def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def write_png(path, raw):
    header = struct.pack(">IIBBBBB", WIDTH, HEIGHT, 8, 2, 0, 0, 0)  # 8-bit RGB
    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")
    with open(path, "wb") as f:
        f.write(png)


def main():
    default = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "knife.png")
    out = sys.argv[1] if len(sys.argv) > 1 else default
    write_png(out, render())
    print(f"wrote {os.path.normpath(out)} ({WIDTH}x{HEIGHT} RGB PNG)")


if __name__ == "__main__":
    main()
