#!/usr/bin/env python3
"""Write the embedded Fashion-MNIST subset (IDX, gzip) from Debian's dataset-fashion-mnist files.

Keeps the first 4000 training and the first 500 test images with their labels, in the original order, so the
subset is a prefix of the full data set. The gzip streams carry no name and mtime 0, so reruns give identical bytes.
Also prints the per-pixel mean/std of the full training set (the constants in FashionMnist.java).

Uses only the standard library:
    python3 tools/data/make_fashion_subset.py [--src /usr/share/datasets/fashion-mnist]
                                              [--out src-test-data/fashion-mnist] [--train 4000] [--test 500]
"""
import argparse
import gzip
import io
import math
import os
import struct
import sys

IMAGES_MAGIC = 0x00000803
LABELS_MAGIC = 0x00000801


def read_idx(path, expected_magic):
    with gzip.open(path, "rb") as f:
        data = f.read()
    magic, = struct.unpack(">I", data[:4])
    if magic != expected_magic:
        sys.exit(f"{path}: magic {magic:#010x}, expected {expected_magic:#010x}")
    ndims = magic & 0xFF
    dims = struct.unpack(">" + "I" * ndims, data[4:4 + 4 * ndims])
    body = data[4 + 4 * ndims:]
    if len(body) != math.prod(dims):
        sys.exit(f"{path}: {len(body)} data bytes, header says {math.prod(dims)}")
    return dims, body


def write_idx(path, magic, dims, body):
    header = struct.pack(">I", magic) + struct.pack(">" + "I" * len(dims), *dims)
    raw = io.BytesIO()
    # filename='' and mtime=0: no name or timestamp in the gzip header, so the output is reproducible.
    with gzip.GzipFile(filename="", mode="wb", fileobj=raw, compresslevel=9, mtime=0) as g:
        g.write(header + body)
    with open(path, "wb") as f:
        f.write(raw.getvalue())
    return len(raw.getvalue())


def subset(src, out, split, n):
    dims, images = read_idx(os.path.join(src, f"{split}-images-idx3-ubyte.gz"), IMAGES_MAGIC)
    ldims, labels = read_idx(os.path.join(src, f"{split}-labels-idx1-ubyte.gz"), LABELS_MAGIC)
    if dims[0] != ldims[0]:
        sys.exit(f"{split}: {dims[0]} images but {ldims[0]} labels")
    if n > dims[0]:
        sys.exit(f"{split}: asked for {n} images, the source has {dims[0]}")
    per = dims[1] * dims[2]
    a = write_idx(os.path.join(out, f"{split}-images-idx3-ubyte.gz"), IMAGES_MAGIC, (n, dims[1], dims[2]),
                  images[:n * per])
    b = write_idx(os.path.join(out, f"{split}-labels-idx1-ubyte.gz"), LABELS_MAGIC, (n,), labels[:n])
    counts = [labels[:n].count(c) for c in range(10)]
    print(f"{split}: {n} of {dims[0]} images, {a} + {b} bytes, per class {counts}")
    return dims, images


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--src", default="/usr/share/datasets/fashion-mnist")
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..", "..", "src-test-data",
                                                  "fashion-mnist"))
    ap.add_argument("--train", type=int, default=4000)
    ap.add_argument("--test", type=int, default=500)
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    _, train_images = subset(args.src, args.out, "train", args.train)
    subset(args.src, args.out, "t10k", args.test)
    n = len(train_images)
    s = sum(train_images)
    ss = sum(v * v for v in train_images)
    mean = s / n / 255.0
    std = math.sqrt(ss / n / 255.0 ** 2 - mean * mean)
    print(f"full training set pixel mean {mean:.6f} std {std:.6f}")


if __name__ == "__main__":
    main()
