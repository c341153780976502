#!/usr/bin/python3
"""PyTorch oracle for hgkd optimizer, schedule, parameter-group and clipping tests.

Writes src-test-data/optim/<case>.npz plus src-test-data/optim/manifest.json:

  adamw           torch.optim.AdamW, two groups with different lr and weight decay
  sgd_nesterov    torch.optim.SGD(momentum=0.9, nesterov=True, weight_decay=...)
  sgd_momentum    torch.optim.SGD(momentum=0.9, nesterov=False, weight_decay=...)
  lamb_pretrain   SparK's LAMB (written below), bias correction, global clip 5, always_adapt False,
                  SparK's decay/no_decay groups, SparK's per-iteration lr and cosine wd
  lamb_finetune   the same LAMB with bias_correction False, always_adapt True, max_grad_norm 1e7,
                  layer-decay groups (SparK downstream_imagenet get_param_groups), constant wd
  clip_grad_norm  torch.nn.utils.clip_grad_norm_ on grads above and below max_norm
  schedules       SparK's and MAE's warmup-cosine lr and SparK's cosine wd at every step (float64)

Run from the repository root with Debian's python (python3-torch 1.13):

    /usr/bin/python3 tools/reference/make_optim_fixtures.py [--out DIR]

Optimizer cases share one tiny "model" (PARAMS below: a 4-D conv weight, a 1-D bias, a 4-D mask_token,
a linear weight, a 1-D norm weight, a 3-D pos_embed, a linear weight without a gradient at step 0, a
zero-initialised bias and a frozen weight) and a fixed sequence of STEPS gradient sets. Keys per case:

  init.<name>              initial parameter (float32)
  grad.<name>              gradients, shape (STEPS, *shape) (float32; rows where has_grad is 0 are unused)
  has_grad                 (STEPS, len(PARAM_NAMES)) float32 0/1: 0 means p.grad is None at that step
  lr, wd                   (STEPS,) float64 base lr / base weight decay set before each step; each group
                           gets base * its lr_scale / weight_decay_scale (SparK's lr_wd_annealing)
  param.<name>             parameter after each step, shape (STEPS, *shape)
  state.<name>.<key>       final optimizer state (exp_avg, exp_avg_sq, step, momentum_buffer)
  group_step               (only LAMB) final per-group step counts, in group order
  global_grad_norm         (only LAMB) (STEPS,) float32 global gradient norm before clipping

The group structure (names, members, scales) and each case's hyperparameters are in manifest.json.
Everything is seeded with torch.manual_seed(crc32(case name)) and single-threaded, so re-running the
script gives byte-identical files with the same torch build.
"""

import argparse
import json
import math
import os
import re
import zlib

import numpy as np
import torch

torch.set_num_threads(1)
torch.set_default_dtype(torch.float32)

REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DEFAULT_OUT = os.path.join(REPO_ROOT, "src-test-data", "optim")

STEPS = 5
# (name, shape, init) in registration order; init: "randn" (x0.5), "norm" (1 + 0.1 randn), "zeros"
PARAMS = [
    ("stem.conv.weight", (4, 3, 3, 3), "randn"),  # decay
    ("stem.conv.bias", (4,), "randn"),  # no_decay: 1-D and .bias
    ("mask_token", (1, 4, 1, 1), "randn"),  # no_decay: name contains mask_token (4-D)
    ("blocks.0.fc.weight", (6, 4), "randn"),  # decay
    ("blocks.0.norm.weight", (4,), "norm"),  # no_decay: 1-D
    ("pos_embed", (1, 3, 4), "randn"),  # no_decay: name contains pos_embed (3-D)
    ("head.weight", (5, 6), "randn"),  # decay; p.grad is None at step 0 (lazy state)
    ("head.bias", (5,), "zeros"),  # no_decay; ||p|| = 0 at the first step (trust ratio 1)
    ("frozen.weight", (2, 2), "randn"),  # requires_grad False: in no group
]
PARAM_NAMES = [n for n, _, _ in PARAMS]
FROZEN = {"frozen.weight"}
NO_GRAD_AT = {("head.weight", 0)}
SPARK_NOWD_KEYS = ("cls_token", "pos_embed", "mask_token", "gamma")

# layer ids for the layer-decay case (a stand-in for a model's get_layer_id_and_scale_exp)
NUM_LAYERS = 1


def layer_id(name):
    if name.startswith("blocks."):
        return 1
    if name.startswith("head."):
        return 2
    return 0  # stem, mask_token, pos_embed


def seed_for(name):
    return zlib.crc32(name.encode("utf-8")) & 0x7FFFFFFF


# --------------------------------------------------------------------------
# model, gradients, groups
# --------------------------------------------------------------------------

def make_params():
    params = {}
    for name, shape, init in PARAMS:
        if init == "randn":
            t = 0.5 * torch.randn(*shape)
        elif init == "norm":
            t = 1.0 + 0.1 * torch.randn(*shape)
        else:
            t = torch.zeros(*shape)
        params[name] = torch.nn.Parameter(t, requires_grad=name not in FROZEN)
    return params


def make_grads(scales):
    """Per step: randn gradients rescaled so that their global L2 norm is scales[step]."""
    grads = []
    for s in range(STEPS):
        g = {n: torch.randn(*shape) for n, shape, _ in PARAMS if n not in FROZEN}
        for n in list(g):
            if (n, s) in NO_GRAD_AT:
                del g[n]
        norm = math.sqrt(sum(float(t.double().pow(2).sum()) for t in g.values()))
        grads.append({n: (t.double() * (scales[s] / norm)).float() for n, t in g.items()})
    return grads


def spark_param_groups(params, lr_decay=None):
    """SparK's get_param_groups (pretrain/utils/lr_control.py and downstream_imagenet/lr_decay.py at
    keyu-tian/SparK main): skip frozen; 'no_decay' (wd scale 0) for ndim == 1, '.bias' or a no-wd key,
    else 'decay'; with layer decay (0 < lr_decay < 1) the group is f'layer{id}_' + that name and
    lr_scale = lr_decay ** (NUM_LAYERS + 1 - id). Groups in order of first appearance."""
    groups = {}
    for name, p in params.items():
        if not p.requires_grad:
            continue
        if p.ndim == 1 or name.endswith(".bias") or any(k in name for k in SPARK_NOWD_KEYS):
            wd_scale, gname = 0.0, "no_decay"
        else:
            wd_scale, gname = 1.0, "decay"
        lr_scale = 1.0
        if lr_decay is not None:
            lid = layer_id(name)
            gname = "layer%d_%s" % (lid, gname)
            lr_scale = lr_decay ** (NUM_LAYERS + 1 - lid)
        if gname not in groups:
            groups[gname] = dict(name=gname, params=[], names=[], lr_scale=lr_scale, weight_decay_scale=wd_scale)
        groups[gname]["params"].append(p)
        groups[gname]["names"].append(name)
    return list(groups.values())


def torch_groups(groups, base_lr, base_wd):
    return [dict(params=g["params"], lr=base_lr * g["lr_scale"], weight_decay=base_wd * g["weight_decay_scale"])
            for g in groups]


def set_lr_wd(optimizer, groups, lr, wd):
    """SparK lr_wd_annealing's assignment: group lr = lr * lr_scale, group wd = wd * weight_decay_scale."""
    for pg, g in zip(optimizer.param_groups, groups):
        pg["lr"] = lr * g["lr_scale"]
        pg["weight_decay"] = wd * g["weight_decay_scale"]


# --------------------------------------------------------------------------
# schedules (SparK pretrain/utils/lr_control.py lr_wd_annealing; MAE util/lr_sched.py)
# --------------------------------------------------------------------------

def spark_lr(t, peak, warmup, total):
    if t < warmup:
        return 0.005 * peak + 0.995 * peak * t / warmup
    ratio = (t - warmup) / (total - 1 - warmup)
    return 0.001 * peak + 0.999 * peak * (0.5 + 0.5 * math.cos(math.pi * ratio))


def spark_wd(t, wd, wd_end, total):
    ratio = t / (total - 1)
    return wd_end + (wd - wd_end) * (0.5 + 0.5 * math.cos(math.pi * ratio))


def mae_lr(t, peak, min_lr, warmup, total):
    # MAE evaluates this with a fractional epoch (it / iters_per_epoch + epoch); here t counts iterations
    if t < warmup:
        return peak * t / warmup
    return min_lr + (peak - min_lr) * 0.5 * (1.0 + math.cos(math.pi * (t - warmup) / (total - warmup)))


# --------------------------------------------------------------------------
# LAMB as in SparK pretrain/utils/lamb.py, which is timm v0.5.4 timm/optim/lamb.py
# (class TheSameAsTimmLAMB). Written here from reading that file; same order of float32 ops:
#   g_norm = sqrt(sum over all params with a grad of sum(g^2))          (one float32 accumulator)
#   clip = 1 / (g_norm / max_grad_norm if g_norm > max_grad_norm else 1) (float32)
#   per group: step += 1; bc1 = 1 - b1^step, bc2 = 1 - b2^step (both 1 without bias correction)
#   per param with a grad: g *= clip (in place on p.grad, as SparK does)
#     m = m * b1 + (1 - b1) g;  v = v * b2 + (1 - b2) g g
#     update = (m / bc1) / (sqrt(v) / sqrt(bc2) + eps)
#     if wd != 0: update += wd p
#     if wd != 0 or always_adapt: update *= (||p|| / ||update|| if both > 0 else 1)
#     p -= lr update
# grad_averaging True and trust_clip False (timm's defaults, used by SparK) are fixed.
# --------------------------------------------------------------------------

class SparkLamb(torch.optim.Optimizer):
    def __init__(self, params, lr, betas, eps, weight_decay, bias_correction, max_grad_norm, always_adapt):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                                      bias_correction=bias_correction, always_adapt=always_adapt))
        self.max_grad_norm = max_grad_norm
        self.global_grad_norm = None

    @torch.no_grad()
    def step(self):
        acc = torch.zeros(1)
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is not None:
                    acc.add_(p.grad.pow(2).sum())
        norm = torch.sqrt(acc)
        self.global_grad_norm = norm.item()
        max_norm = torch.tensor(self.max_grad_norm)
        clip = 1 / torch.where(norm > max_norm, norm / max_norm, torch.tensor(1.0))

        for group in self.param_groups:
            beta1, beta2 = group["betas"]
            group["step"] = group.get("step", 0) + 1
            if group["bias_correction"]:
                bc1, bc2 = 1 - beta1 ** group["step"], 1 - beta2 ** group["step"]
            else:
                bc1, bc2 = 1.0, 1.0
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = p.grad.mul_(clip)
                st = self.state[p]
                if not st:
                    st["exp_avg"] = torch.zeros_like(p)
                    st["exp_avg_sq"] = torch.zeros_like(p)
                m, v = st["exp_avg"], st["exp_avg_sq"]
                m.mul_(beta1).add_(g, alpha=1 - beta1)
                v.mul_(beta2).addcmul_(g, g, value=1 - beta2)
                update = (m / bc1).div_((v.sqrt() / math.sqrt(bc2)).add_(group["eps"]))
                wd = group["weight_decay"]
                if wd != 0:
                    update.add_(p, alpha=wd)
                if wd != 0 or group["always_adapt"]:
                    w_norm, u_norm = p.norm(2.0), update.norm(2.0)
                    one = torch.tensor(1.0)
                    trust = torch.where(w_norm > 0, torch.where(u_norm > 0, w_norm / u_norm, one), one)
                    update.mul_(trust)
                p.add_(update, alpha=-group["lr"])


# --------------------------------------------------------------------------
# running an optimizer over the gradient sequence
# --------------------------------------------------------------------------

def run(params, groups, optimizer, grads, lrs, wds):
    """Steps `optimizer` over `grads`, setting lr/wd per step; returns arrays with the trajectory."""
    traj = {n: [] for n in PARAM_NAMES}
    norms = []
    for s in range(STEPS):
        set_lr_wd(optimizer, groups, lrs[s], wds[s])
        for n, p in params.items():
            p.grad = grads[s][n].clone() if n in grads[s] else None
        optimizer.step()
        if isinstance(optimizer, SparkLamb):
            norms.append(optimizer.global_grad_norm)
        for n, p in params.items():
            traj[n].append(p.detach().clone())
    arrays = {}
    for n, p in params.items():
        arrays["param." + n] = torch.stack(traj[n])
    name_of = {id(p): n for n, p in params.items()}
    for p, st in optimizer.state.items():
        for k, v in st.items():
            if k == "step":  # torch keeps AdamW's step as a float tensor; written as a 0-d int64
                v = np.int64(int(v.item()) if torch.is_tensor(v) else v)
            arrays["state.%s.%s" % (name_of[id(p)], k)] = v
    if isinstance(optimizer, SparkLamb):
        arrays["group_step"] = np.array([pg["step"] for pg in optimizer.param_groups], dtype=np.int64)
        arrays["global_grad_norm"] = np.array(norms, dtype=np.float32)
    return arrays


def base_arrays(init, grads, lrs, wds):
    arrays = {"init." + n: t for n, t in init.items()}
    for n in PARAM_NAMES:
        if n in FROZEN:
            continue
        shape = init[n].shape
        arrays["grad." + n] = torch.stack([grads[s].get(n, torch.zeros(shape)) for s in range(STEPS)])
    arrays["has_grad"] = np.array([[1.0 if n in grads[s] else 0.0 for n in PARAM_NAMES] for s in range(STEPS)],
                                  dtype=np.float32)
    arrays["lr"] = np.array(lrs, dtype=np.float64)
    arrays["wd"] = np.array(wds, dtype=np.float64)
    return arrays


def optimizer_case(make_optimizer, grad_scales, lrs, wds, lr_decay=None, explicit_groups=None):
    params = make_params()
    init = {n: p.detach().clone() for n, p in params.items()}
    grads = make_grads(grad_scales)
    groups = explicit_groups(params) if explicit_groups else spark_param_groups(params, lr_decay)
    optimizer = make_optimizer(torch_groups(groups, lrs[0], wds[0]))
    arrays = base_arrays(init, grads, lrs, wds)
    arrays.update(run(params, groups, optimizer, grads, lrs, wds))
    group_info = [dict(name=g["name"], params=g["names"], lr_scale=g["lr_scale"],
                       weight_decay_scale=g["weight_decay_scale"]) for g in groups]
    return arrays, group_info


CASES = {}


def case(fn):
    CASES[fn.__name__] = fn
    return fn


def two_groups(params):
    """AdamW case: SparK's decay/no_decay split, but the second group has its own lr and a non-zero wd."""
    groups = spark_param_groups(params)
    assert [g["name"] for g in groups] == ["decay", "no_decay"]
    groups[1]["lr_scale"] = 0.5
    groups[1]["weight_decay_scale"] = 0.1
    return groups


@case
def adamw():
    cfg = dict(betas=[0.9, 0.999], eps=1e-8)
    lrs = [spark_lr(t, 1e-2, 2, STEPS) for t in range(STEPS)]
    wds = [0.05, 0.1, 0.2, 0.3, 0.3]  # changes per step, like a wd schedule
    arrays, groups = optimizer_case(
        lambda g: torch.optim.AdamW(g, betas=tuple(cfg["betas"]), eps=cfg["eps"]),
        [1.0, 0.5, 2.0, 0.1, 1.5], lrs, wds, explicit_groups=two_groups)
    return arrays, dict(cfg, groups=groups)


def sgd_case(nesterov):
    cfg = dict(momentum=0.9, nesterov=nesterov, dampening=0.0)
    lrs = [spark_lr(t, 0.1, 2, STEPS) for t in range(STEPS)]
    wds = [1e-2] * STEPS
    arrays, groups = optimizer_case(
        lambda g: torch.optim.SGD(g, lr=lrs[0], momentum=0.9, nesterov=nesterov),
        [1.0, 0.5, 2.0, 0.1, 1.5], lrs, wds)
    return arrays, dict(cfg, groups=groups)


@case
def sgd_nesterov():
    return sgd_case(True)


@case
def sgd_momentum():
    return sgd_case(False)


@case
def lamb_pretrain():
    # SparK pretraining: betas (0.9, 0.95), eps 1e-6, clip 5 inside LAMB; steps 0, 2 and 4 exceed it
    cfg = dict(betas=[0.9, 0.95], eps=1e-6, bias_correction=True, max_grad_norm=5.0, always_adapt=False)
    total, warmup = STEPS, 2
    lrs = [spark_lr(t, 0.05, warmup, total) for t in range(STEPS)]
    wds = [spark_wd(t, 0.04, 0.2, total) for t in range(STEPS)]
    arrays, groups = optimizer_case(
        lambda g: SparkLamb(g, lrs[0], tuple(cfg["betas"]), cfg["eps"], wds[0], True, 5.0, False),
        [8.0, 3.0, 12.0, 1.0, 6.0], lrs, wds)
    assert sum(n > 5.0 for n in arrays["global_grad_norm"]) == 3
    return arrays, dict(cfg, groups=groups)


@case
def lamb_finetune():
    # SparK downstream_imagenet for ResNets: timm Lamb(bias_correction=False, always_adapt=True,
    # max_grad_norm=1e7), betas (0.9, 0.999), eps 1e-6, layer decay 0.7, constant wd
    cfg = dict(betas=[0.9, 0.999], eps=1e-6, bias_correction=False, max_grad_norm=1e7, always_adapt=True,
               lr_decay=0.7, num_layers=NUM_LAYERS)
    lrs = [spark_lr(t, 0.02, 2, STEPS) for t in range(STEPS)]
    wds = [0.02] * STEPS
    arrays, groups = optimizer_case(
        lambda g: SparkLamb(g, lrs[0], tuple(cfg["betas"]), cfg["eps"], wds[0], False, 1e7, True),
        [8.0, 3.0, 12.0, 1.0, 6.0], lrs, wds, lr_decay=0.7)
    return arrays, dict(cfg, groups=groups)


@case
def clip_grad_norm():
    # two independent calls: total norm above max_norm (scaled by max/(norm+1e-6)) and below (factor 1)
    arrays = {}
    for tag, target in (("above", 3.0), ("below", 0.5)):
        grads = [torch.randn(4, 3, 3, 3), torch.randn(4), torch.randn(5, 6)]
        norm = math.sqrt(sum(float(g.double().pow(2).sum()) for g in grads))
        grads = [(g.double() * (target / norm)).float() for g in grads]
        ps = [torch.nn.Parameter(torch.zeros_like(g)) for g in grads]
        for i, (p, g) in enumerate(zip(ps, grads)):
            p.grad = g.clone()
            arrays["%s.grad_in.%d" % (tag, i)] = g
        total = torch.nn.utils.clip_grad_norm_(ps, max_norm=1.0)
        arrays["%s.total_norm" % tag] = np.array(total.item(), dtype=np.float32)
        for i, p in enumerate(ps):
            arrays["%s.grad_out.%d" % (tag, i)] = p.grad
    return arrays, dict(max_norm=1.0, tensors=3)


@case
def schedules():
    total, warmup = 100, 10
    arrays = {
        "spark_lr": [spark_lr(t, 3.2e-3, warmup, total) for t in range(total)],
        "spark_lr_nowarmup": [spark_lr(t, 3.2e-3, 0, total) for t in range(total)],
        "mae_lr": [mae_lr(t, 1.5e-4, 1e-6, warmup, total) for t in range(total)],
        "mae_lr_nowarmup": [mae_lr(t, 1.5e-4, 0.0, 0, total) for t in range(total)],
        "cosine_wd": [spark_wd(t, 0.04, 0.2, total) for t in range(total)],
    }
    arrays = {k: np.array(v, dtype=np.float64) for k, v in arrays.items()}
    return arrays, dict(total=total, warmup=warmup, spark_peak=3.2e-3, mae_peak=1.5e-4, mae_min=1e-6,
                        wd=0.04, wd_end=0.2)


# --------------------------------------------------------------------------

def to_np(v):
    if torch.is_tensor(v):
        v = v.detach().cpu().numpy()
    a = np.asarray(v)
    return a if a.ndim == 0 else np.ascontiguousarray(a)  # ascontiguousarray would make a 0-d array 1-d


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=DEFAULT_OUT)
    args = ap.parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    manifest = {}
    for name, fn in CASES.items():
        torch.manual_seed(seed_for(name))
        arrays, cfg = fn()
        arrays = {k: to_np(v) for k, v in arrays.items()}
        for k, a in arrays.items():
            assert a.dtype in (np.float32, np.float64, np.int64), (name, k, a.dtype)
            assert np.isfinite(a).all(), (name, k)
        np.savez(os.path.join(args.out, name + ".npz"), **arrays)
        manifest[name] = dict(seed=seed_for(name), config=cfg,
                              keys={k: "%s%s" % (a.dtype, list(a.shape)) for k, a in arrays.items()})
        print("%-15s %d arrays" % (name, len(arrays)))
    text = json.dumps(dict(generator="tools/reference/make_optim_fixtures.py", torch_version=torch.__version__,
                           steps=STEPS, param_names=PARAM_NAMES, frozen=sorted(FROZEN), cases=manifest), indent=1)
    text = re.sub(r"\[[\s\d,]*\]", lambda mo: re.sub(r"\s+", "", mo.group(0)).replace(",", ", "), text)
    with open(os.path.join(args.out, "manifest.json"), "w") as f:
        f.write(text + "\n")


if __name__ == "__main__":
    main()
