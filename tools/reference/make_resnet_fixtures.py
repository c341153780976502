#!/usr/bin/python3
"""PyTorch oracle for the hgkd ResNet and SparK-student parity tests.

Builds the reference models in PyTorch (torchvision's real ResNet-18/50 classes, a minimal timm-named ResNet for
the small stem and half width, SparK's sparse encoder, densify step and LightDecoder written literally), fills
every parameter and buffer from DetRandom by name (tools/reference/detrandom.py, bit-identical to
io.hgkd.core.testing.DetRandom), runs forward and autograd backward with DetRandom inputs and upstream gradients,
and writes outputs and selected gradients to src-test-data/models/<case>.npz. No weights are committed: the Java
tests regenerate them from the names.

Run from the repository root with Debian's python (python3-torch 1.13, python3-torchvision 0.14; no timm):

    /usr/bin/python3 tools/reference/make_resnet_fixtures.py [--only CASE ...]

Weight rule (by state-dict name, see det_value): conv/linear weights U(+-sqrt(3/fan_in)) (PyTorch's fan_in =
size(1) * prod(kernel)), BN weights U(0.5, 1.5), biases U(-0.1, 0.1), running_mean U(-0.1, 0.1), running_var
U(0.5, 1.5), mask tokens U(-0.5, 0.5), num_batches_tracked 0. Inputs are DetRandom U(-2, 2) named
"<case>/x", upstream gradients U(-1, 1) named "<case>/gy..." (salt 0).

Key convention inside each npz:
  mask                 (B,1,h,w) float 0/1 grid, 1 = active (sparse cases)
  logits, feat.<i>     outputs (feat.i = stage i+1, largest first); featmean.<i> = mean over (B, H, W) per channel
  pixels, features     student outputs
  gx                   gradient w.r.t. the unmasked input
  grad.<name>          parameter gradients (torch names)
  buffer.<name>        running statistics after the forward
Tensors with more than 4096 elements are stored subsampled: the C-order flattening taken with step
n // 2048 (a 1-D array; the Java side applies the same rule, see io.hgkd.models.ModelFixtures).
<model>_keys.txt lists the model's state-dict keys in order with their shapes ("name d0,d1,..."; "name -" for a
scalar), so the Java tests can check names and build the DetRandom state dict from torchvision's own key list.
"""

import argparse
import math
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torchvision

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import detrandom  # noqa: E402

torch.set_num_threads(1)  # single-threaded reductions -> reproducible bits
REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT = os.path.join(REPO_ROOT, "src-test-data", "models")
FULL_MAX = 4096
# References are computed in float64 from the float32 DetRandom values and stored as float32, so they are exact to
# float32 rounding: the Java fp32 error is then measured against the true result, not against PyTorch's own fp32
# error (which for ResNet-50 in train mode is 0.7% on the input gradient: BN over 8 values per channel in layer4).
REF_DTYPE = torch.float64
SUB_TARGET = 2048


# --------------------------------------------------------------------------
# DetRandom weights, inputs and storage helpers
# --------------------------------------------------------------------------

def det_value(name, shape):
    """The DetRandom value of state-dict entry `name` (None: leave as is)."""
    if name.endswith("num_batches_tracked"):
        return None
    if name.endswith("running_mean"):
        return detrandom.uniform(name, shape, -0.1, 0.1)
    if name.endswith("running_var"):
        return detrandom.uniform(name, shape, 0.5, 1.5)
    if name.split(".")[-2:-1] == ["mask_tokens"] or name.startswith("mask_tokens."):
        return detrandom.uniform(name, shape, -0.5, 0.5)
    if name.endswith("weight") and len(shape) >= 2:
        fan_in = shape[1] * int(np.prod(shape[2:]))
        b = math.sqrt(3.0 / fan_in)
        return detrandom.uniform(name, shape, -b, b)
    if name.endswith("weight"):
        return detrandom.uniform(name, shape, 0.5, 1.5)
    if name.endswith("bias"):
        return detrandom.uniform(name, shape, -0.1, 0.1)
    raise ValueError("no DetRandom rule for " + name)


def det_fill(model):
    model.to(REF_DTYPE)
    with torch.no_grad():
        for name, t in model.state_dict().items():
            v = det_value(name, tuple(t.shape))
            if v is not None:
                t.copy_(torch.from_numpy(v))
    return model


def det_input(case, shape):
    return torch.from_numpy(detrandom.uniform(case + "/x", shape, -2.0, 2.0)).to(REF_DTYPE)


def det_grad(case, key, shape):
    return torch.from_numpy(detrandom.uniform(case + "/" + key, shape, -1.0, 1.0)).to(REF_DTYPE)


def store(t):
    """float32 C-order array; subsampled with step n // 2048 when larger than 4096 elements."""
    a = np.ascontiguousarray(t.detach().cpu().numpy().astype(np.float32))
    if a.size <= FULL_MAX:
        return a
    return np.ascontiguousarray(a.reshape(-1)[::a.size // SUB_TARGET])


def write_keys(model, fname):
    with open(os.path.join(OUT, fname), "w") as f:
        for k, v in model.state_dict().items():
            shape = ",".join(str(d) for d in v.shape) if v.dim() else "-"
            f.write(f"{k} {shape}\n")


def save(case, arrays):
    path = os.path.join(OUT, case + ".npz")
    np.savez(path, **arrays)
    print(f"wrote {path} ({os.path.getsize(path) / 1024:.0f} KiB)")


def spark_mask(case, b, h, w, mask_ratio=0.6):
    """SparK's SparK.mask (round(h*w*(1-ratio)) active cells per sample) with a generator seeded by the case."""
    g = torch.Generator().manual_seed(detrandom.seed(case) & 0x7FFFFFFF)
    len_keep = round(h * w * (1 - mask_ratio))
    idx = torch.rand(b, h * w, generator=g).argsort(dim=1)[:, :len_keep]
    return torch.zeros(b, h * w, dtype=torch.bool).scatter_(1, idx, True).view(b, 1, h, w)


# --------------------------------------------------------------------------
# A minimal ResNet with timm's module names (timm is not packaged for Debian); it must equal torchvision's
# resnet18/50 on the same state dict (checked in check_timm_resnet), and it also builds the small stem and other
# widths that torchvision cannot.
# --------------------------------------------------------------------------

class BasicBlock(nn.Module):
    expansion = 1

    def __init__(self, inplanes, planes, stride=1, downsample=None):
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.act1 = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.act2 = nn.ReLU(inplace=True)
        self.downsample = downsample

    def forward(self, x):
        shortcut = x
        x = self.act1(self.bn1(self.conv1(x)))
        x = self.bn2(self.conv2(x))
        if self.downsample is not None:
            shortcut = self.downsample(shortcut)
        x += shortcut
        return self.act2(x)


class Bottleneck(nn.Module):
    expansion = 4

    def __init__(self, inplanes, planes, stride=1, downsample=None):
        super().__init__()
        out = planes * 4
        self.conv1 = nn.Conv2d(inplanes, planes, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.act1 = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride, 1, bias=False)  # stride on the 3x3 (v1.5)
        self.bn2 = nn.BatchNorm2d(planes)
        self.act2 = nn.ReLU(inplace=True)
        self.conv3 = nn.Conv2d(planes, out, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(out)
        self.act3 = nn.ReLU(inplace=True)
        self.downsample = downsample

    def forward(self, x):
        shortcut = x
        x = self.act1(self.bn1(self.conv1(x)))
        x = self.act2(self.bn2(self.conv2(x)))
        x = self.bn3(self.conv3(x))
        if self.downsample is not None:
            shortcut = self.downsample(shortcut)
        x += shortcut
        return self.act3(x)


class TimmResNet(nn.Module):
    def __init__(self, block, layers, in_chans=3, num_classes=0, small_stem=False, base_width=64):
        super().__init__()
        w = base_width
        if small_stem:
            self.conv1 = nn.Conv2d(in_chans, w, 3, 1, 1, bias=False)
        else:
            self.conv1 = nn.Conv2d(in_chans, w, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(w)
        self.act1 = nn.ReLU(inplace=True)
        self.maxpool = nn.Identity() if small_stem else nn.MaxPool2d(3, 2, 1)
        inplanes = w
        self.feature_channels = []
        for s, n in enumerate(layers):
            planes = w * 2 ** s
            blocks = []
            for b in range(n):
                stride = 2 if (b == 0 and s > 0) else 1
                ds = None
                if stride != 1 or inplanes != planes * block.expansion:
                    ds = nn.Sequential(nn.Conv2d(inplanes, planes * block.expansion, 1, stride, bias=False),
                                       nn.BatchNorm2d(planes * block.expansion))
                blocks.append(block(inplanes, planes, stride, ds))
                inplanes = planes * block.expansion
            self.add_module(f"layer{s + 1}", nn.Sequential(*blocks))
            self.feature_channels.append(inplanes)
        self.global_pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(inplanes, num_classes) if num_classes else nn.Identity()
        self.downsample_ratio = 8 if small_stem else 32

    def forward(self, x, hierarchical=False):  # SparK's pretrain/models/resnet.py forward
        x = self.maxpool(self.act1(self.bn1(self.conv1(x))))
        if hierarchical:
            ls = []
            for s in range(1, 5):
                x = getattr(self, f"layer{s}")(x)
                ls.append(x)
            return ls
        for s in range(1, 5):
            x = getattr(self, f"layer{s}")(x)
        return self.fc(torch.flatten(self.global_pool(x), 1))


def tv_features(m, x):
    """Stage outputs of a torchvision ResNet."""
    x = m.maxpool(m.relu(m.bn1(m.conv1(x))))
    out = []
    for s in range(1, 5):
        x = getattr(m, f"layer{s}")(x)
        out.append(x)
    return out


def check_timm_resnet():
    """The timm-named reference equals torchvision's real classes on the same DetRandom weights."""
    for name, block, layers in (("resnet18", BasicBlock, (2, 2, 2, 2)), ("resnet50", Bottleneck, (3, 4, 6, 3))):
        tv = det_fill(getattr(torchvision.models, name)(num_classes=10))
        ours = TimmResNet(block, layers, num_classes=10)
        ours.load_state_dict(tv.state_dict(), strict=True)
        assert list(ours.state_dict().keys()) == list(tv.state_dict().keys()), name + ": key order differs"
        tv.float()  # the float32 check is the stricter one: bit-exact
        x = det_input("check/" + name, (2, 3, 64, 64)).float()
        for train in (False, True):
            tv.train(train)
            ours.train(train)
            with torch.no_grad():
                d = (tv(x) - ours(x)).abs().max().item()
                fd = max((a - b).abs().max().item() for a, b in zip(tv_features(tv, x), ours(x, hierarchical=True)))
            assert d == 0.0 and fd == 0.0, f"{name} train={train}: timm-named ResNet differs by {d}, {fd}"
        print(f"check: timm-named {name} == torchvision {name} (eval and train, bit-exact)")


# --------------------------------------------------------------------------
# SparK's sparse encoder (pretrain/encoder.py), literally: dense op then mask; BN1d over the gathered active rows
# --------------------------------------------------------------------------

_cur_active = None  # (B,1,f,f) bool, SparK's module-level global


def _get_active_ex_or_ii(H, returning_active_ex=True):
    downsample_raito = H // _cur_active.shape[-1]
    active_ex = _cur_active.repeat_interleave(downsample_raito, 2).repeat_interleave(downsample_raito, 3)
    return active_ex if returning_active_ex else active_ex.squeeze(1).nonzero(as_tuple=True)


def sp_conv_forward(self, x):
    x = super(type(self), self).forward(x)
    x *= _get_active_ex_or_ii(H=x.shape[2], returning_active_ex=True)
    return x


def sp_bn_forward(self, x):
    ii = _get_active_ex_or_ii(H=x.shape[2], returning_active_ex=False)
    bhwc = x.permute(0, 2, 3, 1)
    nc = bhwc[ii]
    nc = super(type(self), self).forward(nc)
    bchw = torch.zeros_like(bhwc)
    bchw[ii] = nc
    return bchw.permute(0, 3, 1, 2)


class SparseConv2d(nn.Conv2d):
    forward = sp_conv_forward


class SparseMaxPooling(nn.MaxPool2d):
    forward = sp_conv_forward


class SparseBatchNorm2d(nn.BatchNorm1d):
    forward = sp_bn_forward


def dense_model_to_sparse(m):
    """SparseEncoder.dense_model_to_sparse: swap Conv2d, MaxPool2d and BatchNorm2d, copying weights and buffers."""
    oup = m
    if isinstance(m, nn.Conv2d):
        bias = m.bias is not None
        oup = SparseConv2d(m.in_channels, m.out_channels, kernel_size=m.kernel_size, stride=m.stride,
                           padding=m.padding, dilation=m.dilation, groups=m.groups, bias=bias,
                           padding_mode=m.padding_mode)
        oup.weight.data.copy_(m.weight.data)
        if bias:
            oup.bias.data.copy_(m.bias.data)
    elif isinstance(m, nn.MaxPool2d):
        oup = SparseMaxPooling(m.kernel_size, stride=m.stride, padding=m.padding, dilation=m.dilation,
                               return_indices=m.return_indices, ceil_mode=m.ceil_mode)
    elif isinstance(m, nn.BatchNorm2d):
        oup = SparseBatchNorm2d(m.weight.shape[0], eps=m.eps, momentum=m.momentum, affine=m.affine,
                                track_running_stats=m.track_running_stats)
        oup.weight.data.copy_(m.weight.data)
        oup.bias.data.copy_(m.bias.data)
        oup.running_mean.data.copy_(m.running_mean.data)
        oup.running_var.data.copy_(m.running_var.data)
        oup.num_batches_tracked.data.copy_(m.num_batches_tracked.data)
    for name, child in m.named_children():
        oup.add_module(name, dense_model_to_sparse(child))
    return oup


class SparseEncoder(nn.Module):
    def __init__(self, cnn):
        super().__init__()
        self.sp_cnn = dense_model_to_sparse(cnn)

    def forward(self, x):
        return self.sp_cnn(x, hierarchical=True)


# --------------------------------------------------------------------------
# SparK's LightDecoder (pretrain/decoder.py) and student (pretrain/spark.py) with the hgkd feature head
# --------------------------------------------------------------------------

class UNetBlock(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.up_sample = nn.ConvTranspose2d(cin, cin, kernel_size=4, stride=2, padding=1, bias=True)
        self.conv = nn.Sequential(
            nn.Conv2d(cin, cin, kernel_size=3, stride=1, padding=1, bias=False), nn.BatchNorm2d(cin),
            nn.ReLU6(inplace=True),
            nn.Conv2d(cin, cout, kernel_size=3, stride=1, padding=1, bias=False), nn.BatchNorm2d(cout),
        )

    def forward(self, x):
        return self.conv(self.up_sample(x))


class LightDecoder(nn.Module):
    def __init__(self, up_sample_ratio, width, out_chans, pixel_head):
        super().__init__()
        self.width = width
        n = round(math.log2(up_sample_ratio))
        channels = [width // 2 ** i for i in range(n + 1)]
        self.out_width = channels[-1]
        self.dec = nn.ModuleList([UNetBlock(cin, cout) for (cin, cout) in zip(channels[:-1], channels[1:])])
        self.proj = nn.Conv2d(channels[-1], out_chans, kernel_size=1, stride=1, bias=True) if pixel_head else None

    def forward(self, to_dec):
        x = 0
        for i, d in enumerate(self.dec):
            if i < len(to_dec) and to_dec[i] is not None:
                x = x + to_dec[i]
            x = self.dec[i](x)
        # hgkd extension for the small stem: one scale more than blocks; the full-resolution skip is added after the
        # last block, before the heads (SparK has no such setting)
        if len(to_dec) > len(self.dec):
            x = x + to_dec[len(self.dec)]
        return x


class Student(nn.Module):
    def __init__(self, cnn, width, in_chans, pixel_head, teacher_patch, teacher_dim):
        super().__init__()
        self.downsample_raito = cnn.downsample_ratio
        self.sparse_encoder = SparseEncoder(cnn)
        self.dense_decoder = LightDecoder(cnn.downsample_ratio, width, in_chans, pixel_head)
        self.densify_norms = nn.ModuleList()
        self.densify_projs = nn.ModuleList()
        self.mask_tokens = nn.ParameterList()
        e_widths = list(cnn.feature_channels)
        d_width = width
        for i in range(len(e_widths)):
            e_width = e_widths.pop()
            self.mask_tokens.append(nn.Parameter(torch.zeros(1, e_width, 1, 1)))
            self.densify_norms.append(SparseBatchNorm2d(e_width))
            if i == 0 and e_width == d_width:
                self.densify_projs.append(nn.Identity())
            else:
                k = 1 if i <= 0 else 3
                self.densify_projs.append(nn.Conv2d(e_width, d_width, kernel_size=k, stride=1, padding=k // 2,
                                                    bias=True))
            d_width //= 2
        self.feature_head = (nn.Conv2d(self.dense_decoder.out_width, teacher_dim, kernel_size=teacher_patch,
                                       stride=teacher_patch, bias=True) if teacher_dim else None)

    def forward(self, inp_bchw, active_b1ff):
        global _cur_active
        _cur_active = active_b1ff
        r = self.downsample_raito
        active_b1hw = active_b1ff.repeat_interleave(r, 2).repeat_interleave(r, 3)
        masked_bchw = inp_bchw * active_b1hw
        fea_bcffs = self.sparse_encoder(masked_bchw)
        fea_bcffs.reverse()
        cur_active = active_b1ff
        to_dec = []
        for i, bcff in enumerate(fea_bcffs):
            bcff = self.densify_norms[i](bcff)
            mask_tokens = self.mask_tokens[i].expand_as(bcff)
            bcff = torch.where(cur_active.expand_as(bcff), bcff, mask_tokens)
            bcff = self.densify_projs[i](bcff)
            to_dec.append(bcff)
            cur_active = cur_active.repeat_interleave(2, dim=2).repeat_interleave(2, dim=3)
        x = self.dense_decoder(to_dec)
        pixels = self.dense_decoder.proj(x) if self.dense_decoder.proj is not None else None
        features = self.feature_head(x) if self.feature_head is not None else None
        return pixels, features


# --------------------------------------------------------------------------
# cases
# --------------------------------------------------------------------------

def stage_outputs(arrays, feats):
    for i, f in enumerate(feats):
        arrays[f"feat.{i}"] = store(f)
        arrays[f"featmean.{i}"] = store(f.mean(dim=(0, 2, 3)))


def grads_of(arrays, model, names):
    params = dict(model.named_parameters())
    for n in names:
        arrays["grad." + n] = store(params[n].grad)


def buffers_of(arrays, model, names):
    bufs = dict(model.named_buffers())
    for n in names:
        arrays["buffer." + n] = store(bufs[n])


def dense_eval_case(case, model, shape, features_fn):
    det_fill(model).eval()
    x = det_input(case, shape)
    with torch.no_grad():
        arrays = {"logits": store(model(x))}
        stage_outputs(arrays, features_fn(model, x))
    save(case, arrays)


def dense_train_case(case, model, shape, grad_names, buffer_names):
    det_fill(model).train()
    x = det_input(case, shape).requires_grad_(True)
    logits = model(x)
    gy = det_grad(case, "gy", tuple(logits.shape))
    (logits * gy).sum().backward()
    arrays = {"logits": store(logits), "gx": store(x.grad)}
    grads_of(arrays, model, grad_names)
    buffers_of(arrays, model, buffer_names)
    save(case, arrays)


def sparse_case(case, dense_model, shape, grid, grad_names, buffer_names):
    """SparK's encoder: dense model converted by dense_model_to_sparse, input masked, train mode."""
    global _cur_active
    det_fill(dense_model)
    sp = SparseEncoder(dense_model).to(REF_DTYPE).train()
    active = spark_mask(case, shape[0], grid, grid)
    _cur_active = active
    r = shape[2] // grid
    x = det_input(case, shape).requires_grad_(True)
    masked = x * active.repeat_interleave(r, 2).repeat_interleave(r, 3)
    feats = sp(masked)
    loss = 0
    for i, f in enumerate(feats):
        loss = loss + (f * det_grad(case, f"gy.{i}", tuple(f.shape))).sum()
    loss.backward()
    arrays = {"mask": active.float().numpy()}
    stage_outputs(arrays, feats)
    arrays["gx"] = store(x.grad)
    grads_of(arrays, sp.sp_cnn, grad_names)
    buffers_of(arrays, sp.sp_cnn, buffer_names)
    save(case, arrays)


def student_case(case, cnn, width, in_chans, size, batch, teacher_patch, teacher_dim):
    model = Student(cnn, width, in_chans, True, teacher_patch, teacher_dim)
    det_fill(model).train()  # after building: dense_model_to_sparse creates the BN1d modules in float32
    write_keys(model, case + "_keys.txt")
    grid = size // cnn.downsample_ratio
    active = spark_mask(case, batch, grid, grid)
    x = det_input(case, (batch, in_chans, size, size)).requires_grad_(True)
    pixels, features = model(x, active)
    gp = det_grad(case, "gy.pixels", tuple(pixels.shape))
    gf = det_grad(case, "gy.features", tuple(features.shape))
    ((pixels * gp).sum() + (features * gf).sum()).backward()
    arrays = {"mask": active.float().numpy(), "pixels": store(pixels), "features": store(features),
              "gx": store(x.grad)}
    for n, p in model.named_parameters():
        arrays["grad." + n] = store(p.grad)
    for n, b in model.named_buffers():
        if b.is_floating_point():
            arrays["buffer." + n] = store(b)
    save(case, arrays)


def cases():
    r18 = lambda: torchvision.models.resnet18(num_classes=10)  # noqa: E731
    r50 = lambda: torchvision.models.resnet50(num_classes=10)  # noqa: E731
    small18 = lambda nc=10: TimmResNet(BasicBlock, (2, 2, 2, 2), num_classes=nc, small_stem=True,  # noqa: E731
                                       base_width=32)
    small50 = lambda: TimmResNet(Bottleneck, (3, 4, 6, 3), num_classes=10, small_stem=True,  # noqa: E731
                                 base_width=32)
    tv_grads18 = ["conv1.weight", "bn1.weight", "bn1.bias", "layer1.0.conv1.weight", "layer2.0.downsample.0.weight",
                  "layer2.0.downsample.1.weight", "layer3.1.bn2.weight", "layer3.1.bn2.bias", "layer4.1.conv2.weight",
                  "fc.weight", "fc.bias"]
    tv_bufs18 = ["bn1.running_mean", "bn1.running_var", "layer2.0.downsample.1.running_var",
                 "layer4.1.bn2.running_mean", "layer4.1.bn2.running_var"]
    tv_grads50 = ["conv1.weight", "bn1.weight", "layer1.0.downsample.0.weight", "layer2.0.conv2.weight",
                  "layer2.0.downsample.0.weight", "layer3.5.bn3.weight", "layer3.5.bn3.bias",
                  "layer4.2.conv3.weight", "fc.weight", "fc.bias"]
    tv_bufs50 = ["bn1.running_mean", "bn1.running_var", "layer3.5.bn3.running_var", "layer4.2.bn3.running_mean"]
    return {
        "tv_resnet18_eval": lambda c: dense_eval_case(c, r18(), (2, 3, 64, 64), tv_features),
        "tv_resnet50_eval": lambda c: dense_eval_case(c, r50(), (2, 3, 64, 64), tv_features),
        "tv_resnet18_train": lambda c: dense_train_case(c, r18(), (2, 3, 64, 64), tv_grads18, tv_bufs18),
        "tv_resnet50_train": lambda c: dense_train_case(c, r50(), (2, 3, 64, 64), tv_grads50, tv_bufs50),
        "small_half_resnet18_eval": lambda c: dense_eval_case(c, small18(), (2, 3, 32, 32),
                                                              lambda m, x: m(x, hierarchical=True)),
        "small_half_resnet18_train": lambda c: dense_train_case(c, small18(), (2, 3, 32, 32), tv_grads18, tv_bufs18),
        "small_half_resnet50_eval": lambda c: dense_eval_case(c, small50(), (2, 3, 32, 32),
                                                              lambda m, x: m(x, hierarchical=True)),
        "sparse_resnet18_128": lambda c: sparse_case(c, TimmResNet(BasicBlock, (2, 2, 2, 2)), (2, 3, 128, 128), 4,
                                                     tv_grads18[:-2], tv_bufs18),
        "sparse_small_half_resnet18_32": lambda c: sparse_case(c, small18(0), (2, 3, 32, 32), 4, tv_grads18[:-2],
                                                               tv_bufs18),
        "student_resnet18_128": lambda c: student_case(c, TimmResNet(BasicBlock, (2, 2, 2, 2)), 64, 3, 128, 2, 16,
                                                       32),
        "student_small_half_resnet18_32": lambda c: student_case(c, small18(0), 64, 3, 32, 2, 4, 32),
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--only", nargs="*", help="case names to (re)generate")
    args = ap.parse_args()
    os.makedirs(OUT, exist_ok=True)
    check_timm_resnet()
    write_keys(torchvision.models.resnet18(num_classes=10), "tv_resnet18_keys.txt")
    write_keys(torchvision.models.resnet50(num_classes=10), "tv_resnet50_keys.txt")
    write_keys(torchvision.models.resnet50(), "torchvision_resnet50_keys.txt")
    write_keys(TimmResNet(BasicBlock, (2, 2, 2, 2), num_classes=10, small_stem=True, base_width=32),
               "small_half_resnet18_keys.txt")
    write_keys(TimmResNet(Bottleneck, (3, 4, 6, 3), num_classes=10, small_stem=True, base_width=32),
               "small_half_resnet50_keys.txt")
    all_cases = cases()
    for name in args.only or all_cases:
        if name not in all_cases:
            sys.exit(f"unknown case {name}; known: {', '.join(all_cases)}")
        all_cases[name](name)


if __name__ == "__main__":
    main()
