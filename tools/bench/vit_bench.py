"""PyTorch twin of io.hgkd.examples.bench.VitBenchmark: the same ViT workloads, shapes and timing.

    /usr/bin/python3 tools/bench/vit_bench.py [--warmup 2] [--reps 5] [--threads 2] [workload ...]

Workloads (float32, random inputs): teacher (ViT-B/16 forward_features under no_grad, 224 px, batch 8), mae-b16 (MAE
ViT-B/16 forward + backward, 224 px, batch 8, mask 0.75, norm_pix_loss), mae-fmnist (the MAE of
pretrain-teacher-fashion-mnist.json: ViT depth 12, dim 192, 3 heads, 32 px, patch 8, decoder 128 x 2 x 4 heads,
batch 128). The models are the timm/MAE re-implementations of tools/reference/make_vit_fixtures.py.
"""
import argparse
import os
import resource
import statistics
import sys
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'reference'))
from make_vit_fixtures import MaskedAutoencoderViT, VisionTransformer  # noqa: E402


def teacher():
    m = VisionTransformer(224, 16, 3, 768, 12, 12).eval()
    x = torch.rand(8, 3, 224, 224)

    def step():
        with torch.no_grad():
            m.forward_features(x)
    return step


def mae(img, patch, dim, depth, heads, ddim, ddepth, dheads, batch):
    m = MaskedAutoencoderViT(img, patch, 3, dim, depth, heads, ddim, ddepth, dheads, norm_pix_loss=True)
    x = torch.rand(batch, 3, img, img)
    n = (img // patch) ** 2

    def step():
        m.zero_grad(set_to_none=False)
        loss = m(x, 0.75, torch.rand(batch, n))[0]
        loss.backward()
    return step


WORKLOADS = {
    'teacher': teacher,
    'mae-b16': lambda: mae(224, 16, 768, 12, 12, 512, 8, 16, 8),
    'mae-fmnist': lambda: mae(32, 8, 192, 12, 3, 128, 2, 4, 128),
}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--warmup', type=int, default=2)
    ap.add_argument('--reps', type=int, default=5)
    ap.add_argument('--threads', type=int, default=os.cpu_count())
    ap.add_argument('workloads', nargs='*', default=list(WORKLOADS))
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    for w in a.workloads:
        step = WORKLOADS[w]()
        for _ in range(a.warmup):
            step()
        ms, cpu = [], []
        for _ in range(a.reps):
            c0 = time.process_time()
            t0 = time.perf_counter()
            step()
            ms.append((time.perf_counter() - t0) * 1e3)
            cpu.append((time.process_time() - c0) * 1e3)
        print(f"{w:<12s} median {statistics.median(ms):9.1f} ms  min {min(ms):9.1f}  max {max(ms):9.1f}  "
              f"cpu {statistics.median(cpu):9.1f} ms  ({a.reps} reps, {torch.get_num_threads()} threads, "
              f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB)", flush=True)


if __name__ == '__main__':
    main()
