"""Writes a small folder dataset (core/data/image_files.h) of coloured shapes, seeded, for the
end-to-end test of a user's own Stable Diffusion model (tests/diffusers/test-end-to-end.sh):

    $PY tests/diffusers/make_folder_dataset.py OUT_DIR [--size 16] [--seed 0]

OUT_DIR/ then holds manifest.jsonl and images/NN-colour-shape.png: 8 colours x 8 shapes = 64
RGB PNGs of --size pixels (16: the tiny pipeline's image size, so the folder is read as it is),
a shape of one colour on a light grey background with a seeded jitter of position, size and a
little pixel noise. Each manifest line is
    {"path": "images/00-red-circle.png", "caption": "a red circle", "id": "red-circle",
     "family": 0, "style": "circle", "category": "shape", "subcategory": "circle"}
family is the colour's index (8 families of 8 images: one colour in every shape, as an emoji
family is one emoji in every style), style and subcategory the shape. The same files on every run
(numpy's seeded generator, Pillow's PNG writer).
"""
import argparse
import json
import pathlib

import numpy as np
from PIL import Image

COLOURS = {  # one CLIP token each
    "red": (220, 30, 30), "green": (30, 170, 40), "blue": (30, 60, 220),
    "yellow": (235, 215, 20), "orange": (245, 130, 10), "purple": (130, 40, 170),
    "pink": (245, 120, 190), "black": (15, 15, 15),
}
SHAPES = ("circle", "square", "triangle", "diamond", "cross", "ring", "star", "heart")
BACKGROUND = (225, 225, 225)


def mask(shape, n, cx, cy, r):
    """A boolean [n, n] mask of `shape` centred at (cx, cy) (pixels) with radius r."""
    y, x = np.mgrid[0:n, 0:n].astype(np.float64) + 0.5
    dx, dy = (x - cx) / r, (y - cy) / r
    if shape == "circle":
        return dx ** 2 + dy ** 2 <= 1
    if shape == "square":
        return (abs(dx) <= 0.85) & (abs(dy) <= 0.85)
    if shape == "triangle":  # apex up
        return (dy <= 0.9) & (dy >= -1) & (abs(dx) <= (dy + 1) / 1.9 * 1.0)
    if shape == "diamond":
        return abs(dx) + abs(dy) <= 1
    if shape == "cross":
        return ((abs(dx) <= 0.3) & (abs(dy) <= 1)) | ((abs(dy) <= 0.3) & (abs(dx) <= 1))
    if shape == "ring":
        d = dx ** 2 + dy ** 2
        return (d <= 1) & (d >= 0.35)
    if shape == "star":  # five points: radius between 0.45 and 1 by angle
        a = np.arctan2(dy, dx) + np.pi / 2
        k = np.abs(((a / (2 * np.pi / 5)) % 1) - 0.5) * 2  # 1 at a point, 0 between
        return np.sqrt(dx ** 2 + dy ** 2) <= 0.45 + 0.55 * k ** 2
    if shape == "heart":
        u, v = dx * 1.1, -dy * 1.1 + 0.25
        return (u ** 2 + v ** 2 - 0.6) ** 3 - u ** 2 * v ** 3 <= 0
    raise ValueError(shape)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("out_dir")
    ap.add_argument("--size", type=int, default=16)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    out = pathlib.Path(args.out_dir)
    (out / "images").mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(args.seed)
    n = args.size
    lines = []
    for family, (colour, rgb) in enumerate(COLOURS.items()):
        for shape in SHAPES:
            i = len(lines)
            r = n * rng.uniform(0.36, 0.44)
            cx, cy = n / 2 + rng.uniform(-1, 1), n / 2 + rng.uniform(-1, 1)
            m = mask(shape, n, cx, cy, r)
            img = np.empty((n, n, 3), np.float64)
            img[:] = BACKGROUND
            img[m] = rgb
            img += rng.normal(0, 4, img.shape)
            path = f"images/{i:02d}-{colour}-{shape}.png"
            Image.fromarray(np.clip(img, 0, 255).round().astype(np.uint8), "RGB").save(out / path)
            article = "an" if colour[0] in "aeiou" else "a"
            lines.append({"path": path, "caption": f"{article} {colour} {shape}",
                          "id": f"{colour}-{shape}", "family": family, "style": shape,
                          "category": "shape", "subcategory": shape})
    (out / "manifest.jsonl").write_text("".join(json.dumps(e) + "\n" for e in lines))
    print(f"wrote {len(lines)} images of {n}x{n} px ({len(COLOURS)} colours x {len(SHAPES)} "
          f"shapes, families by colour) to {out}")


if __name__ == "__main__":
    main()
