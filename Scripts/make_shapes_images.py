#!/usr/bin/env python3
"""Generates Examples/data/shapes: small RGB images of coloured shapes on textured backgrounds.

Pure Python standard library (PNG written with zlib), deterministic for a seed:

    python3 Scripts/make_shapes_images.py            # writes Examples/data/shapes/
    python3 Scripts/make_shapes_images.py --check    # regenerates in memory and compares with the files

Each 32x32 image shows one shape (circle, square, triangle or cross) in one colour family (red, green, blue or
yellow, with jittered shades) at a random position and size, on a background of a dim random tint, stripes or a
checkerboard and speckle noise. Labels: `shape` and `color`, in labels.csv (training, 1,200 rows) and test.csv
(300 rows), each with a `file` column naming the PNG relative to the CSV.
"""
import argparse
import os
import random
import struct
import sys
import zlib

SIZE = 32
SHAPES = ["circle", "square", "triangle", "cross"]
COLORS = {"red": (220, 40, 40), "green": (40, 190, 60), "blue": (50, 80, 230), "yellow": (230, 210, 40)}
TRAIN, TEST = 1200, 300


def png_bytes(pixels):
    """A PNG (8-bit RGB, no interlace) of `pixels`, a list of SIZE rows of SIZE (r, g, b) tuples; rows use the
    Sub filter, which suits the smooth backgrounds."""
    raw = bytearray()
    for row in pixels:
        raw.append(1)  # filter: Sub
        prev = (0, 0, 0)
        for px in row:
            raw.extend(((px[0] - prev[0]) & 255, (px[1] - prev[1]) & 255, (px[2] - prev[2]) & 255))
            prev = px
    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)
    header = struct.pack(">IIBBBBB", SIZE, SIZE, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(bytes(raw), 9))
            + chunk(b"IEND", b""))


def inside(shape, x, y, cx, cy, r):
    dx, dy = x - cx, y - cy
    if shape == "circle":
        return dx * dx + dy * dy <= r * r
    if shape == "square":
        return abs(dx) <= r * 0.85 and abs(dy) <= r * 0.85
    if shape == "triangle":  # apex up
        return -r <= dy <= r and abs(dx) <= (dy + r) / 2
    w = max(1.5, r * 0.35)  # cross
    return (abs(dx) <= w and abs(dy) <= r) or (abs(dy) <= w and abs(dx) <= r)


def image(rng, shape, color):
    tint = [rng.randint(60, 150)] * 3
    tint = [t + rng.randint(-20, 20) for t in tint]
    pattern = rng.choice(["plain", "stripes", "checker"])
    period = rng.randint(3, 8)
    base = COLORS[color]
    fill = tuple(max(0, min(255, c + rng.randint(-30, 30))) for c in base)
    r = rng.uniform(6, 11)
    cx, cy = rng.uniform(r, SIZE - 1 - r), rng.uniform(r, SIZE - 1 - r)
    rows = []
    for y in range(SIZE):
        row = []
        for x in range(SIZE):
            if inside(shape, x + 0.5, y + 0.5, cx, cy, r):
                px = fill
            else:
                shade = 0
                if pattern == "stripes" and (x + y) // period % 2:
                    shade = 18
                elif pattern == "checker" and (x // period + y // period) % 2:
                    shade = 18
                speck = 30 if rng.random() < 0.04 else 0
                px = tuple(max(0, min(255, t + shade + speck)) for t in tint)
            row.append(px)
        rows.append(row)
    return png_bytes(rows)


def generate(seed):
    """{relative path: bytes} for every file of the data set."""
    rng = random.Random(seed)
    files = {}
    for split, count, name in (("train", TRAIN, "labels.csv"), ("test", TEST, "test.csv")):
        lines = ["file,shape,color"]
        for i in range(count):
            shape, color = rng.choice(SHAPES), rng.choice(sorted(COLORS))
            path = "%s/%04d.png" % (split, i)
            files[path] = image(rng, shape, color)
            lines.append("%s,%s,%s" % (path, shape, color))
        files[name] = ("\n".join(lines) + "\n").encode()
    return files


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..", "Examples", "data", "shapes"))
    parser.add_argument("--check", action="store_true", help="compare with the files instead of writing them")
    args = parser.parse_args()
    files = generate(args.seed)
    if args.check:
        for path, data in sorted(files.items()):
            with open(os.path.join(args.out, path), "rb") as f:
                if f.read() != data:
                    sys.exit("differs: " + path)
        print("%d files match" % len(files))
        return
    for path, data in files.items():
        full = os.path.join(args.out, path)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "wb") as f:
            f.write(data)
    print("%d files, %d bytes" % (len(files), sum(len(d) for d in files.values())))


if __name__ == "__main__":
    main()
