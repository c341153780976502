#!/usr/bin/python3
"""Sanity check for src-test-data/parity: every case file loads with numpy,
has the documented keys/shapes/dtypes (manifest.json), is uncompressed, and a
few semantics are re-derived independently with numpy only.

    /usr/bin/python3 tools/reference/check_fixtures.py
"""

import json
import os
import sys
import zipfile

import numpy as np

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DIR = os.path.join(ROOT, "src-test-data", "parity")

# keys every case must have (beyond these, the manifest lists the full set)
REQUIRED = {
    "conv": ["x", "y", "gy", "gx", "param.weight", "grad.weight"],
    "bn": ["x", "y", "gy", "gx", "param.weight", "grad.weight", "param.bias", "grad.bias",
           "buffer_in.running_mean", "buffer_in.running_var", "buffer.running_mean", "buffer.running_var"],
    "act": ["x", "y", "gy", "gx"],
    "sparse": ["x", "y", "gy", "gx", "mask"],
    "loss": ["x", "y", "gy", "gx"],
}


def group(name):
    if name.startswith(("conv", "linear", "layernorm")):
        return "conv"
    if name.startswith("bn2d") or name.startswith("sparse_bn"):
        return "bn"
    if name.startswith("sparse"):
        return "sparse"
    if name.startswith(("masked_mse", "ce_")):
        return "loss"
    if name in ("patchify",):
        return None
    if name.startswith("mask_tokens"):
        return None
    return "act"


def expand(mask, H, W):
    return mask.repeat(H // mask.shape[2], 2).repeat(W // mask.shape[3], 3)


def close(a, b, tol=1e-4):
    return np.allclose(a, b, rtol=tol, atol=tol)


def semantic_checks(name, d):
    """Independent numpy re-derivations; returns list of failures."""
    bad = []
    if name in ("relu", "relu6"):
        hi = 6.0 if name == "relu6" else np.inf
        if not close(d["y"], np.clip(d["x"], 0, hi)):
            bad.append("y")
        if not close(d["gx"], d["gy"] * ((d["x"] > 0) & (d["x"] < hi))):
            bad.append("gx")
    if name in ("bn2d_train", "sparse_bn_train"):
        x = d["x"].astype(np.float64)
        if name.startswith("sparse"):
            act = expand(d["mask"], x.shape[2], x.shape[3])[:, 0].astype(bool)
            rows = x.transpose(0, 2, 3, 1)[act]              # (N, C)
        else:
            rows = x.transpose(0, 2, 3, 1).reshape(-1, x.shape[1])
        mu, var_b, var_u = rows.mean(0), rows.var(0), rows.var(0, ddof=1)
        rm = 0.9 * d["buffer_in.running_mean"] + 0.1 * mu
        rv = 0.9 * d["buffer_in.running_var"] + 0.1 * var_u
        if not (close(rm, d["buffer.running_mean"]) and close(rv, d["buffer.running_var"])):
            bad.append("running stats")
        yr = (rows - mu) / np.sqrt(var_b + 1e-5) * d["param.weight"] + d["param.bias"]
        yt = d["y"].transpose(0, 2, 3, 1)
        yt = yt[act] if name.startswith("sparse") else yt.reshape(-1, x.shape[1])
        if not close(yr, yt):
            bad.append("y")
        if name.startswith("sparse") and (np.abs(d["y"].transpose(0, 2, 3, 1)[~act]).max() != 0
                                          or np.abs(d["gx"].transpose(0, 2, 3, 1)[~act]).max() != 0):
            bad.append("inactive not exactly 0")
    if name in ("sparse_conv_s1", "sparse_conv_s2", "sparse_maxpool", "sparse_stack"):
        m = expand(d["mask"], d["y"].shape[2], d["y"].shape[3])
        if np.abs(d["y"] * (1 - m)).max() != 0:
            bad.append("inactive output not 0")
        xm = expand(d["mask"], d["x"].shape[2], d["x"].shape[3])
        if np.abs(d["x"] * (1 - xm)).max() != 0:
            bad.append("input not masked")
    if name == "patchify":
        x, p = d["x"], d["patches"]
        B, C, H, W = x.shape
        ps = 32
        w = W // ps
        ref = np.empty_like(p)
        for n in range(p.shape[1]):
            blk = x[:, :, (n // w) * ps:(n // w + 1) * ps, (n % w) * ps:(n % w + 1) * ps]
            ref[:, n] = blk.transpose(0, 2, 3, 1).reshape(B, -1)     # (py, px, c)
        if not np.array_equal(ref, p):
            bad.append("patches layout")
        t = (p - p.mean(-1, keepdims=True)) / np.sqrt(p.var(-1, ddof=1, keepdims=True) + 1e-6)
        if not close(t, d["target"]):
            bad.append("target")
    if name == "mask_tokens_p16":
        if not np.array_equal(d["tokens"], d["mask"].repeat(2, 2).repeat(2, 3)):
            bad.append("tokens")
    if name == "mask_tokens_p14":
        idx = np.array([(r * 14 + 7) // 32 for r in range(16)])
        if not np.array_equal(d["tokens"], d["mask"][:, :, idx][:, :, :, idx]):
            bad.append("tokens")
    if name == "masked_mse":
        l = ((d["x"] - d["target"]) ** 2).mean(-1)
        if not close((l * d["mask"]).sum() / (d["mask"].sum() + 1e-8), d["y"].reshape(())):
            bad.append("y")
    if name == "ce_soft_targets":
        x = d["x"].astype(np.float64)
        lsm = x - x.max(1, keepdims=True)
        lsm = lsm - np.log(np.exp(lsm).sum(1, keepdims=True))
        if not close((-d["targets"] * lsm).sum(1).mean(), d["y"].reshape(())):
            bad.append("y")
        if not close((np.exp(lsm) - d["targets"]) / x.shape[0], d["gx"]):
            bad.append("gx")
    if name == "ce_label_smoothing":
        x = d["x"].astype(np.float64)
        lsm = x - x.max(1, keepdims=True)
        lsm = lsm - np.log(np.exp(lsm).sum(1, keepdims=True))
        t = np.full_like(x, 0.1 / x.shape[1])
        t[np.arange(x.shape[0]), d["labels"]] += 0.9
        if not close((-t * lsm).sum(1).mean(), d["y"].reshape(())):
            bad.append("y")
        if not close((np.exp(lsm) - t) / x.shape[0], d["gx"]):
            bad.append("gx")
    return bad


def main():
    with open(os.path.join(DIR, "manifest.json")) as f:
        manifest = json.load(f)["cases"]
    files = sorted(f[:-4] for f in os.listdir(DIR) if f.endswith(".npz"))
    failures = 0
    if files != sorted(manifest):
        print("file set != manifest:", set(files) ^ set(manifest))
        failures += 1
    for name in files:
        path = os.path.join(DIR, name + ".npz")
        with zipfile.ZipFile(path) as z:
            compressed = [i.filename for i in z.infolist() if i.compress_type != zipfile.ZIP_STORED]
        d = dict(np.load(path, allow_pickle=False))
        problems = []
        if compressed:
            problems.append("compressed entries %s" % compressed)
        want = manifest.get(name, {}).get("keys", {})
        if set(d) != set(want):
            problems.append("keys %s != manifest %s" % (sorted(d), sorted(want)))
        for k, a in d.items():
            if k in want and (list(a.shape) != want[k]["shape"] or str(a.dtype) != want[k]["dtype"]):
                problems.append("%s shape/dtype" % k)
            if not a.flags["C_CONTIGUOUS"]:
                problems.append("%s not C-contiguous" % k)
            if a.dtype not in (np.float32, np.int64):
                problems.append("%s dtype %s" % (k, a.dtype))
        g = group(name)
        if g:
            missing = [k for k in REQUIRED[g] if k not in d]
            if missing:
                problems.append("missing %s" % missing)
        if "y" in d and "gy" in d and d["y"].shape != d["gy"].shape:
            problems.append("gy shape")
        if "x" in d and "gx" in d and d["x"].shape != d["gx"].shape:
            problems.append("gx shape")
        for k in d:
            if k.startswith("param.") and ("grad." + k[6:]) not in d:
                problems.append("no grad for " + k)
        problems += semantic_checks(name, d)
        status = "OK" if not problems else "FAIL " + "; ".join(problems)
        failures += bool(problems)
        print("%-22s %7d B  %s" % (name, os.path.getsize(path), status))
    print("%d passed, %d failed" % (len(files) - failures, failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
