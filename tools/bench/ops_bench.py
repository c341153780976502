#!/usr/bin/python3
"""PyTorch CPU microbenchmark of the ops hgkd times on the Java side.

    /usr/bin/python3 tools/bench/ops_bench.py [--threads N] [--reps 10] [--warmup 3] [--out FILE] [--only OP ...]

For each op: forward alone ("fwd") and forward + backward w.r.t. the input and
the parameters with a fixed upstream gradient ("fwd+bwd"), float32, `warmup`
untimed runs then `reps` timed runs; median/min/max wall time in ms.
Prints one JSON object to stdout (and to --out FILE):
  {"torch_version": ..., "threads": ..., "blas": ..., "results":
     [{"op": ..., "pass": "fwd"|"fwd+bwd", "median_ms": ..., "min_ms": ..., "max_ms": ...}]}
Diagnostics (BLAS in use, torch.__config__.show()) go to stderr.
Op names and shapes must stay in sync with the Java benchmark.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

import torch
import torch.nn as nn

# op name -> (module factory, input shape); keep in sync with the Java side
OPS = {
    "conv3x3": (lambda: nn.Conv2d(64, 64, 3, 1, 1, bias=False), (8, 64, 56, 56)),
    "conv1x1": (lambda: nn.Conv2d(256, 64, 1, bias=False), (8, 256, 56, 56)),
    "batchnorm2d_train": (lambda: nn.BatchNorm2d(64).train(), (8, 64, 56, 56)),
    "layernorm": (lambda: nn.LayerNorm(768, eps=1e-6), (8, 197, 768)),
    "linear": (lambda: nn.Linear(768, 3072), (8 * 197, 768)),
}


def blas_report():
    """Check libopenblas0-openmp is installed and report which BLAS shared
    objects this process actually has mapped (after running a matmul)."""
    try:
        st = subprocess.run(["dpkg-query", "-W", "-f=${Status} ${Version}", "libopenblas0-openmp"],
                            capture_output=True, text=True).stdout.strip()
    except OSError:
        st = "dpkg-query unavailable"
    if not st.startswith("install ok installed"):
        print("WARNING: libopenblas0-openmp is not installed (%r); BLAS timings "
              "will not be comparable" % st, file=sys.stderr)
    a = torch.randn(64, 64)
    (a @ a).sum().item()
    libs = set()
    try:
        with open("/proc/self/maps") as f:
            for line in f:
                path = line.split()[-1] if len(line.split()) >= 6 else ""
                base = os.path.basename(path)
                if any(s in base for s in ("blas", "lapack", "mkl", "dnnl", "gomp", "omp")):
                    libs.add(os.path.realpath(path))
    except OSError:
        pass
    print("libopenblas0-openmp: %s" % (st or "not installed"), file=sys.stderr)
    print("mapped BLAS/OpenMP libs:\n  " + "\n  ".join(sorted(libs)), file=sys.stderr)
    print(torch.__config__.show(), file=sys.stderr)
    print(torch.__config__.parallel_info(), file=sys.stderr)
    blas = [p for p in sorted(libs) if "blas" in os.path.basename(p)]
    return dict(libopenblas0_openmp=st or "not installed", blas_libs=blas)


def time_it(fn, warmup, reps):
    for _ in range(warmup):
        fn()
    ts = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        ts.append((time.perf_counter() - t0) * 1e3)
    return dict(median_ms=round(statistics.median(ts), 3),
                min_ms=round(min(ts), 3), max_ms=round(max(ts), 3))


def bench_op(name, warmup, reps):
    factory, shape = OPS[name]
    g = torch.Generator().manual_seed(0)
    m = factory()
    x = torch.randn(*shape, generator=g)
    results = []

    # forward alone (no autograd graph)
    def fwd():
        with torch.no_grad():
            m(x)
    results.append(dict(op=name, **{"pass": "fwd"}, **time_it(fwd, warmup, reps)))

    # forward + backward w.r.t. input and params, fixed upstream grad
    xg = x.clone().requires_grad_(True)
    with torch.no_grad():
        gy = torch.randn(m(x).shape, generator=g)

    def fwd_bwd():
        xg.grad = None
        m.zero_grad(set_to_none=True)
        y = m(xg)
        y.backward(gy)
    results.append(dict(op=name, **{"pass": "fwd+bwd"}, **time_it(fwd_bwd, warmup, reps)))
    return results


def main(argv=None):
    ap = argparse.ArgumentParser(description="PyTorch ops microbenchmark")
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--reps", type=int, default=10)
    ap.add_argument("--out", help="also write the JSON here")
    ap.add_argument("--only", nargs="*", choices=list(OPS), help="subset of ops")
    args = ap.parse_args(argv)

    torch.set_num_threads(args.threads)
    torch.set_default_dtype(torch.float32)
    blas = blas_report()

    results = []
    for name in (args.only or list(OPS)):
        for r in bench_op(name, args.warmup, args.reps):
            print("%-18s %-8s median %9.3f ms  (min %.3f, max %.3f)"
                  % (r["op"], r["pass"], r["median_ms"], r["min_ms"], r["max_ms"]), file=sys.stderr)
            results.append(r)

    out = dict(torch_version=torch.__version__, threads=torch.get_num_threads(),
               warmup=args.warmup, reps=args.reps, blas=blas, results=results)
    text = json.dumps(out, indent=1)
    print(text)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text + "\n")


if __name__ == "__main__":
    main()
