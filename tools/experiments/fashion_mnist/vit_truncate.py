#!/usr/bin/env python3
"""A ViT encoder cut after its first K blocks (numpy only), to probe the teacher's intermediate layers.

  vit_truncate.py IN.safetensors OUT.safetensors --depth K

OUT keeps `blocks.0` .. `blocks.K-1` and every tensor outside `blocks.*` (patch embedding, position embedding,
class token, the final `norm`); load it with `--set job.encoder.depth=K`. A linear probe of OUT (`hgkd probe`) then
reads the mean over patch tokens of LayerNorm(block K-1's output) with the final norm's affine, and the probe's
affine-free BatchNorm removes that per-channel affine up to its epsilon (mean pooling commutes with it): so the probe sees
what `job.loss.teacherBlock=K-1` with `job.loss.normalizeTargets=true` makes the student predict, mean-pooled.
"""
import argparse
import re
import sys

from encoder_scale import read_safetensors, write_safetensors


def truncate(src, dst, depth):
    """Writes DST; returns the number of blocks SRC had. Raises ValueError naming the file when DEPTH is not in
    [1, blocks of SRC]."""
    t, meta = read_safetensors(src)
    block = {k: int(m.group(1)) for k in t for m in [re.match(r"blocks\.(\d+)\.", k)] if m}  # name -> block index
    if not block:
        raise ValueError("%s: no blocks.N.* tensors (not a ViT encoder?)" % src)
    n = max(block.values()) + 1
    if not 1 <= depth <= n:
        raise ValueError("%s has %d blocks; --depth must be in [1, %d], got %d" % (src, n, n, depth))
    keep = {k: v for k, v in t.items() if block.get(k, -1) < depth}
    meta = dict(meta or {})
    meta["source"] = "%s, first %d of %d blocks (vit_truncate.py)" % (meta.get("source", src), depth, n)
    write_safetensors(dst, keep, meta)
    return n


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("src")
    ap.add_argument("dst")
    ap.add_argument("--depth", type=int, required=True, help="blocks to keep (K)")
    a = ap.parse_args(argv)
    try:
        n = truncate(a.src, a.dst, a.depth)
    except (OSError, ValueError) as e:
        sys.exit("vit_truncate.py: %s" % e)
    print("%s -> %s: blocks 0-%d of %d" % (a.src, a.dst, a.depth - 1, n))


if __name__ == "__main__":
    main()
