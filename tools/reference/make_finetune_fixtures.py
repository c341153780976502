#!/usr/bin/python3
"""PyTorch oracle for hgkd's fine-tuning tests (package io.hgkd.train.finetune).

Writes, under src-test-data/finetune/ (np.savez, uncompressed, seeded, single-threaded):

  bce.npz        timm BinaryCrossEntropy on soft targets, i.e. F.binary_cross_entropy_with_logits(x, t)
                 with reduction 'mean' over B*K: x (B, K) logits, t (B, K) targets, y (1,) loss,
                 gx (B, K) gradient of the loss.
  mixup.npz      SparK's BatchMixup (downstream_imagenet/mixup.py, itself timm's Mixup in 'batch' mode)
                 with the random draws replaced by given values, so Java can match exactly:
                   x (5, 2, 6, 7) images (odd batch: SparK prepends x[0], giving 6), labels (5,) int64,
                   K, smoothing;
                   mix_lam, mix_x, mix_t        mixup with lambda = mix_lam
                   cut_lam, cut_cy, cut_cx      cutmix with lambda = cut_lam and box centre (cy, cx)
                   cut_box (4,) int64 (yl, yh, xl, xh), cut_lam_corrected, cut_x, cut_t
                   smooth_t                     mixup_target with lam = 1 (pure label smoothing)
  bbox.npz       timm rand_bbox + area correction over a grid of (H, W, lam, cy, cx):
                 cases (N, 5) float64 [H, W, lam, cy, cx], boxes (N, 4) int64, lam_corrected (N,) float64
  ema.npz        timm ModelEmaV2 (ema = decay * ema + (1 - decay) * value for every state_dict entry,
                 copy_ back into the entry's dtype) on a Conv2d + BatchNorm2d + Linear model, decay 0.9:
                   s<i>.<key>  the model's state before update i (i = 0 is the initial copy)
                   e<i>.<key>  the EMA state after update i (i = 1..STEPS)
                 The model changes between updates by an SGD step and a train-mode forward (BN buffers,
                 including the int64 num_batches_tracked).
  layer_ids.txt  expected layer ids, one "<arch> <name> <id> <N>" a line, for every torchvision
                 resnet18/34/50/101/152 parameter: SparK's resnets_get_layer_id_and_scale_exp rule
                 (re-derived below from its description) for 50/101/152 and for 34 under the name
                 resnet34_spark; hgkd's stage rule (stem 0, layer s -> s, fc 5, N = 4) for 18/34.

Run from the repository root: /usr/bin/python3 tools/reference/make_finetune_fixtures.py [--out DIR]
"""

import argparse
import math
import os
import zlib

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

torch.set_num_threads(1)
REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DEFAULT_OUT = os.path.join(REPO_ROOT, "src-test-data", "finetune")


def seed(name):
    torch.manual_seed(zlib.crc32(name.encode()))
    return np.random.default_rng(zlib.crc32(name.encode()))


def bce(out):
    seed("bce")
    x = (torch.randn(4, 5) * 3).requires_grad_(True)
    t = torch.rand(4, 5)
    y = F.binary_cross_entropy_with_logits(x, t, reduction="mean")
    y.backward()
    np.savez(os.path.join(out, "bce.npz"), x=x.detach().numpy(), t=t.numpy(),
             y=np.array([y.item()], dtype=np.float32), gx=x.grad.numpy())


def smooth_onehot(labels, k, smoothing):
    off = smoothing / k
    on = 1.0 - smoothing + off
    t = torch.full((labels.shape[0], k), off)
    t.scatter_(1, labels.view(-1, 1), on)
    return t


def mix_target(labels, k, lam, smoothing):
    return smooth_onehot(labels, k, smoothing) * lam + smooth_onehot(labels.flip(0), k, smoothing) * (1.0 - lam)


def box(h, w, lam, cy, cx):
    ratio = np.sqrt(1 - lam)
    cut_h, cut_w = int(h * ratio), int(w * ratio)
    yl = np.clip(cy - cut_h // 2, 0, h)
    yh = np.clip(cy + cut_h // 2, 0, h)
    xl = np.clip(cx - cut_w // 2, 0, w)
    xh = np.clip(cx + cut_w // 2, 0, w)
    lam_c = 1.0 - (yh - yl) * (xh - xl) / float(h * w)
    return (int(yl), int(yh), int(xl), int(xh)), lam_c


def mixup(out):
    seed("mixup")
    k, smoothing = 4, 0.1
    x0 = torch.randn(5, 2, 6, 7)
    labels0 = torch.tensor([2, 0, 3, 3, 1])
    # SparK: an odd batch gets its first sample prepended
    x = torch.cat((x0[:1], x0), 0)
    labels = torch.cat((labels0[:1], labels0), 0)

    mix_lam = 0.8125
    mx = x.clone()
    flipped = mx.flip(0).mul_(1.0 - mix_lam)
    mx.mul_(mix_lam).add_(flipped)
    mt = mix_target(labels, k, mix_lam, smoothing)

    cut_lam, cy, cx = 0.55, 1, 5
    (yl, yh, xl, xh), lam_c = box(6, 7, cut_lam, cy, cx)
    cxx = x.clone()
    cxx[:, :, yl:yh, xl:xh] = cxx.flip(0)[:, :, yl:yh, xl:xh]
    ct = mix_target(labels, k, lam_c, smoothing)

    np.savez(os.path.join(out, "mixup.npz"), x=x0.numpy(), labels=labels0.numpy().astype(np.int64),
             K=np.array([k], dtype=np.int64), smoothing=np.array([smoothing]),
             mix_lam=np.array([mix_lam]), mix_x=mx.numpy(), mix_t=mt.numpy(),
             cut_lam=np.array([cut_lam]), cut_cy=np.array([cy], dtype=np.int64),
             cut_cx=np.array([cx], dtype=np.int64), cut_box=np.array([yl, yh, xl, xh], dtype=np.int64),
             cut_lam_corrected=np.array([lam_c]), cut_x=cxx.numpy(), cut_t=ct.numpy(),
             smooth_t=mix_target(labels, k, 1.0, smoothing).numpy())


def bbox(out):
    rng = seed("bbox")
    cases, boxes, lams = [], [], []
    for h, w in [(6, 7), (32, 32), (224, 224), (5, 9)]:
        for _ in range(12):
            lam = float(rng.uniform(0.0, 1.0))
            cy, cx = int(rng.integers(0, h)), int(rng.integers(0, w))
            b, lc = box(h, w, lam, cy, cx)
            cases.append([h, w, lam, cy, cx])
            boxes.append(b)
            lams.append(lc)
    np.savez(os.path.join(out, "bbox.npz"), cases=np.array(cases, dtype=np.float64),
             boxes=np.array(boxes, dtype=np.int64), lam_corrected=np.array(lams, dtype=np.float64))


class Tiny(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(2, 3, 3, padding=1)
        self.bn = nn.BatchNorm2d(3)
        self.fc = nn.Linear(3, 4)

    def forward(self, x):
        return self.fc(F.relu(self.bn(self.conv(x))).mean((2, 3)))


def ema(out):
    seed("ema")
    steps, decay = 4, 0.9
    model = Tiny()
    ema_state = {k: v.detach().clone() for k, v in model.state_dict().items()}  # ModelEmaV2 deep-copies
    arrays = {"decay": np.array([decay]), "steps": np.array([steps], dtype=np.int64)}
    opt = torch.optim.SGD(model.parameters(), lr=0.5)
    for i in range(steps + 1):
        for key, v in model.state_dict().items():
            arrays[f"s{i}.{key}"] = v.detach().numpy().copy()
        if i > 0:
            with torch.no_grad():
                for key, m in model.state_dict().items():
                    e = ema_state[key]
                    e.copy_(decay * e + (1.0 - decay) * m)
                    arrays[f"e{i}.{key}"] = e.numpy().copy()
        if i < steps:
            model.train()
            x = torch.randn(3, 2, 5, 5) * 2 + 1
            loss = model(x).pow(2).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            # enough batches that (1 - decay) * num_batches_tracked passes an integer before truncation
            with torch.no_grad():
                model.bn.num_batches_tracked += 7
    np.savez(os.path.join(out, "ema.npz"), **arrays)


def spark_layer_id(name, l2, l3):
    table = {(4, 6): (2, 3), (4, 23): (2, 3), (8, 36): (4, 4), (24, 36): (4, 4), (30, 48): (5, 6)}
    blk2, blk3 = table[(l2, l3)]
    n2, n3 = math.ceil(l2 / blk2 - 1e-5), math.ceil(l3 / blk3 - 1e-5)
    n = 2 + n2 + n3
    if name.startswith("layer"):
        stage, block = int(name.split(".")[0][5:]), int(name.split(".")[1])
        lid = {1: 1, 2: 2 + block // blk2, 3: 2 + n2 + block // blk3}.get(stage, n)
    elif name.startswith("fc."):
        lid = n + 1
    else:
        lid = 0
    return lid, n


def stage_layer_id(name):
    if name.startswith("layer"):
        return int(name.split(".")[0][5:]), 4
    if name.startswith("fc."):
        return 5, 4
    return 0, 4


def layer_ids(out):
    import torchvision.models as tvm
    lines = []
    for arch in ["resnet18", "resnet34", "resnet50", "resnet101", "resnet152"]:
        m = getattr(tvm, arch)()
        l2, l3 = len(m.layer2), len(m.layer3)
        for name, _ in m.named_parameters():
            if arch in ("resnet18", "resnet34"):
                lid, n = stage_layer_id(name)
                lines.append(f"{arch} {name} {lid} {n}")
            if arch != "resnet18":
                lid, n = spark_layer_id(name, l2, l3)
                tag = arch + "_spark" if arch == "resnet34" else arch
                lines.append(f"{tag} {name} {lid} {n}")
    with open(os.path.join(out, "layer_ids.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=DEFAULT_OUT)
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    for fn in (bce, mixup, bbox, ema, layer_ids):
        fn(args.out)
    print("wrote", sorted(os.listdir(args.out)))


if __name__ == "__main__":
    main()
