#!/usr/bin/python3
"""PyTorch twin of io.hgkd.examples.bench.StepBenchmark: one training-step row per process.

    /usr/bin/python3 tools/bench/step_bench.py --row NAME [--threads N] [--warmup 2] [--steps 8]
        [--inputs FILE.npz] [--out FILE.json]

Rows (same names, shapes, masks and optimizers as the Java side; see ROWS):
  hgkd_r50_vitb  H-GKD step: sparse ResNet-50 SparK student (LightDecoder 768, feature head) + frozen ViT-B/16
                 teacher forward (no grad), 224 px, batch 8, mask 0.6, L_feat + L_sim (queue 65536), SparK's LAMB
  hgkd_r18_vits  the same with ResNet-18 and ViT-S/16 (D_t 384)
  finetune_r50   dense torchvision ResNet-50 (zero_init_residual, as timm), 224 px, batch 8, cross-entropy (label smoothing 0.1), AdamW
  mae_vitb       MAE ViT-B/16 (decoder 512 wide, 8 blocks), 224 px, batch 8, mask 0.75, AdamW (0.9, 0.95)
  hgkd_fmnist    the H-GKD step of hgkd-examples/.../configs/distill-fashion-mnist.json (batch 128, 32 px)
  mae_fmnist     the MAE step of configs/pretrain-teacher-fashion-mnist.json (batch 128, 32 px)
  finetune_fmnist  the fine-tuning step of configs/finetune-fashion-mnist.json at width 32 (docs/results.md's
                 students; batch 128, 32 px, 10 classes), drop path off on both sides
  teacher_vitb   frozen ViT-B/16 forward alone, batch 8, torch.no_grad()

The models are the plain-PyTorch references of tools/reference/ (the parity oracle): timm's ViT and MAE's
MaskedAutoencoderViT (make_vit_fixtures.py), SparK's sparse encoder (dense conv then `*= mask`; BatchNorm1d over the
gathered active positions), densify step and LightDecoder (make_resnet_fixtures.py), SparK's LAMB
(make_optim_fixtures.py), torchvision's resnet50 for fine-tuning. The H-GKD losses are docs/method.md's formulas as
make_distill_fixtures.py writes them. --inputs is the .npz the Java side wrote (images, labels, per-step SparK masks
or MAE noise), so both sides see the same data; without it the inputs are drawn here (and the JSON says so).

A timed step is zero_grad(set_to_none=True), forward, loss, backward and optimizer.step(). Prints one JSON object
(also to --out) in the shape the Java side writes: raw step times in ms, first/last loss, trainable parameter count,
RSS after warmup and at the end, peak RSS (VmHWM).
"""

import argparse
import json
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(REPO, "tools", "reference"))
import make_optim_fixtures as ref_optim  # noqa: E402
import make_resnet_fixtures as ref_resnet  # noqa: E402
import make_vit_fixtures as ref_vit  # noqa: E402

sys.path.insert(0, HERE)
from ops_bench import blas_report  # noqa: E402

CONFIGS = os.path.join(REPO, "hgkd-examples", "src", "main", "resources", "configs")
ROWS = ["hgkd_r50_vitb", "hgkd_r18_vits", "finetune_r50", "mae_vitb", "hgkd_fmnist", "mae_fmnist", "finetune_fmnist",
        "teacher_vitb"]
FMNIST_STUDENT_WIDTH = 32  # StepBenchmark.FMNIST_STUDENT_WIDTH
QUEUE_SIZE = 65536  # DistillConfig.DEFAULT_QUEUE_SIZE


def read_config(name):
    """The bundled run config (JSON with // comment lines, as the Java side reads it)."""
    with open(os.path.join(CONFIGS, name)) as f:
        return json.loads("\n".join(l for l in f if not l.lstrip().startswith("//")))


def proc_status_mb(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return round(int(line.split()[1]) / 1024.0, 1)
    return float("nan")


# --------------------------------------------------------------------------------------------------------------
# optimizers: SparK's parameter groups, LAMB as SparK (timm v0.5.4), AdamW as the hgkd Trainer builds it
# --------------------------------------------------------------------------------------------------------------

def make_optimizer(kind, model, lr, wd):
    groups = ref_optim.spark_param_groups(dict(model.named_parameters()))
    tg = ref_optim.torch_groups(groups, lr, wd)
    if kind == "LAMB":
        return ref_optim.SparkLamb(tg, lr=lr, betas=(0.9, 0.95), eps=1e-6, weight_decay=wd, bias_correction=True,
                                   max_grad_norm=5.0, always_adapt=False)
    if kind == "ADAMW":
        return torch.optim.AdamW(tg, lr=lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=wd)
    if kind == "ADAMW_MAE":
        return torch.optim.AdamW(tg, lr=lr, betas=(0.9, 0.95), eps=1e-8, weight_decay=wd)
    raise ValueError(kind)


def trainable(model):
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


# --------------------------------------------------------------------------------------------------------------
# H-GKD: teacher targets, student, L_feat (MSE on masked tokens) + L_sim (Pearson over the queue), queue update
# --------------------------------------------------------------------------------------------------------------

def vit_from_config(c):
    """The tools/reference timm ViT for a hgkd VitConfig JSON object."""
    assert c["classToken"] and c["globalPool"] == "TOKEN", c
    m = ref_vit.VisionTransformer(c["imgSize"], c["patchSize"], c["inChans"], c["embedDim"], c["depth"],
                                  c["numHeads"], c["mlpRatio"], num_classes=c["numClasses"], global_pool="token",
                                  class_token=True, sincos=c["posEmbed"] == "SINCOS", eps=c["lnEps"])
    return m


def resnet_from_config(c):
    block = ref_resnet.BasicBlock if c["block"] == "BASIC" else ref_resnet.Bottleneck
    return ref_resnet.TimmResNet(block, tuple(c["layers"]), in_chans=c["inChans"], num_classes=c.get("numClasses", 0),
                                 small_stem=c["stem"] == "SMALL", base_width=c["baseWidth"])


def hgkd_row(teacher_cfg, student_cfg, loss_cfg, mask_ratio, batch, trainer, inputs, total):
    assert loss_cfg["featureLoss"] == "MSE" and loss_cfg["positions"] == "MASKED" and loss_cfg["teacherBlock"] == -1
    assert loss_cfg["normalizeTargets"] and loss_cfg["simTemperature"] == 0 and loss_cfg["pixWeight"] == 0
    teacher = vit_from_config(teacher_cfg).eval()
    teacher.requires_grad_(False)
    cnn = resnet_from_config(student_cfg["encoder"])
    student = ref_resnet.Student(cnn, student_cfg["decoderWidth"], student_cfg["encoder"]["inChans"],
                                 student_cfg["pixelHead"], student_cfg["teacherPatch"], student_cfg["teacherDim"])
    student.train()
    size = student_cfg["inputSize"]
    grid = size // cnn.downsample_ratio
    tgrid = size // student_cfg["teacherPatch"]
    d_t = student_cfg["teacherDim"]
    feat_w, sim_w = loss_cfg["featWeight"], loss_cfg["simWeight"] if loss_cfg["simEnabled"] else 0.0
    eps = loss_cfg["targetEps"]
    opt = make_optimizer(trainer["optimizer"], student, trainer["baseLr"] * batch / 256.0, trainer["weightDecay"])

    images = inputs.get("images")
    if images is None:
        images = torch.randn(batch, student_cfg["encoder"]["inChans"], size, size)
    masks = inputs.get("masks")
    if masks is None:
        keep = round(grid * grid * (1 - mask_ratio))
        idx = torch.rand(total, batch, grid * grid).argsort(dim=2)[..., :keep]
        masks = torch.zeros(total, batch, grid * grid).scatter_(2, idx, 1.0).view(total, batch, 1, grid, grid)
    active = [m.bool() for m in masks]  # (B, 1, g, g), 1 = visible
    up = tgrid // grid
    # 1 = masked token on the teacher grid (TokenMask.masked)
    masked_tok = [(1.0 - m.float().repeat_interleave(up, 2).repeat_interleave(up, 3)).flatten(1) for m in masks]
    queue = F.normalize(torch.randn(loss_cfg["queueSize"], d_t), dim=1)
    ptr = [0]

    def step(i):
        opt.zero_grad(set_to_none=True)
        with torch.no_grad():
            tokens = teacher.forward_features(images)[0][:, 1:, :]        # final norm, cls dropped
            target = F.layer_norm(tokens, (d_t,), eps=eps)                  # LN without affine
            zt = F.normalize(tokens.mean(1), dim=1)
        _, s = student(images, active[i])                                   # (B, D_t, G, G)
        s_tok = s.flatten(2).transpose(1, 2)
        m = masked_tok[i]
        l_feat = (((s_tok - target) ** 2).mean(-1) * m).sum() / (m.sum() + 1e-8)
        loss = feat_w * l_feat
        if sim_w > 0:
            zs = F.normalize(s.mean(dim=(2, 3)), dim=1)
            a_s, a_t = zs @ queue.T, zt @ queue.T
            a_s = a_s - a_s.mean(-1, keepdim=True)
            a_t = a_t - a_t.mean(-1, keepdim=True)
            r = (a_s * a_t).sum(-1) / (a_s.norm(dim=-1) * a_t.norm(dim=-1) + 1e-8)
            loss = loss + sim_w * (1 - r).mean()
        loss.backward()
        opt.step()
        with torch.no_grad():  # enqueue z_t (FIFO ring)
            b, k = zt.shape[0], queue.shape[0]
            idx = (torch.arange(b) + ptr[0]) % k
            queue[idx] = zt
            ptr[0] = (ptr[0] + b) % k
        return loss.item()

    return step, trainable(student), images is inputs.get("images")


def spark_teacher(dim, depth, heads):
    return dict(imgSize=224, patchSize=16, inChans=3, embedDim=dim, depth=depth, numHeads=heads, mlpRatio=4.0,
                numClasses=0, globalPool="TOKEN", classToken=True, posEmbed="LEARNED", lnEps=1e-6)


def spark_student(block, layers, teacher_dim):
    return dict(encoder=dict(block=block, layers=layers, inChans=3, stem="IMAGENET", baseWidth=64), inputSize=224,
                decoderWidth=768, pixelHead=False, teacherPatch=16, teacherDim=teacher_dim)


DEFAULT_LOSS = dict(teacherBlock=-1, normalizeTargets=True, targetEps=1e-6, featureLoss="MSE", positions="MASKED",
                    featWeight=1.0, simWeight=1.0, pixWeight=0.0, simEnabled=True, queueSize=QUEUE_SIZE,
                    simTemperature=0.0)
SPARK_TRAINER = dict(optimizer="LAMB", baseLr=2e-4, weightDecay=0.04)  # TrainerConfig.sparkPretrain


def finetune_row(inputs, total, model=None, batch=8, size=224, classes=1000):
    # zero_init_residual: the last BN of each block starts at 0, as in hgkd's (timm's) ResNet; with torchvision's default
    # init the loss on the fixed batch falls 7.3 -> 1.3 in 12 steps on both sides, with it 7.0 -> 6.1
    if model is None:
        model = torchvision.models.resnet50(num_classes=classes, zero_init_residual=True)
    model.train()
    opt = make_optimizer("ADAMW", model, 1e-3 * batch / 256.0, 0.05)
    images = inputs.get("images", torch.randn(batch, 3, size, size))
    labels = inputs["labels"].long() if "labels" in inputs else torch.randint(0, classes, (batch,))
    ce = nn.CrossEntropyLoss(label_smoothing=0.1)

    def step(i):
        opt.zero_grad(set_to_none=True)
        loss = ce(model(images), labels)
        loss.backward()
        opt.step()
        return loss.item()

    return step, trainable(model), "images" in inputs


def mae_row(enc, dec_dim, dec_depth, dec_heads, mask_ratio, batch, base_lr, wd, inputs, total):
    model = ref_vit.MaskedAutoencoderViT(enc["imgSize"], enc["patchSize"], enc["inChans"], enc["embedDim"],
                                         enc["depth"], enc["numHeads"], dec_dim, dec_depth, dec_heads,
                                         enc["mlpRatio"], norm_pix_loss=True).train()
    opt = make_optimizer("ADAMW_MAE", model, base_lr * batch / 256.0, wd)
    size = enc["imgSize"]
    n = (size // enc["patchSize"]) ** 2
    images = inputs.get("images", torch.randn(batch, enc["inChans"], size, size))
    noise = inputs["noise"] if "noise" in inputs else torch.rand(total, batch, n)

    def step(i):
        opt.zero_grad(set_to_none=True)
        loss = model(images, mask_ratio, noise[i])[0]
        loss.backward()
        opt.step()
        return loss.item()

    return step, trainable(model), "images" in inputs


def teacher_row(inputs, total):
    teacher = vit_from_config(spark_teacher(768, 12, 12)).eval()
    teacher.requires_grad_(False)
    images = inputs.get("images", torch.randn(8, 3, 224, 224))

    def step(i):
        with torch.no_grad():
            return teacher.forward_features(images)[0].sum().item()

    return step, 0, "images" in inputs


def build(row, inputs, total):
    if row == "hgkd_r50_vitb":
        return 8, hgkd_row(spark_teacher(768, 12, 12), spark_student("BOTTLENECK", [3, 4, 6, 3], 768),
                           DEFAULT_LOSS, 0.6, 8, SPARK_TRAINER, inputs, total)
    if row == "hgkd_r18_vits":
        return 8, hgkd_row(spark_teacher(384, 12, 6), spark_student("BASIC", [2, 2, 2, 2], 384),
                           DEFAULT_LOSS, 0.6, 8, SPARK_TRAINER, inputs, total)
    if row == "hgkd_fmnist":
        c = read_config("distill-fashion-mnist.json")
        j = c["job"]
        b = j["data"]["batchSize"]
        return b, hgkd_row(j["teacher"], j["student"], j["loss"], j["maskRatio"], b, c["trainer"], inputs, total)
    if row == "finetune_r50":
        return 8, finetune_row(inputs, total)
    if row == "finetune_fmnist":
        c = read_config("finetune-fashion-mnist.json")
        j = c["job"]
        m = dict(j["model"], baseWidth=FMNIST_STUDENT_WIDTH)
        b = j["data"]["batchSize"]
        return b, finetune_row(inputs, total, resnet_from_config(m), b, j["data"]["imageSize"], m["numClasses"])
    if row == "mae_vitb":
        enc = spark_teacher(768, 12, 12)
        return 8, mae_row(enc, 512, 8, 16, 0.75, 8, 1.5e-4, 0.05, inputs, total)
    if row == "mae_fmnist":
        c = read_config("pretrain-teacher-fashion-mnist.json")
        m, t = c["job"]["mae"], c["trainer"]
        assert t["optimizer"] == "ADAMW_MAE" and m["normPixLoss"], (t, m)
        b = c["job"]["data"]["batchSize"]
        return b, mae_row(m["encoder"], m["decoderEmbedDim"], m["decoderDepth"], m["decoderNumHeads"],
                          m["maskRatio"], b, t["baseLr"], t["weightDecay"], inputs, total)
    if row == "teacher_vitb":
        return 8, teacher_row(inputs, total)
    raise ValueError(row)


def main(argv=None):
    ap = argparse.ArgumentParser(description="PyTorch training-step benchmark (twin of StepBenchmark)")
    ap.add_argument("--row", required=True, choices=ROWS)
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--steps", type=int, default=8)
    ap.add_argument("--inputs", help=".npz written by StepBenchmark --inputs (images, labels, masks, noise)")
    ap.add_argument("--out", help="also write the JSON here")
    ap.add_argument("--lockstep", action="store_true",
                    help="wait for a line on stdin before each step, then print 'SYNC done' (tools/bench/lockstep.py)")
    args = ap.parse_args(argv)
    if args.steps < 1 or args.warmup < 0:
        ap.error("need --steps >= 1 and --warmup >= 0")

    torch.set_num_threads(args.threads)  # the reference modules set 1 thread on import
    torch.set_default_dtype(torch.float32)
    torch.manual_seed(0)
    blas = blas_report()
    total = args.warmup + args.steps

    inputs = {}
    if args.inputs:
        with np.load(args.inputs) as z:
            inputs = {k: torch.from_numpy(np.ascontiguousarray(z[k])) for k in z.files}
        for k in ("masks", "noise"):
            if k in inputs and inputs[k].shape[0] < total:
                ap.error("%s holds %s for %d steps, fewer than warmup + steps = %d"
                         % (args.inputs, k, inputs[k].shape[0], total))
    else:
        print("WARNING: no --inputs: images, masks and noise are drawn here, not the Java side's", file=sys.stderr)

    t0 = time.perf_counter()
    batch, (step, params, shared) = build(args.row, inputs, total)
    build_s = time.perf_counter() - t0
    print("%s: built in %.1f s, %d trainable parameters, inputs %s" % (args.row, build_s, params,
          args.inputs if shared else "drawn here"), file=sys.stderr)

    times, losses = [], []
    rss_warm = float("nan")
    if args.lockstep:
        print("SYNC ready", flush=True)
    for i in range(total):
        if i == args.warmup:
            rss_warm = proc_status_mb("VmRSS")
        if args.lockstep and not sys.stdin.readline():
            raise SystemExit("--lockstep: the coordinator closed standard input before step %d" % i)
        t = time.perf_counter()
        loss = step(i)
        ms = (time.perf_counter() - t) * 1e3
        if i >= args.warmup:
            times.append(round(ms, 3))
        losses.append(loss)
        print("%s step %d%s: %.1f ms, loss %.6g" % (args.row, i, " (warmup)" if i < args.warmup else "", ms, loss),
              file=sys.stderr)
        if args.lockstep:
            print("SYNC done %d %.3f" % (i, ms), flush=True)

    out = dict(row=args.row, side="pytorch", batch=batch, warmup=args.warmup, steps=args.steps, times_ms=times,
               lockstep=args.lockstep,
               loss_first=losses[0], loss_last=losses[-1], trainable_params=params, build_seconds=round(build_s, 1),
               rss_after_warmup_mb=rss_warm, rss_end_mb=proc_status_mb("VmRSS"),
               peak_rss_mb=proc_status_mb("VmHWM"), inputs=args.inputs if shared else None,
               torch_version=torch.__version__, torchvision_version=torchvision.__version__,
               threads=torch.get_num_threads(), blas=blas)
    text = json.dumps(out, indent=1)
    print(text)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text + "\n")
    if not math.isfinite(losses[-1]):
        print("ERROR: the last step's loss is not finite", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
