#!/usr/bin/python3
"""PyTorch oracle for hgkd layer parity tests.

Builds every case below in PyTorch with seeded random data, runs forward and
autograd backward with a seeded random upstream gradient, and writes one
uncompressed .npz per case to src-test-data/parity/<case>.npz, plus
src-test-data/parity/manifest.json describing each case (config, keys,
shapes, dtypes).

Run from the repository root with Debian's python (which has python3-torch):

    /usr/bin/python3 tools/reference/make_layer_fixtures.py [--out DIR] [--only CASE ...]

Key convention inside each npz (see tools/reference/README.md):
  x, y, gy, gx              input, output, upstream grad, grad wrt x
  param.<name>, grad.<name> parameters (torch names) and their gradients
  buffer_in.<name>          buffers before the forward (running stats)
  buffer.<name>             buffers after the forward
  mask                      float32 0/1 (B,1,h,w) at the coarsest grid, 1 = active
All arrays are float32 and C-contiguous unless stated (labels are int64).

Each case is seeded with torch.manual_seed(crc32(case name)), so adding or
removing a case never changes the data of another; re-running the script
reproduces the files byte for byte (same torch build, single thread).
"""

import argparse
import json
import os
import re
import sys
import zlib

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

torch.set_num_threads(1)  # single-threaded reductions -> reproducible bits
torch.set_default_dtype(torch.float32)

REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DEFAULT_OUT = os.path.join(REPO_ROOT, "src-test-data", "parity")

CASES = {}  # name -> function returning (arrays: dict, config: dict)


def case(fn):
    CASES[fn.__name__] = fn
    return fn


# --------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------

def seed_for(name):
    return zlib.crc32(name.encode("utf-8")) & 0x7FFFFFFF


def to_np(t):
    if isinstance(t, torch.Tensor):
        t = t.detach().cpu()
        a = t.numpy()
    else:
        a = np.asarray(t)
    if a.dtype == np.float64:
        a = a.astype(np.float32)
    return np.ascontiguousarray(a)


def save_npz(path, arrays):
    """Plain np.savez (uncompressed, ZIP_STORED, one <key>.npy per array).
    With Python >= 3.8 the zip entries get the fixed 1980-01-01 timestamp,
    so the files are byte-reproducible."""
    np.savez(path, **arrays)


def init_params(module):
    """Random params so affine/bias paths are exercised:
    conv/linear weight randn*0.2, bias randn*0.1;
    norm weight 1+0.1*randn, bias 0.1*randn."""
    with torch.no_grad():
        for m in module.modules():
            is_norm = isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d, nn.LayerNorm))
            w = getattr(m, "weight", None)
            b = getattr(m, "bias", None)
            if isinstance(w, nn.Parameter):
                if is_norm:
                    w.copy_(1.0 + 0.1 * torch.randn_like(w))
                else:
                    w.copy_(0.2 * torch.randn_like(w))
            if isinstance(b, nn.Parameter):
                b.copy_(0.1 * torch.randn_like(b))


def init_running_stats(module):
    """running_mean randn*0.1, running_var uniform(0.5, 1.5) for every BN."""
    with torch.no_grad():
        for m in module.modules():
            if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
                m.running_mean.copy_(0.1 * torch.randn_like(m.running_mean))
                m.running_var.copy_(0.5 + torch.rand_like(m.running_var))


def float_buffers(module):
    """running_mean / running_var (num_batches_tracked is not exported)."""
    return {n: b.detach().clone() for n, b in module.named_buffers()
            if b.is_floating_point()}


def run_module(module, x, forward=None, buffers=True):
    """Forward `module` (or `forward(x)`) on x, backward a seeded randn gy,
    and collect x, y, gy, gx, param.*, grad.*, buffer_in.*, buffer.*."""
    arrays = {}
    buf_in = float_buffers(module) if buffers else {}
    x = x.detach().clone().requires_grad_(True)
    y = forward(x) if forward is not None else module(x)
    gy = torch.randn_like(y)
    y.backward(gy)
    arrays["x"] = x
    arrays["y"] = y
    arrays["gy"] = gy
    arrays["gx"] = x.grad
    for n, p in module.named_parameters():
        arrays["param." + n] = p
        arrays["grad." + n] = p.grad
    for n, b in buf_in.items():
        arrays["buffer_in." + n] = b
    if buffers:
        for n, b in float_buffers(module).items():
            arrays["buffer." + n] = b
    return arrays


def random_mask(b, h, w, frac=0.5):
    """(b,1,h,w) float 0/1 mask with round(frac*h*w) active cells per sample
    (so always at least one active), chosen by a seeded random permutation."""
    n = h * w
    k = max(1, int(round(frac * n)))
    idx = torch.rand(b, n).argsort(dim=1)[:, :k]
    m = torch.zeros(b, n).scatter_(1, idx, 1.0)
    return m.view(b, 1, h, w)


def expand_mask(mask, H, W):
    """SparK _get_active_ex_or_ii: nearest repeat of the coarse mask to HxW."""
    return mask.repeat_interleave(H // mask.shape[2], 2).repeat_interleave(W // mask.shape[3], 3)


# --------------------------------------------------------------------------
# SparK sparse ops (keyu-tian/SparK pretrain/encoder.py), written literally
# --------------------------------------------------------------------------

class SparseCtx:
    """Holds the current coarse mask (SparK's module-level _cur_active)."""
    active = None  # (B,1,h,w) bool


def active_ex(H, W):
    return expand_mask(SparseCtx.active.float(), H, W)


def active_ii(H, W):
    return expand_mask(SparseCtx.active.float(), H, W).squeeze(1).nonzero(as_tuple=True)


class SparseConv2d(nn.Conv2d):
    # sp_conv_forward: dense conv, then out *= active mask at the output resolution
    def forward(self, x):
        out = super().forward(x)
        return out * active_ex(out.shape[2], out.shape[3])


class SparseMaxPooling(nn.MaxPool2d):
    # sp_conv_forward on nn.MaxPool2d: dense maxpool, then out *= mask
    def forward(self, x):
        out = super().forward(x)
        return out * active_ex(out.shape[2], out.shape[3])


class SparseBatchNorm2d(nn.BatchNorm1d):
    # sp_bn_forward: BatchNorm1d over the active positions of the BHWC tensor;
    # inactive outputs are exactly 0, stats use active positions only.
    def forward(self, x):
        ii = active_ii(x.shape[2], x.shape[3])
        bhwc = x.permute(0, 2, 3, 1)
        nc = bhwc[ii]
        nc = super().forward(nc)
        out = torch.zeros_like(bhwc)
        out[ii] = nc
        return out.permute(0, 3, 1, 2)


def masked_input(shape, mask):
    """x = randn * expanded mask (masked pixels are 0, as in SparK)."""
    x = torch.randn(*shape)
    return x * expand_mask(mask, shape[2], shape[3])


# --------------------------------------------------------------------------
# Conv2d: nn.Conv2d, NCHW input, weight OIHW [Cout, Cin/groups, kH, kW]
# --------------------------------------------------------------------------

def conv_case(B, cin, cout, hw, k, s, p, bias, dilation=1, groups=1):
    m = nn.Conv2d(cin, cout, k, stride=s, padding=p, dilation=dilation,
                  groups=groups, bias=bias)
    init_params(m)
    x = torch.randn(B, cin, hw, hw)
    cfg = dict(module="nn.Conv2d", in_channels=cin, out_channels=cout, kernel=k,
               stride=s, padding=p, dilation=dilation, groups=groups, bias=bias)
    return run_module(m, x, buffers=False), cfg


@case
def conv2d_k3s1p1_bias():
    # nn.Conv2d(4, 6, 3, stride=1, padding=1, bias=True)
    return conv_case(2, 4, 6, 9, 3, 1, 1, True)


@case
def conv2d_k3s2p1_nobias():
    # nn.Conv2d(4, 8, 3, stride=2, padding=1, bias=False)
    return conv_case(2, 4, 8, 10, 3, 2, 1, False)


@case
def conv2d_k1s1p0():
    # nn.Conv2d(6, 5, 1, bias=True)
    return conv_case(2, 6, 5, 7, 1, 1, 0, True)


@case
def conv2d_k7s2p3():
    # nn.Conv2d(3, 8, 7, stride=2, padding=3, bias=False) (ResNet stem)
    return conv_case(2, 3, 8, 16, 7, 2, 3, False)


@case
def conv2d_dil2():
    # nn.Conv2d(4, 4, 3, stride=1, padding=2, dilation=2, bias=True)
    return conv_case(2, 4, 4, 9, 3, 1, 2, True, dilation=2)


@case
def conv2d_groups2():
    # nn.Conv2d(4, 6, 3, stride=1, padding=1, groups=2, bias=True); weight (6,2,3,3)
    return conv_case(2, 4, 6, 8, 3, 1, 1, True, groups=2)


@case
def conv2d_k4s4():
    # nn.Conv2d(3, 6, 4, stride=4, padding=0, bias=True) (patchify stem)
    return conv_case(2, 3, 6, 16, 4, 4, 0, True)


# --------------------------------------------------------------------------
# ConvTranspose2d: nn.ConvTranspose2d, weight [Cin, Cout, kH, kW]
# --------------------------------------------------------------------------

def convt_case(B, cin, cout, hw, k, s, p, bias):
    m = nn.ConvTranspose2d(cin, cout, k, stride=s, padding=p, bias=bias)
    init_params(m)
    x = torch.randn(B, cin, hw, hw)
    cfg = dict(module="nn.ConvTranspose2d", in_channels=cin, out_channels=cout,
               kernel=k, stride=s, padding=p, output_padding=0, bias=bias)
    return run_module(m, x, buffers=False), cfg


@case
def convt_k4s2p1():
    # nn.ConvTranspose2d(6, 4, 4, stride=2, padding=1, bias=True): 5x5 -> 10x10
    return convt_case(2, 6, 4, 5, 4, 2, 1, True)


@case
def convt_k2s2p0():
    # nn.ConvTranspose2d(4, 3, 2, stride=2, padding=0, bias=False): 4x4 -> 8x8
    return convt_case(2, 4, 3, 4, 2, 2, 0, False)


@case
def convt_k3s1p1():
    # nn.ConvTranspose2d(3, 5, 3, stride=1, padding=1, bias=True): 6x6 -> 6x6
    return convt_case(2, 3, 5, 6, 3, 1, 1, True)


# --------------------------------------------------------------------------
# BatchNorm2d (momentum 0.1, eps 1e-5)
# --------------------------------------------------------------------------

def bn2d_case(train):
    m = nn.BatchNorm2d(5, eps=1e-5, momentum=0.1)
    init_params(m)
    init_running_stats(m)
    m.train(train)
    x = 1.5 * torch.randn(3, 5, 6, 6) + 0.3
    cfg = dict(module="nn.BatchNorm2d", num_features=5, eps=1e-5, momentum=0.1,
               training=train, running_var="unbiased batch var in the update")
    return run_module(m, x), cfg


@case
def bn2d_train():
    # nn.BatchNorm2d(5) in train mode: batch stats (biased var) for y,
    # running stats updated with momentum 0.1 and the unbiased batch var.
    return bn2d_case(True)


@case
def bn2d_eval():
    # nn.BatchNorm2d(5) in eval mode: normalises with buffer_in running stats.
    return bn2d_case(False)


# --------------------------------------------------------------------------
# LayerNorm / Linear
# --------------------------------------------------------------------------

@case
def layernorm():
    # nn.LayerNorm(8, eps=1e-6, elementwise_affine=True) over the last dim
    m = nn.LayerNorm(8, eps=1e-6)
    init_params(m)
    x = torch.randn(2, 5, 8) * 2 + 0.5
    return run_module(m, x, buffers=False), dict(module="nn.LayerNorm", normalized_shape=[8], eps=1e-6)


@case
def linear_3d():
    # nn.Linear(8, 6): y = x W^T + b, weight [out, in], applied to the last dim of (2,5,8)
    m = nn.Linear(8, 6, bias=True)
    init_params(m)
    x = torch.randn(2, 5, 8)
    return run_module(m, x, buffers=False), dict(module="nn.Linear", in_features=8, out_features=6, bias=True)


@case
def linear_2d_nobias():
    # nn.Linear(8, 3, bias=False) on (4,8)
    m = nn.Linear(8, 3, bias=False)
    init_params(m)
    x = torch.randn(4, 8)
    return run_module(m, x, buffers=False), dict(module="nn.Linear", in_features=8, out_features=3, bias=False)


# --------------------------------------------------------------------------
# Activations (no params)
# --------------------------------------------------------------------------

@case
def relu():
    # nn.ReLU(); gradient at exactly 0 is 0 (never hit with randn data)
    x = torch.randn(2, 3, 4, 5) * 3
    return run_module(nn.ReLU(), x, buffers=False), dict(module="nn.ReLU")


@case
def relu6():
    # nn.ReLU6(): clamp(x, 0, 6); values both > 6 and < 0 are present
    x = torch.randn(2, 3, 4, 5) * 5
    assert (x > 6).any() and (x < 0).any() and ((x > 0) & (x < 6)).any()
    return run_module(nn.ReLU6(), x, buffers=False), dict(module="nn.ReLU6")


@case
def gelu():
    # nn.GELU() exact: 0.5*x*(1+erf(x/sqrt(2))) (not the tanh approximation)
    x = torch.randn(2, 3, 4, 5) * 3
    return run_module(nn.GELU(), x, buffers=False), dict(module="nn.GELU", approximate="none")


@case
def softmax():
    # nn.Softmax(dim=-1) on (2,3,7)
    x = torch.randn(2, 3, 7) * 2
    return run_module(nn.Softmax(dim=-1), x, buffers=False), dict(module="nn.Softmax", dim=-1)


# --------------------------------------------------------------------------
# Pooling / resampling
# --------------------------------------------------------------------------

@case
def maxpool2d_k3s2p1():
    # nn.MaxPool2d(3, stride=2, padding=1) (padding acts as -inf): 9x9 -> 5x5
    x = torch.randn(2, 3, 9, 9)
    return run_module(nn.MaxPool2d(3, 2, 1), x, buffers=False), dict(module="nn.MaxPool2d", kernel=3, stride=2, padding=1)


@case
def maxpool2d_k2s2p0():
    # nn.MaxPool2d(2, stride=2): 8x8 -> 4x4
    x = torch.randn(2, 3, 8, 8)
    return run_module(nn.MaxPool2d(2, 2, 0), x, buffers=False), dict(module="nn.MaxPool2d", kernel=2, stride=2, padding=0)


@case
def global_avgpool():
    # nn.AdaptiveAvgPool2d(1) then flatten(1): (2,4,5,5) -> (2,4)
    m = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(1))
    x = torch.randn(2, 4, 5, 5)
    return run_module(m, x, buffers=False), dict(module="nn.AdaptiveAvgPool2d(1)+flatten")


@case
def upsample_nearest2():
    # F.interpolate(x, scale_factor=2, mode='nearest'): (2,3,4,4) -> (2,3,8,8);
    # backward sums each 2x2 block of gy
    x = torch.randn(2, 3, 4, 4)
    fwd = lambda t: F.interpolate(t, scale_factor=2, mode="nearest")
    return run_module(nn.Identity(), x, forward=fwd, buffers=False), dict(module="F.interpolate", scale_factor=2, mode="nearest")


# --------------------------------------------------------------------------
# Sparse ops (SparK pretrain/encoder.py semantics)
# --------------------------------------------------------------------------

def sparse_run(module, x, mask, buffers):
    SparseCtx.active = mask.bool()
    try:
        arrays = run_module(module, x, buffers=buffers)
    finally:
        SparseCtx.active = None
    arrays["mask"] = mask
    return arrays


@case
def sparse_conv_s1():
    # SparK SparseConv2d(4, 6, 3, 1, 1, bias): dense conv then out *= mask (8x8)
    mask = random_mask(2, 4, 4)
    x = masked_input((2, 4, 8, 8), mask)
    m = SparseConv2d(4, 6, 3, stride=1, padding=1, bias=True)
    init_params(m)
    return sparse_run(m, x, mask, False), dict(module="SparK SparseConv2d", in_channels=4, out_channels=6,
                                               kernel=3, stride=1, padding=1, bias=True)


@case
def sparse_conv_s2():
    # SparK SparseConv2d(4, 6, 3, 2, 1, bias): 8x8 -> 4x4, out *= the 4x4 mask
    mask = random_mask(2, 4, 4)
    x = masked_input((2, 4, 8, 8), mask)
    m = SparseConv2d(4, 6, 3, stride=2, padding=1, bias=True)
    init_params(m)
    return sparse_run(m, x, mask, False), dict(module="SparK SparseConv2d", in_channels=4, out_channels=6,
                                               kernel=3, stride=2, padding=1, bias=True)


def sparse_bn_case(train):
    mask = random_mask(2, 4, 4)
    x = masked_input((2, 5, 8, 8), mask) * 1.5 + 0.3 * expand_mask(mask, 8, 8)
    m = SparseBatchNorm2d(5, eps=1e-5, momentum=0.1)
    init_params(m)
    init_running_stats(m)
    m.train(train)
    return sparse_run(m, x, mask, True), dict(module="SparK SparseBatchNorm2d (BatchNorm1d on active BHWC rows)",
                                              num_features=5, eps=1e-5, momentum=0.1, training=train)


@case
def sparse_bn_train():
    # SparK SparseBatchNorm2d in train mode: stats over active positions only,
    # running var updated with the unbiased var of the active rows.
    return sparse_bn_case(True)


@case
def sparse_bn_eval():
    # SparK SparseBatchNorm2d in eval mode: running stats; inactive outputs 0.
    return sparse_bn_case(False)


def maxpool_has_active_ties(x, mask, k, s, p):
    """True if some active output window of maxpool(x) has a tied maximum
    (which would make the routing of the gradient implementation-defined)."""
    B, C, H, W = x.shape
    xp = F.pad(x, (p, p, p, p), value=float("-inf"))
    win = F.unfold(xp, k, stride=s)  # (B, C*k*k, L)
    win = win.view(B, C, k * k, -1)
    mx = win.max(dim=2, keepdim=True).values
    ties = (win == mx).sum(dim=2) > 1  # (B, C, L)
    Ho = (H + 2 * p - k) // s + 1
    act = expand_mask(mask, Ho, Ho).view(B, 1, -1).bool()
    return bool((ties & act).any())


@case
def sparse_maxpool():
    # SparK SparseMaxPooling(3, 2, 1): dense maxpool 8x8 -> 4x4 then out *= mask.
    # Masked input pixels are 0, so an active window whose active values are
    # all negative would have a tied max of 0; the mask is redrawn (seeded,
    # deterministic) until no active output has a tie, so gx is unambiguous.
    for _ in range(1000):
        mask = random_mask(2, 4, 4)
        x = masked_input((2, 3, 8, 8), mask)
        if not maxpool_has_active_ties(x, mask, 3, 2, 1):
            break
    else:
        raise RuntimeError("could not draw a tie-free sparse_maxpool case")
    m = SparseMaxPooling(3, stride=2, padding=1)
    return sparse_run(m, x, mask, False), dict(module="SparK SparseMaxPooling", kernel=3, stride=2, padding=1)


class SparseStack(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = SparseConv2d(3, 8, 3, stride=1, padding=1, bias=True)
        self.bn1 = SparseBatchNorm2d(8, eps=1e-5, momentum=0.1)
        self.relu = nn.ReLU()
        self.pool = SparseMaxPooling(3, stride=2, padding=1)
        self.conv2 = SparseConv2d(8, 8, 3, stride=2, padding=1, bias=False)
        self.bn2 = SparseBatchNorm2d(8, eps=1e-5, momentum=0.1)

    def forward(self, x):
        x = self.relu(self.bn1(self.conv1(x)))
        x = self.pool(x)
        return self.bn2(self.conv2(x))


@case
def sparse_stack():
    # SparK-style stem: SparseConv2d(3,8,k3,s1,p1,bias) 16x16 -> SparseBN(8) train
    # -> ReLU -> SparseMaxPooling(3,2,1) 8x8 -> SparseConv2d(8,8,k3,s2,p1,no bias) 4x4
    # -> SparseBN(8) train. Mask (2,1,4,4), repeated x4 / x2 / x1.
    # Note: the maxpool sees many exact zeros (ReLU + masked positions), so ties
    # occur, but every tied element is a ReLU output of 0 whose ReLU grad is 0
    # (PyTorch: relu'(0) = 0), so gx and all param grads are tie-independent.
    mask = random_mask(2, 4, 4)
    x = masked_input((2, 3, 16, 16), mask)
    m = SparseStack()
    init_params(m)
    init_running_stats(m)
    m.train(True)
    arrays = sparse_run(m, x, mask, True)
    return arrays, dict(module="SparK sparse stack", training=True)


# --------------------------------------------------------------------------
# MIM helpers (SparK pretrain/spark.py), no gradients
# --------------------------------------------------------------------------

@case
def patchify():
    # SparK SparK.patchify: reshape (B,C,h,p,w,p), einsum 'bchpwq->bhwpqc',
    # reshape (B, h*w, p*p*C): flat index in a patch = (py*p+px)*C + c.
    # target = SparK norm_pix_loss normalisation: (p - mean)/sqrt(var + 1e-6),
    # var = torch.var (unbiased) over the last dim.
    B, C, H, W, p = 2, 3, 64, 64, 32
    img = torch.randn(B, C, H, W)
    h, w = H // p, W // p
    t = img.reshape(B, C, h, p, w, p)
    t = torch.einsum("bchpwq->bhwpqc", t)
    patches = t.reshape(B, h * w, p * p * C)
    mean = patches.mean(dim=-1, keepdim=True)
    var = patches.var(dim=-1, keepdim=True)
    target = (patches - mean) / (var + 1e-6) ** 0.5
    # independent check of the documented flat layout
    b, n, py, px, c = 1, 3, 5, 17, 2
    assert patches[b, n, (py * p + px) * C + c] == img[b, c, (n // w) * p + py, (n % w) * p + px]
    return dict(x=img, patches=patches, target=target), dict(patch=p, layout="bchpwq->bhwpqc", var="unbiased", eps=1e-6)


@case
def mask_tokens_p16():
    # 7x7 mask (1 = visible/active) -> 14x14 token mask by nearest 2x2 replication
    # (repeat_interleave(2) on both spatial dims).
    mask = random_mask(2, 7, 7)
    tokens = mask.repeat_interleave(2, 2).repeat_interleave(2, 3)
    return dict(mask=mask, tokens=tokens), dict(grid=7, tokens=14)


@case
def mask_tokens_p14():
    # same kind of 7x7 mask -> 16x16 token mask (ViT p14 on 224): token (r,c)
    # takes mask cell (floor((r*14+7)/32), floor((c*14+7)/32)).
    # The mask is the very same as in mask_tokens_p16 (drawn with its seed).
    torch.manual_seed(seed_for("mask_tokens_p16"))
    mask = random_mask(2, 7, 7)
    idx = torch.tensor([(r * 14 + 7) // 32 for r in range(16)])
    tokens = mask[:, :, idx][:, :, :, idx]
    return dict(mask=mask, tokens=tokens), dict(grid=7, tokens=16, rule="cell=floor((r*14+7)/32)")


# --------------------------------------------------------------------------
# Losses (scalar y; gy = 1.0, loss.backward())
# --------------------------------------------------------------------------

def scalar_result(x, loss, extra):
    loss.backward()
    arrays = dict(x=x, y=loss, gy=np.float32(1.0), gx=x.grad)
    arrays.update(extra)
    return arrays


@case
def masked_mse():
    # SparK reconstruction loss: l = mean_last((pred-target)^2);
    # loss = sum(l*mask)/(sum(mask)+1e-8), mask 1 = masked (counted).
    pred = torch.randn(2, 4, 12).requires_grad_(True)
    target = torch.randn(2, 4, 12)
    mask = (torch.rand(2, 4) < 0.5).float()
    mask[0, 0] = 1.0  # at least one counted patch
    mask[1, 3] = 0.0  # at least one ignored patch
    l = ((pred - target) ** 2).mean(dim=-1)
    loss = (l * mask).sum() / (mask.sum() + 1e-8)
    return scalar_result(pred, loss, dict(target=target, mask=mask)), dict(eps=1e-8, mask="1 = masked/counted")


@case
def ce_label_smoothing():
    # F.cross_entropy(logits, labels, label_smoothing=0.1), mean reduction:
    # target = (1-0.1)*onehot + 0.1/C
    x = (torch.randn(4, 10) * 2).requires_grad_(True)
    labels = torch.randint(0, 10, (4,), dtype=torch.int64)
    loss = F.cross_entropy(x, labels, label_smoothing=0.1)
    return scalar_result(x, loss, dict(labels=labels)), dict(label_smoothing=0.1, reduction="mean")


@case
def ce_soft_targets():
    # soft-target CE: mean_b sum_c -t * log_softmax(x)
    x = (torch.randn(4, 10) * 2).requires_grad_(True)
    targets = torch.softmax(torch.randn(4, 10), dim=-1)
    loss = (-targets * F.log_softmax(x, dim=-1)).sum(dim=-1).mean()
    return scalar_result(x, loss, dict(targets=targets)), dict(reduction="mean over batch")


# --------------------------------------------------------------------------

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=DEFAULT_OUT, help="output dir (default src-test-data/parity)")
    ap.add_argument("--only", nargs="*", help="case names to (re)generate")
    args = ap.parse_args(argv)
    os.makedirs(args.out, exist_ok=True)

    names = args.only or list(CASES)
    unknown = [n for n in names if n not in CASES]
    if unknown:
        sys.exit("unknown case(s): %s" % ", ".join(unknown))

    manifest_path = os.path.join(args.out, "manifest.json")
    manifest = {}
    if args.only and os.path.exists(manifest_path):
        with open(manifest_path) as f:
            manifest = json.load(f).get("cases", {})

    for name in names:
        torch.manual_seed(seed_for(name))
        arrays, cfg = CASES[name]()
        arrays = {k: to_np(v) for k, v in arrays.items()}
        for k, a in arrays.items():
            assert a.dtype in (np.float32, np.int64), (name, k, a.dtype)
            assert np.isfinite(a).all() if a.dtype == np.float32 else True, (name, k)
        save_npz(os.path.join(args.out, name + ".npz"), arrays)
        manifest[name] = dict(
            seed=seed_for(name),
            config=cfg,
            keys={k: dict(shape=list(a.shape), dtype=str(a.dtype)) for k, a in arrays.items()},
        )
        print("%-22s %s" % (name, ", ".join("%s%s" % (k, tuple(a.shape)) for k, a in arrays.items())))

    text = json.dumps(dict(generator="tools/reference/make_layer_fixtures.py",
                           torch_version=torch.__version__,
                           cases={k: manifest[k] for k in sorted(manifest)}), indent=1)
    # keep number lists (shapes) on one line
    text = re.sub(r"\[[\s\d,]*\]", lambda mo: re.sub(r"\s+", "", mo.group(0)).replace(",", ", "), text)
    with open(manifest_path, "w") as f:
        f.write(text + "\n")


if __name__ == "__main__":
    main()
