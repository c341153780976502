#!/usr/bin/env python3
"""The scale of a ResNet encoder's convolution weights, and a copy with that scale reset (numpy only).

Every convolution of a ResNet feeds a BatchNorm, so its output does not depend on the scale of the weights; but
the fine-tuning optimiser (AdamW) takes steps of a fixed size, so a convolution whose weights are c times larger
turns c times more slowly. Pretraining can change that scale (a LAMB step is proportional to the weight norm), and
with it the effective fine-tuning learning rate. Two commands:

  norms ENCODER...        writes ENCODER's folder/encoder_norms.json: every conv weight's Frobenius norm and the
                          norm of its initialisation (kaiming-normal, fan-out, ReLU gain: sqrt(2 * in_channels)
                          in expectation), and prints the ratios
  rescale IN OUT          writes OUT, IN with every conv weight scaled to its initialisation's norm and the running
                          mean (x c) and variance (x c^2) of the BatchNorm it feeds adjusted to match: the same
                          function in training mode (batch statistics), and in eval mode up to BatchNorm's epsilon

Names follow timm/torchvision (`conv1` -> `bn1`, `layer1.0.conv2` -> `layer1.0.bn2`, `downsample.0` ->
`downsample.1`), as `bin/hgkd export` writes them.

  python3 tools/experiments/fashion_mnist/encoder_scale.py norms runs/fashion-mnist/students/*/student_encoder.safetensors
  python3 tools/experiments/fashion_mnist/encoder_scale.py rescale IN.safetensors OUT.safetensors
"""
import argparse
import json
import os
import re
import struct
import sys

import numpy as np

from atomic import atomic_open

DTYPES = {"F32": np.float32, "F64": np.float64, "F16": np.float16, "I64": np.int64, "I32": np.int32}


def read_safetensors(path):
    """(tensors by name, header metadata or None). Names and shapes as stored; raises ValueError naming the file."""
    with open(path, "rb") as f:
        raw = f.read()
    if len(raw) < 8:
        raise ValueError("%s: not a safetensors file (%d bytes)" % (path, len(raw)))
    n = struct.unpack("<Q", raw[:8])[0]
    try:
        header = json.loads(raw[8:8 + n])
    except ValueError as e:
        raise ValueError("%s: unreadable safetensors header (%s)" % (path, e))
    data = raw[8 + n:]
    out = {}
    for name, v in header.items():
        if name == "__metadata__":
            continue
        if v["dtype"] not in DTYPES:
            raise ValueError("%s: tensor %s has dtype %s, not one of %s" % (path, name, v["dtype"], sorted(DTYPES)))
        a, b = v["data_offsets"]
        out[name] = np.frombuffer(data[a:b], dtype=DTYPES[v["dtype"]]).reshape(v["shape"]).copy()
    return out, header.get("__metadata__")


def write_safetensors(path, tensors, metadata=None):
    """Writes to a temporary file beside PATH, then renames it."""
    names = {v: k for k, v in DTYPES.items()}
    header, offset, blobs = {}, 0, []
    if metadata:
        header["__metadata__"] = metadata
    for name, t in tensors.items():
        b = np.ascontiguousarray(t).astype(t.dtype.newbyteorder("<"), copy=False).tobytes()
        header[name] = {"dtype": names[t.dtype.type], "shape": list(t.shape), "data_offsets": [offset, offset + len(b)]}
        offset += len(b)
        blobs.append(b)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    with atomic_open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def bn_of(conv):
    """The BatchNorm prefix fed by the conv weight CONV ('layer1.0.conv2.weight' -> 'layer1.0.bn2.')."""
    m = re.fullmatch(r"(.*?)conv(\d+)\.weight", conv)
    if m:
        return "%sbn%s." % (m.group(1), m.group(2))
    m = re.fullmatch(r"(.*downsample\.)0\.weight", conv)
    if m:
        return m.group(1) + "1."
    return None


def convs(tensors, path):
    """[(conv weight name, its BatchNorm prefix)] of every 4-d weight; ValueError if one feeds no BatchNorm."""
    out = []
    for name, t in tensors.items():
        if t.ndim != 4:
            continue
        bn = bn_of(name)
        if bn is None or bn + "running_var" not in tensors:
            raise ValueError("%s: conv weight %s %s feeds no BatchNorm found by name (looked for %s)"
                             % (path, name, list(t.shape), (bn or "?") + "running_var"))
        out.append((name, bn))
    if not out:
        raise ValueError("%s: no 4-d conv weights (is this a ResNet encoder export?)" % path)
    return out


def init_norm(w):
    """Expected Frobenius norm of kaiming-normal (fan-out, ReLU gain) init: numel * 2/fan_out = 2 * in_channels."""
    return float(np.sqrt(2.0 * w.shape[1]))


def stage(name):
    return name.split(".")[0] if name.startswith("layer") else "stem"


def norms(path):
    tensors, _ = read_safetensors(path)
    rows = []
    for name, _ in convs(tensors, path):
        w = tensors[name].astype(np.float64)
        rows.append({"name": name, "shape": list(w.shape), "norm": float(np.linalg.norm(w)), "init_norm": init_norm(w)})
    ratios = np.array([r["norm"] / r["init_norm"] for r in rows])
    by_stage = {}
    for r in rows:
        by_stage.setdefault(stage(r["name"]), []).append(r["norm"] / r["init_norm"])
    return {"encoder": os.path.basename(path), "convs": rows, "median_ratio": float(np.median(ratios)),
            "stage_median_ratio": {k: float(np.median(v)) for k, v in by_stage.items()}}


def rescale(src, dst):
    tensors, meta = read_safetensors(src)
    factors = []
    for name, bn in convs(tensors, src):
        w = tensors[name]
        c = init_norm(w) / float(np.linalg.norm(w.astype(np.float64)))
        tensors[name] = (w * c).astype(w.dtype)
        tensors[bn + "running_mean"] = (tensors[bn + "running_mean"] * c).astype(w.dtype)
        tensors[bn + "running_var"] = (tensors[bn + "running_var"] * c * c).astype(w.dtype)
        factors.append(c)
    meta = dict(meta or {})
    meta["hgkd.rescaled_from"] = os.path.basename(src)
    write_safetensors(dst, tensors, meta)
    return factors


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    n = sub.add_parser("norms", help="write encoder_norms.json beside each encoder")
    n.add_argument("encoders", nargs="+")
    r = sub.add_parser("rescale", help="copy IN to OUT with every conv weight at its init norm")
    r.add_argument("src")
    r.add_argument("dst")
    a = ap.parse_args(argv)
    try:
        if a.cmd == "norms":
            for p in a.encoders:
                rec = norms(p)
                out = os.path.join(os.path.dirname(os.path.abspath(p)), "encoder_norms.json")
                with atomic_open(out) as f:
                    json.dump(rec, f, indent=1)
                print("%s: conv weight norm / init norm, median %.2f; by stage %s -> %s" % (
                    p, rec["median_ratio"], ", ".join("%s %.2f" % kv for kv in rec["stage_median_ratio"].items()), out))
        else:
            f = rescale(a.src, a.dst)
            print("%s -> %s: %d conv weights scaled by %.2f-%.2f (median %.2f)" % (
                a.src, a.dst, len(f), min(f), max(f), float(np.median(f))))
    except (OSError, ValueError) as e:
        sys.exit("encoder_scale.py: %s" % e)


if __name__ == "__main__":
    main()
