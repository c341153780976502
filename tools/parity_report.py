#!/usr/bin/env python3
"""Writes docs/parity.md from the rows the Java parity and gradient-check tests append while they run.

Usage (from the repository root, after the tests ran):
    mvn -B verify && python3 tools/parity_report.py

Inputs: <module>/target/parity-report.tsv (case, tensor, max abs error, max abs error / max |expected|, elements)
and <module>/target/gradcheck-report.tsv (test, tensor, worst relative error). Later rows of the same case and
tensor replace earlier ones, so re-running a test does not duplicate it. Stdlib only.
"""
import glob
import json
import os
import sys
from collections import OrderedDict

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def read_rows(pattern):
    rows = OrderedDict()
    for path in sorted(glob.glob(os.path.join(ROOT, "*", "target", pattern))):
        module = path.split(os.sep)[-3]
        with open(path, encoding="utf-8") as f:
            for line in f:
                parts = line.rstrip("\n").split("\t")
                if len(parts) >= 3:
                    rows[(module, parts[0], parts[1])] = parts[2:]
    return rows


def short_list(names, limit=6):
    """Up to `limit` names in backticks, then how many more."""
    shown = ", ".join("`%s`" % t for t in names[:limit])
    return shown + (" and %d more" % (len(names) - limit) if len(names) > limit else "")


def is_forward(tensor):
    return tensor == "y" or tensor.startswith("buffer.") or tensor not in ("gx",) and not tensor.startswith("grad.")


def cpu():
    """The CPU this report's Java results came from (it is written where the tests just ran)."""
    try:
        with open("/proc/cpuinfo") as f:
            lines = f.read().splitlines()
    except OSError:
        return "an unrecorded CPU"
    model = next((l.split(":", 1)[1].strip() for l in lines if l.startswith("model name")), "an unknown CPU")
    flags = next((l.split(":", 1)[1].split() for l in lines if l.startswith("flags")), [])
    simd = "avx512f" if "avx512f" in flags else "avx2" if "avx2" in flags else "no avx2"
    return "%s (%s, %d CPUs)" % (model, simd, os.cpu_count() or 0)


def main():
    parity = read_rows("parity-report.tsv")
    grads = read_rows("gradcheck-report.tsv")
    if not parity:
        sys.exit("no target/parity-report.tsv found: run the tests first (mvn -B verify)")
    # case configs of every fixture folder: parity/manifest.json, models/vit_manifest.json, ...
    manifest = OrderedDict()
    for manifest_path in sorted(glob.glob(os.path.join(ROOT, "src-test-data", "*", "*manifest.json"))):
        cases_of = json.load(open(manifest_path)).get("cases", {})
        if isinstance(cases_of, dict):  # some fixture folders list their files instead of describing cases
            manifest.update(cases_of)

    cases = OrderedDict()
    for (module, case, tensor), vals in parity.items():
        c = cases.setdefault((module, case), {"fwd": [0.0, 0.0, []], "bwd": [0.0, 0.0, []]})
        side = c["fwd"] if is_forward(tensor) else c["bwd"]
        side[0] = max(side[0], float(vals[0]))
        side[1] = max(side[1], float(vals[1]))
        side[2].append(tensor)

    out = []
    out.append("# Parity with PyTorch\n")
    out.append("Every layer, sparse op, MIM helper and loss of hgkd is compared with PyTorch on fixtures written by the")
    out.append("reference scripts in `tools/reference/` (Debian `python3-torch` 1.13.1, fp32, seeded inputs, weights and")
    out.append("upstream gradients). Each hand-written backward is also checked against central finite differences in")
    out.append("double precision.\n")
    out.append("## Tolerances\n")
    out.append("* fp32 forward outputs and BN buffers: `|java - torch| <= 1e-5 + 1e-4 * |torch|` per element.")
    out.append("* fp32 gradients (input and parameters): `|java - torch| <= 1e-4 + 1e-3 * |torch|` per element.")
    out.append("* Masks, layouts and token maps: exact.")
    out.append("* Finite differences (double, eps 1e-6): `|analytic - numeric| / max(|analytic|, |numeric|, 1e-3) <= 1e-5`"
               " for every checked element (all elements, or 200 random ones per tensor for larger tensors).\n")
    out.append("The \"rel\" columns below are norm-wise: max abs error / max(max |torch value|, 1e-3) over the tensor (the floor")
    out.append("matters where PyTorch's gradient is exactly 0, e.g. the bias of a conv followed by BN).\n")
    out.append("The Java side of this table ran on %s. Errors near 1e-7 move with the CPU's kernels" % cpu())
    out.append("(AVX2 and AVX-512 sum in other orders); the tolerances above do not.\n")
    out.append("Whole models run through the CLI on full-size torchvision ResNet-18/50 and a 150-key MAE ViT-B/16 `.pth`, and")
    out.append("the exported student encoder loaded into torchvision's resnet50, are in [end-to-end.md](end-to-end.md).\n")
    out.append("## Layers and ops against PyTorch\n")
    out.append("| module | case | PyTorch reference | forward max abs | forward rel | backward max abs | backward rel | tensors compared |")
    out.append("|---|---|---|---|---|---|---|---|")
    order = {name: i for i, name in enumerate(manifest)}
    for (module, case), c in sorted(cases.items(), key=lambda kv: (kv[0][0], order.get(kv[0][1], len(order)), kv[0][1])):
        ref = manifest.get(case, {}).get("config", {}).get("module", "")
        f, b = c["fwd"], c["bwd"]
        fwd = ("%.1e" % f[0], "%.1e" % f[1]) if f[2] else ("–", "–")
        bwd = ("%.1e" % b[0], "%.1e" % b[1]) if b[2] else ("–", "–")
        tensors = short_list(f[2] + b[2])
        out.append("| %s | `%s` | %s | %s | %s | %s | %s | %s |" % (module, case, ref, fwd[0], fwd[1], bwd[0], bwd[1], tensors))
    out.append("")
    out.append("## Finite-difference gradient checks (double precision)\n")
    out.append("| module | test | tensors checked | worst relative error |")
    out.append("|---|---|---|---|")
    tests = OrderedDict()
    for (module, test, tensor), vals in grads.items():
        t = tests.setdefault((module, test), [0.0, []])
        t[0] = max(t[0], float(vals[0]))
        t[1].append(tensor)
    for (module, test), (worst, tensors) in sorted(tests.items()):
        out.append("| %s | `%s` | %s | %.1e |" % (module, test, short_list(tensors), worst))
    out.append("")
    out.append("## Regenerating\n")
    out.append("```")
    out.append("apt-get install -y python3-torch python3-torchvision libopenblas0-openmp   # once")
    out.append("/usr/bin/python3 tools/reference/make_layer_fixtures.py    # fixtures -> src-test-data/parity")
    out.append("/usr/bin/python3 tools/reference/check_fixtures.py         # numpy-only sanity check of the fixtures")
    out.append("/usr/bin/python3 tools/reference/make_vit_fixtures.py      # ViT/MAE fixtures -> src-test-data/models")
    out.append("mvn -B verify                                               # runs the parity tests")
    out.append("python3 tools/parity_report.py                              # rewrites this file")
    out.append("```")
    out.append("")
    out.append("CI reads the committed fixtures and does not need PyTorch.")
    with open(os.path.join(ROOT, "docs", "parity.md"), "w", encoding="utf-8") as f:
        f.write("\n".join(out) + "\n")
    print("wrote docs/parity.md: %d cases, %d gradient-check tests" % (len(cases), len(tests)))


if __name__ == "__main__":
    main()
