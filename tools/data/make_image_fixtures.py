#!/usr/bin/env python3
"""Write the small image fixtures of the data tests into src-test-data/images.

* cmyk.jpg, progressive.jpg, photo_q90.jpg: JPEG variants that the Java decoder must read (PIL writes them), each
  with PIL's own decode beside it as a PNG (*_pil.png) so the tests can measure the difference between decoders.
* photo.png: a synthetic photo-like RGB image (smooth shading, edges, texture, mild noise), the input of the
  resampling references.
* ref_*.png: what torchvision (on PIL images, as torchvision's ImageFolder yields them) makes of photo.png for the
  operations listed in manifest.json. The Java resampler is compared with these.

Needs PIL and torchvision:  /usr/bin/python3 tools/data/make_image_fixtures.py [--out src-test-data/images]
"""
import argparse
import json
import math
import os
import random

import PIL
from PIL import Image
import torchvision
import torchvision.transforms as T
import torchvision.transforms.functional as F
from torchvision.transforms import InterpolationMode


def photo(w, h, seed=7):
    """Smooth colour gradients, a few ellipses with hard and soft edges, a sinusoidal texture and noise."""
    rnd = random.Random(seed)
    img = Image.new("RGB", (w, h))
    px = img.load()
    blobs = [(rnd.uniform(0, w), rnd.uniform(0, h), rnd.uniform(8, 40), rnd.uniform(6, 30),
              tuple(rnd.randrange(256) for _ in range(3)), rnd.random() < 0.5) for _ in range(9)]
    for y in range(h):
        for x in range(w):
            r = 60 + 150 * x / w
            g = 40 + 170 * y / h
            b = 128 + 90 * math.sin(x / 7.0) * math.cos(y / 11.0)
            for cx, cy, rx, ry, col, hard in blobs:
                d = ((x - cx) / rx) ** 2 + ((y - cy) / ry) ** 2
                a = (1.0 if d < 1 else 0.0) if hard else math.exp(-2 * d)
                r, g, b = (r * (1 - a) + col[0] * a, g * (1 - a) + col[1] * a, b * (1 - a) + col[2] * a)
            n = rnd.gauss(0, 6)
            px[x, y] = tuple(max(0, min(255, int(round(v + n)))) for v in (r, g, b))
    return img


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..", "..", "src-test-data", "images"))
    out = ap.parse_args().out
    os.makedirs(out, exist_ok=True)

    def save(img, name, **kw):
        img.save(os.path.join(out, name), **kw)

    src = photo(160, 120)
    save(src, "photo.png", optimize=True)

    # JPEG variants: a CMYK JPEG (PIL writes Adobe-style inverted CMYK), a progressive and a baseline one.
    cmyk = Image.new("CMYK", (48, 32))
    q = cmyk.load()
    for y in range(32):
        for x in range(48):
            # Quadrants: white, pure cyan, pure magenta + yellow (red), full black.
            q[x, y] = [(0, 0, 0, 0), (255, 0, 0, 0), (0, 255, 255, 0), (0, 0, 0, 255)][(x >= 24) + 2 * (y >= 16)]
    save(cmyk, "cmyk.jpg", quality=95)
    save(Image.open(os.path.join(out, "cmyk.jpg")).convert("RGB"), "cmyk_pil.png", optimize=True)
    small = src.resize((64, 48), Image.BICUBIC)
    save(small, "progressive.jpg", quality=90, progressive=True)
    save(Image.open(os.path.join(out, "progressive.jpg")).convert("RGB"), "progressive_pil.png", optimize=True)
    save(src, "photo_q90.jpg", quality=90)
    save(Image.open(os.path.join(out, "photo_q90.jpg")).convert("RGB"), "photo_q90_pil.png", optimize=True)

    # torchvision references on photo.png. Crop boxes are (top, left, height, width) as in F.resized_crop.
    bic, bil = InterpolationMode.BICUBIC, InterpolationMode.BILINEAR
    cases = [
        dict(name="ref_eval_bicubic.png", op="resize_shorter_center_crop", resize=100, crop=96, interp="bicubic",
             fn=lambda im: F.center_crop(F.resize(im, 100, bic), 96)),
        dict(name="ref_rrc_bicubic.png", op="resized_crop", box=[17, 23, 90, 111], size=[64, 64], interp="bicubic",
             fn=lambda im: F.resized_crop(im, 17, 23, 90, 111, [64, 64], bic)),
        dict(name="ref_rrc_bilinear.png", op="resized_crop", box=[17, 23, 90, 111], size=[64, 64],
             interp="bilinear", fn=lambda im: F.resized_crop(im, 17, 23, 90, 111, [64, 64], bil)),
        dict(name="ref_up_bicubic.png", op="resized_crop", box=[10, 10, 40, 50], size=[64, 80], interp="bicubic",
             fn=lambda im: F.resized_crop(im, 10, 10, 40, 50, [64, 80], bic)),
        dict(name="ref_wide_bilinear.png", op="resized_crop", box=[0, 0, 120, 160], size=[30, 150],
             interp="bilinear", fn=lambda im: F.resized_crop(im, 0, 0, 120, 160, [30, 150], bil)),
        dict(name="ref_center_crop_pad.png", op="center_crop", crop=[130, 171],
             fn=lambda im: F.center_crop(im, [130, 171])),
        dict(name="ref_gray.png", op="to_gray", fn=lambda im: im.convert("L")),
        dict(name="ref_gray_up_bilinear.png", op="gray_resized_crop", box=[40, 60, 28, 28], size=[32, 32],
             interp="bilinear", fn=lambda im: F.resized_crop(im.convert("L"), 40, 60, 28, 28, [32, 32], bil)),
    ]
    manifest = dict(source="photo.png", pil=PIL.__version__, torchvision=torchvision.__version__, cases=[])
    for c in cases:
        fn = c.pop("fn")
        save(fn(src), c["name"], optimize=True)
        manifest["cases"].append(c)
    with open(os.path.join(out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
        f.write("\n")
    for n in sorted(os.listdir(out)):
        print(f"{n}: {os.path.getsize(os.path.join(out, n))} bytes")


if __name__ == "__main__":
    main()
