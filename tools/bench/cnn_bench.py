#!/usr/bin/python3
"""PyTorch twin of io.hgkd.examples.bench.CnnStepBenchmark: forward + backward time of the CNN workloads.

    /usr/bin/python3 tools/bench/cnn_bench.py [--threads 2] [--warmup 2] [--reps 5] [--only CASE ...]

Cases (same shapes as the Java side): resnet50_dense (torchvision resnet50, 224, batch 8, cross-entropy),
spark_resnet50 (SparK student with the H-GKD feature head, sparse ResNet-50, 224, batch 8, mask ratio 0.6 on 7x7),
spark_small_resnet18 (small-stem ResNet-18 student of the Fashion-MNIST config, 32 px, batch 128, 4x4 grid). The
SparK student is the literal SparK code used for the parity fixtures (tools/reference/make_resnet_fixtures.py):
dense conv + mask multiply, BN1d over the gathered active positions. Each step is zero_grad + forward + backward.
"""

import argparse
import os
import statistics
import sys
import time

import torch
import torch.nn as nn
import torchvision

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "reference"))
import make_resnet_fixtures as ref  # noqa: E402


def spark_mask(batch, grid, ratio=0.6):
    keep = round(grid * grid * (1 - ratio))
    idx = torch.rand(batch, grid * grid).argsort(dim=1)[:, :keep]
    m = torch.zeros(batch, grid * grid, dtype=torch.bool)
    m.scatter_(1, idx, True)
    return m.view(batch, 1, grid, grid)


def resnet50_dense():
    model = torchvision.models.resnet50().train()
    x = torch.randn(8, 3, 224, 224)
    labels = torch.randint(0, 1000, (8,))
    loss_fn = nn.CrossEntropyLoss()

    def step():
        model.zero_grad()
        loss_fn(model(x), labels).backward()
    return step


def spark(cnn, width, pixel_head, patch, dim, size, batch):
    model = ref.Student(cnn, width, 3, pixel_head, patch, dim).train()
    x = torch.randn(batch, 3, size, size)
    mask = spark_mask(batch, size // cnn.downsample_ratio)
    gf = [None]

    def step():
        model.zero_grad()
        _, feats = model(x, mask)
        if gf[0] is None:
            gf[0] = torch.randn_like(feats)
        feats.backward(gf[0])
    return step


CASES = {
    "resnet50_dense": resnet50_dense,
    "spark_resnet50": lambda: spark(ref.TimmResNet(ref.Bottleneck, (3, 4, 6, 3)), 768, False, 16, 768, 224, 8),
    "spark_small_resnet18": lambda: spark(ref.TimmResNet(ref.BasicBlock, (2, 2, 2, 2), small_stem=True), 256, True,
                                          8, 192, 32, 128),
}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--only", nargs="*")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)  # after the import: make_resnet_fixtures sets 1
    torch.manual_seed(0)
    for name in a.only or CASES:
        step = CASES[name]()
        for _ in range(a.warmup):
            step()
        ts = []
        cpu = []
        for _ in range(a.reps):
            c0 = time.process_time()
            t0 = time.perf_counter()
            step()
            ts.append((time.perf_counter() - t0) * 1000)
            cpu.append((time.process_time() - c0) * 1000)
        ts.sort()
        print(f"{name:22s} median {statistics.median(ts):8.1f} ms (min {ts[0]:.1f}, max {ts[-1]:.1f}) "
              f"all {[round(t) for t in ts]}, cpu median {statistics.median(cpu):.1f} ms", file=sys.stderr)
        print(f"{name} {statistics.median(ts):.1f} {ts[0]:.1f} {ts[-1]:.1f} {statistics.median(cpu):.1f}")


if __name__ == "__main__":
    main()
