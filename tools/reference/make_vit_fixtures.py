#!/usr/bin/python3
"""PyTorch oracle for the ViT and MAE models of hgkd-models.

Plain-PyTorch re-implementations with timm's and MAE's exact parameter names and semantics (timm
`vision_transformer.py`, MAE `models_mae.py` and `util/pos_embed.py`; neither package is needed). Every weight is a
DetRandom tensor (tools/reference/detrandom.py) named by its state-dict key, so the Java tests regenerate the weights
bit-identically and only inputs, outputs and gradients are committed.

Run from the repository root with Debian's python (python3-torch 1.13):

    /usr/bin/python3 tools/reference/make_vit_fixtures.py [--out DIR] [--only CASE ...]

Writes src-test-data/models/<case>.npz (uncompressed) and src-test-data/models/vit_manifest.json (the ViT/MAE
cases only, so other model fixtures can share the folder).

Keys in each npz:
  x                      input images (B, C, H, W)
  tokens                 forward_features output: all tokens after the final norm (B, 1+N, D)
  y, gy                  forward output (logits / pooled) and the upstream gradient used for backward
  gx                     gradient with respect to x
  grad.<key>             gradient of every trainable parameter (state-dict key)
  range.<key>            [low, high] of the DetRandom uniform weights of <key>; salt = DetRandom salt (int64)
  fixed.<key>            fixed sin-cos tables (pos_embed, decoder_pos_embed), as Python computes them
  MAE cases: noise, loss, pred, mask, ids_restore (int64)
  posembed case: sincos_*/resample_* inputs and outputs (see the case)
"""

import argparse
import json
import math
import os
import re
import sys
import zlib

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import detrandom  # noqa: E402

torch.set_num_threads(1)
torch.set_default_dtype(torch.float32)

REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DEFAULT_OUT = os.path.join(REPO_ROOT, "src-test-data", "models")

CASES = {}


def case(fn):
    CASES[fn.__name__] = fn
    return fn


def seed_for(name):
    return zlib.crc32(name.encode("utf-8")) & 0x7FFFFFFF


def to_np(t):
    if isinstance(t, torch.Tensor):
        t = t.detach().cpu().numpy()
    a = np.asarray(t)
    if a.dtype == np.float64:
        a = a.astype(np.float32)
    return np.ascontiguousarray(a)


# --------------------------------------------------------------------------------------------------------------
# MAE util/pos_embed.py (generalised to a rectangular grid: token n = r * W + c, first half encodes the column)
# --------------------------------------------------------------------------------------------------------------

def get_1d_sincos_pos_embed_from_grid(embed_dim, pos):
    omega = np.arange(embed_dim // 2, dtype=np.float64)
    omega /= embed_dim / 2.
    omega = 1. / 10000 ** omega
    pos = pos.reshape(-1)
    out = np.einsum('m,d->md', pos, omega)
    return np.concatenate([np.sin(out), np.cos(out)], axis=1)


def get_2d_sincos_pos_embed(embed_dim, grid_h, grid_w, cls_token=False):
    gh = np.arange(grid_h, dtype=np.float32)
    gw = np.arange(grid_w, dtype=np.float32)
    grid = np.meshgrid(gw, gh)  # w goes first, as MAE
    grid = np.stack(grid, axis=0).reshape([2, 1, grid_h, grid_w])
    emb_h = get_1d_sincos_pos_embed_from_grid(embed_dim // 2, grid[0])
    emb_w = get_1d_sincos_pos_embed_from_grid(embed_dim // 2, grid[1])
    pos = np.concatenate([emb_h, emb_w], axis=1)
    if cls_token:
        pos = np.concatenate([np.zeros([1, embed_dim]), pos], axis=0)
    return pos


def interpolate_pos_embed(pos_embed, num_extra, old_hw, new_hw):
    """MAE's interpolate_pos_embed: bicubic, align_corners=False on the grid part, extra tokens kept."""
    d = pos_embed.shape[-1]
    extra = pos_embed[:, :num_extra]
    tok = pos_embed[:, num_extra:].reshape(-1, old_hw[0], old_hw[1], d).permute(0, 3, 1, 2)
    tok = F.interpolate(tok, size=tuple(new_hw), mode='bicubic', align_corners=False)
    tok = tok.permute(0, 2, 3, 1).flatten(1, 2)
    return torch.cat((extra, tok), dim=1)


# --------------------------------------------------------------------------------------------------------------
# timm VisionTransformer pieces (parameter names exactly timm's / MAE's)
# --------------------------------------------------------------------------------------------------------------

class PatchEmbed(nn.Module):
    def __init__(self, img_size, patch_size, in_chans, embed_dim):
        super().__init__()
        self.img_size = img_size
        self.proj = nn.Conv2d(in_chans, embed_dim, kernel_size=patch_size, stride=patch_size)
        self.num_patches = (img_size // patch_size) ** 2

    def forward(self, x):
        assert x.shape[2] == self.img_size and x.shape[3] == self.img_size
        return self.proj(x).flatten(2).transpose(1, 2)  # (B, N, D), row-major tokens


class Attention(nn.Module):
    def __init__(self, dim, num_heads, qkv_bias=True):
        super().__init__()
        self.num_heads = num_heads
        self.head_dim = dim // num_heads
        self.scale = self.head_dim ** -0.5
        self.qkv = nn.Linear(dim, dim * 3, bias=qkv_bias)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x):
        B, N, C = x.shape
        qkv = self.qkv(x).reshape(B, N, 3, self.num_heads, self.head_dim).permute(2, 0, 3, 1, 4)
        q, k, v = qkv.unbind(0)
        attn = (q * self.scale) @ k.transpose(-2, -1)
        attn = attn.softmax(dim=-1)
        x = (attn @ v).transpose(1, 2).reshape(B, N, C)
        return self.proj(x)


class Mlp(nn.Module):
    def __init__(self, dim, hidden):
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.act = nn.GELU()  # exact erf form
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)))


class Block(nn.Module):
    def __init__(self, dim, num_heads, mlp_ratio=4., qkv_bias=True, eps=1e-6):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=eps)
        self.attn = Attention(dim, num_heads, qkv_bias)
        self.norm2 = nn.LayerNorm(dim, eps=eps)
        self.mlp = Mlp(dim, int(dim * mlp_ratio))

    def forward(self, x):
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class VisionTransformer(nn.Module):
    """timm VisionTransformer with class_token, pos_embed 'learn' or fixed sin-cos, global_pool token/avg/''."""

    def __init__(self, img_size, patch_size, in_chans, embed_dim, depth, num_heads, mlp_ratio=4., num_classes=0,
                 global_pool='token', class_token=True, sincos=False, eps=1e-6):
        super().__init__()
        self.global_pool = global_pool
        self.num_prefix_tokens = 1 if class_token else 0
        self.patch_embed = PatchEmbed(img_size, patch_size, in_chans, embed_dim)
        n = self.patch_embed.num_patches
        self.cls_token = nn.Parameter(torch.zeros(1, 1, embed_dim)) if class_token else None
        self.pos_embed = nn.Parameter(torch.zeros(1, n + self.num_prefix_tokens, embed_dim), requires_grad=not sincos)
        if sincos:
            g = img_size // patch_size
            self.pos_embed.data.copy_(torch.from_numpy(
                get_2d_sincos_pos_embed(embed_dim, g, g, class_token)).float().unsqueeze(0))
        self.blocks = nn.Sequential(*[Block(embed_dim, num_heads, mlp_ratio, True, eps) for _ in range(depth)])
        use_fc_norm = global_pool == 'avg'
        self.norm = nn.LayerNorm(embed_dim, eps=eps) if not use_fc_norm else nn.Identity()
        self.fc_norm = nn.LayerNorm(embed_dim, eps=eps) if use_fc_norm else nn.Identity()
        self.head = nn.Linear(embed_dim, num_classes) if num_classes > 0 else nn.Identity()

    def forward_features(self, x, capture=()):
        x = self.patch_embed(x)
        if self.cls_token is not None:
            x = torch.cat((self.cls_token.expand(x.shape[0], -1, -1), x), dim=1)
        x = x + self.pos_embed
        captured = []
        for i, blk in enumerate(self.blocks):
            x = blk(x)
            if i in capture:
                captured.append(x)
        return self.norm(x), captured

    def forward_head(self, x):
        if self.global_pool == 'avg':
            x = x[:, self.num_prefix_tokens:].mean(dim=1)
        elif self.global_pool == 'token':
            x = x[:, 0]
        return self.head(self.fc_norm(x))

    def forward(self, x):
        return self.forward_head(self.forward_features(x)[0])


# --------------------------------------------------------------------------------------------------------------
# MAE models_mae.MaskedAutoencoderViT
# --------------------------------------------------------------------------------------------------------------

class MaskedAutoencoderViT(nn.Module):
    def __init__(self, img_size, patch_size, in_chans, embed_dim, depth, num_heads, decoder_embed_dim,
                 decoder_depth, decoder_num_heads, mlp_ratio=4., norm_pix_loss=False):
        super().__init__()
        self.patch_embed = PatchEmbed(img_size, patch_size, in_chans, embed_dim)
        n = self.patch_embed.num_patches
        g = img_size // patch_size
        self.patch_size = patch_size
        self.in_chans = in_chans
        self.cls_token = nn.Parameter(torch.zeros(1, 1, embed_dim))
        self.pos_embed = nn.Parameter(torch.zeros(1, n + 1, embed_dim), requires_grad=False)
        self.blocks = nn.ModuleList([Block(embed_dim, num_heads, mlp_ratio, True) for _ in range(depth)])
        self.norm = nn.LayerNorm(embed_dim, eps=1e-6)
        self.decoder_embed = nn.Linear(embed_dim, decoder_embed_dim, bias=True)
        self.mask_token = nn.Parameter(torch.zeros(1, 1, decoder_embed_dim))
        self.decoder_pos_embed = nn.Parameter(torch.zeros(1, n + 1, decoder_embed_dim), requires_grad=False)
        self.decoder_blocks = nn.ModuleList([Block(decoder_embed_dim, decoder_num_heads, mlp_ratio, True)
                                             for _ in range(decoder_depth)])
        self.decoder_norm = nn.LayerNorm(decoder_embed_dim, eps=1e-6)
        self.decoder_pred = nn.Linear(decoder_embed_dim, patch_size ** 2 * in_chans, bias=True)
        self.norm_pix_loss = norm_pix_loss
        self.pos_embed.data.copy_(torch.from_numpy(get_2d_sincos_pos_embed(embed_dim, g, g, True)).float()[None])
        self.decoder_pos_embed.data.copy_(
            torch.from_numpy(get_2d_sincos_pos_embed(decoder_embed_dim, g, g, True)).float()[None])

    def patchify(self, imgs):
        p = self.patch_size
        h = w = imgs.shape[2] // p
        x = imgs.reshape(imgs.shape[0], self.in_chans, h, p, w, p)
        x = torch.einsum('nchpwq->nhwpqc', x)
        return x.reshape(imgs.shape[0], h * w, p ** 2 * self.in_chans)

    def random_masking(self, x, mask_ratio, noise):
        N, L, D = x.shape
        len_keep = int(L * (1 - mask_ratio))
        ids_shuffle = torch.argsort(noise, dim=1)
        ids_restore = torch.argsort(ids_shuffle, dim=1)
        ids_keep = ids_shuffle[:, :len_keep]
        x_masked = torch.gather(x, dim=1, index=ids_keep.unsqueeze(-1).repeat(1, 1, D))
        mask = torch.ones([N, L])
        mask[:, :len_keep] = 0
        mask = torch.gather(mask, dim=1, index=ids_restore)
        return x_masked, mask, ids_restore

    def forward_encoder(self, x, mask_ratio, noise):
        x = self.patch_embed(x)
        x = x + self.pos_embed[:, 1:, :]
        x, mask, ids_restore = self.random_masking(x, mask_ratio, noise)
        cls_token = self.cls_token + self.pos_embed[:, :1, :]
        x = torch.cat((cls_token.expand(x.shape[0], -1, -1), x), dim=1)
        for blk in self.blocks:
            x = blk(x)
        return self.norm(x), mask, ids_restore

    def forward_decoder(self, x, ids_restore):
        x = self.decoder_embed(x)
        mask_tokens = self.mask_token.repeat(x.shape[0], ids_restore.shape[1] + 1 - x.shape[1], 1)
        x_ = torch.cat([x[:, 1:, :], mask_tokens], dim=1)
        x_ = torch.gather(x_, dim=1, index=ids_restore.unsqueeze(-1).repeat(1, 1, x.shape[2]))
        x = torch.cat([x[:, :1, :], x_], dim=1)
        x = x + self.decoder_pos_embed
        for blk in self.decoder_blocks:
            x = blk(x)
        x = self.decoder_norm(x)
        x = self.decoder_pred(x)
        return x[:, 1:, :]

    def forward_loss(self, imgs, pred, mask):
        target = self.patchify(imgs)
        if self.norm_pix_loss:
            mean = target.mean(dim=-1, keepdim=True)
            var = target.var(dim=-1, keepdim=True)
            target = (target - mean) / (var + 1.e-6) ** .5
        loss = (pred - target) ** 2
        loss = loss.mean(dim=-1)
        return (loss * mask).sum() / mask.sum()

    def forward(self, imgs, mask_ratio, noise):
        latent, mask, ids_restore = self.forward_encoder(imgs, mask_ratio, noise)
        pred = self.forward_decoder(latent, ids_restore)
        return self.forward_loss(imgs, pred, mask), pred, mask, ids_restore


# --------------------------------------------------------------------------------------------------------------
# DetRandom weights by state-dict key
# --------------------------------------------------------------------------------------------------------------

def weight_range(model, key, tensor):
    """[low, high] of the uniform DetRandom draw for a parameter (the Java test reads it from the fixture)."""
    owner = model.get_submodule(key.rsplit(".", 1)[0]) if "." in key else None
    if isinstance(owner, nn.LayerNorm):
        return (0.7, 1.3) if key.endswith(".weight") else (-0.2, 0.2)
    if key.endswith(".bias"):
        return (-0.2, 0.2)
    if key in ("cls_token", "mask_token"):
        return (-1.0, 1.0)
    if key == "pos_embed":
        return (-0.5, 0.5)
    fan_in = int(np.prod(tensor.shape[1:]))
    b = math.sqrt(3.0 / fan_in)  # unit-variance-preserving uniform
    return (-b, b)


def det_init(model, salt):
    """Overwrites every trainable parameter with DetRandom values; returns the range.* and salt arrays."""
    arrays = {"salt": np.array(salt, dtype=np.int64)}
    with torch.no_grad():
        for key, p in model.named_parameters():
            if not p.requires_grad:
                continue
            lo, hi = weight_range(model, key, p)
            p.copy_(torch.from_numpy(detrandom.uniform(key, tuple(p.shape), lo, hi, salt=salt)))
            arrays["range." + key] = np.array([lo, hi], dtype=np.float32)
    return arrays


def grads(model):
    return {"grad." + k: p.grad for k, p in model.named_parameters() if p.requires_grad}


# --------------------------------------------------------------------------------------------------------------
# cases
# --------------------------------------------------------------------------------------------------------------

def vit_case(name, cfg, run):
    model = VisionTransformer(**cfg)
    arrays = det_init(model, seed_for(name))
    if not model.pos_embed.requires_grad:
        arrays["fixed.pos_embed"] = model.pos_embed
    arrays.update(run(model))
    return arrays, dict(module="timm-named VisionTransformer (plain PyTorch)", **cfg)


def logits_run(model, cfg, batch=2):
    x = torch.randn(batch, cfg["in_chans"], cfg["img_size"], cfg["img_size"], requires_grad=True)
    tokens, _ = model.forward_features(x)
    y = model.forward_head(tokens)
    gy = torch.randn_like(y)
    y.backward(gy)
    out = dict(x=x, tokens=tokens, y=y, gy=gy, gx=x.grad)
    out.update(grads(model))
    return out


VIT_A = dict(img_size=32, patch_size=4, in_chans=3, embed_dim=64, depth=2, num_heads=4, num_classes=10,
             global_pool='token', class_token=True, sincos=False)
VIT_B = dict(img_size=32, patch_size=8, in_chans=3, embed_dim=64, depth=2, num_heads=4, num_classes=0,
             global_pool='avg', class_token=True, sincos=True)
VIT_C = dict(img_size=32, patch_size=8, in_chans=1, embed_dim=64, depth=2, num_heads=4, mlp_ratio=2.,
             num_classes=5, global_pool='', class_token=False, sincos=False)
VIT_D = dict(img_size=32, patch_size=4, in_chans=3, embed_dim=64, depth=2, num_heads=4, num_classes=0,
             global_pool='token', class_token=True, sincos=True)


@case
def vit_p4_token_learned_head():
    # img 32, patch 4 (8x8 grid), D 64, 4 heads, depth 2, learned pos_embed, 10-class head on the cls token
    return vit_case("vit_p4_token_learned_head", VIT_A, lambda m: logits_run(m, VIT_A))


@case
def vit_p8_avg_sincos():
    # patch 8 (4x4 grid), fixed sin-cos pos_embed, global_pool avg -> fc_norm, no head: y = pooled features
    return vit_case("vit_p8_avg_sincos", VIT_B, lambda m: logits_run(m, VIT_B))


@case
def vit_p8_nocls_none():
    # 1 input channel, no class token, global_pool '' (per-token head, 5 classes), mlp_ratio 2, learned pos_embed
    return vit_case("vit_p8_nocls_none", VIT_C, lambda m: logits_run(m, VIT_C))


@case
def vit_p4_teacher_features():
    # The H-GKD teacher path: sin-cos pos_embed, no head; loss = <tokens, gtokens> + <block 0 output, gblock0>
    def run(model):
        x = torch.randn(2, 3, 32, 32, requires_grad=True)
        tokens, (b0,) = model.forward_features(x, capture=(0,))
        gtokens = torch.randn_like(tokens)
        gblock0 = torch.randn_like(b0)
        ((tokens * gtokens).sum() + (b0 * gblock0).sum()).backward()
        out = dict(x=x, tokens=tokens, block0=b0, gtokens=gtokens, gblock0=gblock0, gx=x.grad)
        out.update(grads(model))
        return out
    return vit_case("vit_p4_teacher_features", VIT_D, run)


@case
def vit_tiny_patch16_224_full():
    # Full-depth timm vit_tiny_patch16_224 (D 192, 12 blocks, 3 heads), DetRandom weights and input, eval,
    # batch 2 at 224 px, no head: final-norm tokens (2, 197, 192)
    name = "vit_tiny_patch16_224_full"
    cfg = dict(img_size=224, patch_size=16, in_chans=3, embed_dim=192, depth=12, num_heads=3, num_classes=0,
               global_pool='token', class_token=True, sincos=False)
    model = VisionTransformer(**cfg).eval()
    arrays = det_init(model, seed_for(name))
    x = torch.from_numpy(detrandom.uniform("input", (2, 3, 224, 224), -2.0, 2.0, salt=seed_for(name)))
    with torch.no_grad():
        tokens, _ = model.forward_features(x)
    arrays["tokens"] = tokens
    return arrays, dict(module="timm-named VisionTransformer (plain PyTorch)", input="DetRandom 'input' U(-2, 2)",
                        **cfg)


def mae_case(name, cfg, batch=2):
    mask_ratio = cfg.pop("mask_ratio")
    model = MaskedAutoencoderViT(**cfg)
    arrays = det_init(model, seed_for(name))
    arrays["fixed.pos_embed"] = model.pos_embed
    arrays["fixed.decoder_pos_embed"] = model.decoder_pos_embed
    x = torch.randn(batch, cfg["in_chans"], cfg["img_size"], cfg["img_size"], requires_grad=True)
    n = model.patch_embed.num_patches
    noise = torch.rand(batch, n)
    assert len(set(noise.flatten().tolist())) == noise.numel(), "ties in the noise"
    loss, pred, mask, ids_restore = model(x, mask_ratio, noise)
    loss.backward()
    arrays.update(x=x, noise=noise, loss=loss.reshape(1), pred=pred, mask=mask, ids_restore=ids_restore, gx=x.grad)
    arrays.update(grads(model))
    cfg["mask_ratio"] = mask_ratio
    return arrays, dict(module="MAE MaskedAutoencoderViT (plain PyTorch)", **cfg)


@case
def mae_tiny_normpix():
    # encoder img 32 / patch 4 / D 64 / 4 heads / depth 2; decoder 32 wide, 1 block, 4 heads; mask 0.75
    # (16 of 64 patches kept); norm_pix_loss; explicit noise
    return mae_case("mae_tiny_normpix", dict(img_size=32, patch_size=4, in_chans=3, embed_dim=64, depth=2,
                                             num_heads=4, decoder_embed_dim=32, decoder_depth=1,
                                             decoder_num_heads=4, norm_pix_loss=True, mask_ratio=0.75))


@case
def mae_tiny_rawpix():
    # patch 8 (16 patches), 1 input channel, encoder depth 1, decoder 16 wide / 2 blocks / 2 heads, mask 0.6
    # (int(16 * 0.4) = 6 kept), raw pixel loss
    return mae_case("mae_tiny_rawpix", dict(img_size=32, patch_size=8, in_chans=1, embed_dim=32, depth=1,
                                            num_heads=2, decoder_embed_dim=16, decoder_depth=2,
                                            decoder_num_heads=2, norm_pix_loss=False, mask_ratio=0.6))


@case
def posembed():
    # sin-cos tables (MAE get_2d_sincos_pos_embed) and MAE interpolate_pos_embed (bicubic, align_corners=False)
    out = dict(
        sincos_d64_g8_cls=get_2d_sincos_pos_embed(64, 8, 8, True),
        sincos_d192_g14_cls=get_2d_sincos_pos_embed(192, 14, 14, True),
        sincos_d16_g3x5=get_2d_sincos_pos_embed(16, 3, 5, False),
    )
    cases = {
        "resample_4x4_7x7": (1, (4, 4), (7, 7), 16),
        "resample_14x14_8x8": (1, (14, 14), (8, 8), 32),
        "resample_4x6_5x3": (0, (4, 6), (5, 3), 8),
        "resample_2x2_5x5": (1, (2, 2), (5, 5), 4),
    }
    for key, (extra, old, new, d) in cases.items():
        src = torch.randn(1, extra + old[0] * old[1], d)
        out[key + "_in"] = src
        out[key + "_out"] = interpolate_pos_embed(src, extra, old, new)
    return out, dict(module="MAE util/pos_embed.py + F.interpolate(bicubic, align_corners=False)",
                     resample={k: dict(prefix=v[0], old=list(v[1]), new=list(v[2]), dim=v[3])
                               for k, v in cases.items()})


# --------------------------------------------------------------------------------------------------------------

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=DEFAULT_OUT, help="output dir (default src-test-data/models)")
    ap.add_argument("--only", nargs="*", help="case names to (re)generate")
    args = ap.parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    names = args.only or list(CASES)
    unknown = [n for n in names if n not in CASES]
    if unknown:
        sys.exit("unknown case(s): %s" % ", ".join(unknown))
    manifest_path = os.path.join(args.out, "vit_manifest.json")
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
            assert a.dtype != np.float32 or np.isfinite(a).all(), (name, k)
        path = os.path.join(args.out, name + ".npz")
        np.savez(path, **arrays)
        manifest[name] = dict(seed=seed_for(name), config=cfg, bytes=os.path.getsize(path),
                              keys={k: dict(shape=list(a.shape), dtype=str(a.dtype)) for k, a in arrays.items()})
        print("%-28s %7d bytes, %d arrays" % (name, os.path.getsize(path), len(arrays)))
    text = json.dumps(dict(generator="tools/reference/make_vit_fixtures.py", torch_version=torch.__version__,
                           cases={k: manifest[k] for k in sorted(manifest)}), indent=1)
    text = re.sub(r"\[[\s\d,.\-e]*\]", lambda mo: re.sub(r"\s+", "", mo.group(0)).replace(",", ", "), text)
    with open(manifest_path, "w") as f:
        f.write(text + "\n")


if __name__ == "__main__":
    main()
