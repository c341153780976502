#!/usr/bin/env python3
"""Checks that a student encoder exported by hgkd loads into torchvision's resnet50 and computes the same features.

Runs the Java test EncoderExportFileTest (which exports a SparK ResNet-50 student's encoder with timm names after a
sparse training forward, and writes its dense eval-mode stage features on a fixed input), then loads the safetensors
file into torchvision.models.resnet50 with strict=False and compares. Needs python3-torch/torchvision; nothing is
written into the repository.

    /usr/bin/python3 tools/reference/export_check.py [--keep DIR]
"""
import argparse
import json
import os
import struct
import subprocess
import sys
import tempfile

import numpy as np
import torch
import torchvision

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DTYPES = {"F32": np.float32, "F64": np.float64, "I64": np.int64, "F16": np.float16}


def read_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for k, v in header.items():
        if k == "__metadata__":
            continue
        b, e = v["data_offsets"]
        out[k] = torch.from_numpy(np.frombuffer(data[b:e], dtype=DTYPES[v["dtype"]]).reshape(v["shape"]).copy())
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--keep", help="write the files into DIR and keep them")
    a = ap.parse_args()
    work = os.path.abspath(a.keep or tempfile.mkdtemp(prefix="hgkd-export-check-"))
    subprocess.run(["mvn", "-B", "-q", "-o", "install", "-DskipTests"], cwd=ROOT, check=True)
    subprocess.run(["mvn", "-B", "-q", "-o", "test", "-pl", "hgkd-models", "-Dtest=EncoderExportFileTest",
                    "-Dhgkd.exportDir=" + work], cwd=ROOT, check=True)
    sd = read_safetensors(os.path.join(work, "encoder.safetensors"))
    model = torchvision.models.resnet50()
    res = model.load_state_dict(sd, strict=False)
    print("missing keys:", res.missing_keys)
    print("unexpected keys:", res.unexpected_keys)
    ok = sorted(res.missing_keys) == ["fc.bias", "fc.weight"] and not res.unexpected_keys
    model.eval()
    x = torch.from_numpy(np.load(os.path.join(work, "x.npy")))
    java = np.load(os.path.join(work, "features.npz"))
    with torch.no_grad():
        h = model.maxpool(model.relu(model.bn1(model.conv1(x))))
        for i, layer in enumerate((model.layer1, model.layer2, model.layer3, model.layer4)):
            h = layer(h)
            e = h.numpy().astype(np.float64)
            g = java["layer%d" % (i + 1)].astype(np.float64)
            err = np.abs(e - g).max()
            rel = err / np.abs(e).max()
            good = np.all(np.abs(e - g) <= 1e-4 * np.abs(e) + 1e-4 * np.abs(e).max())
            ok &= bool(good)
            print("layer%d %s max abs error %.1e, / max abs %.1e: %s" % (i + 1, list(e.shape), err, rel,
                                                                       "pass" if good else "FAIL"))
    print("files in", work)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
