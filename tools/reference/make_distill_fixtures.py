#!/usr/bin/python3
"""PyTorch oracle for the H-GKD distillation losses (hgkd-train io.hgkd.train.distill).

Writes src-test-data/distill/<case>.npz, all float32, gradients by torch autograd:

  feat_<kind>_<pos>   kind in mse, smooth_l1, cosine; pos in masked, all.
                      s (B,D,G,G) student features, t (B,N,D) targets, m (B,N) 1 = masked token,
                      loss (scalar), grad_s (B,D,G,G)
  sim                 s, zt (B,D) teacher embeddings, queue (K,D) explicit queue, loss, grad_s
  sim_softmax         the same with softmax(a / 0.1) over the queue before Pearson (tau in the file)
  targets             tokens (B,1+N,D) teacher tokens with cls; target (LN no affine, eps 1e-6, cls dropped),
                      target_raw (cls dropped only), zt = normalize(mean over tokens of target_raw)
  pix                 pixels, image (B,3,16,16), active (B,1,2,2) 1 = visible (8-px cells); SparK's loss:
                      per-patch normalised target (unbiased var, eps 1e-6), masked-patch mean; loss, grad_pixels

Sizes: B 2, D 8, G 4 (N 16), K 16. The formulas are written out below as method.md §1.3 (e)(f) and §3.6 state
them. Run from the repository root with Debian's python (python3-torch 1.13):

    /usr/bin/python3 tools/reference/make_distill_fixtures.py [--out DIR]

Seeded with torch.manual_seed(crc32(case name)) and single-threaded: re-running gives identical files.
"""

import argparse
import os
import zlib

import numpy as np
import torch
import torch.nn.functional as F

torch.set_num_threads(1)
torch.set_default_dtype(torch.float32)

B, D, G, K = 2, 8, 4, 16
N = G * G


def seed(name):
    torch.manual_seed(zlib.crc32(name.encode()))


def token_mask():
    # 1 = masked; roughly 60 % of tokens, at least one per sample
    m = (torch.rand(B, N) < 0.6).float()
    m[:, 0] = 1.0
    return m


def per_token(kind, s_tok, t):
    if kind == "mse":
        return ((s_tok - t) ** 2).mean(-1)
    if kind == "smooth_l1":
        return F.smooth_l1_loss(s_tok, t, reduction="none", beta=1.0).mean(-1)
    if kind == "cosine":
        dot = (s_tok * t).sum(-1)
        den = (s_tok.norm(dim=-1) * t.norm(dim=-1)).clamp_min(1e-8)
        return 1 - dot / den
    raise ValueError(kind)


def feat_case(kind, pos):
    name = f"feat_{kind}_{pos}"
    seed(name)
    s = (torch.randn(B, D, G, G) * 1.5).requires_grad_(True)   # * 1.5: both smooth-L1 branches occur
    t = torch.randn(B, N, D)
    m = token_mask()
    s_tok = s.flatten(2).transpose(1, 2)                          # (B, N, D), token n = r * G + c
    l = per_token(kind, s_tok, t)
    loss = (l * m).sum() / (m.sum() + 1e-8) if pos == "masked" else l.mean()
    loss.backward()
    return name, dict(s=s.detach(), t=t, m=m, loss=loss.detach(), grad_s=s.grad)


def pearson(u, v):
    u = u - u.mean(-1, keepdim=True)
    v = v - v.mean(-1, keepdim=True)
    return (u * v).sum(-1) / (u.norm(dim=-1) * v.norm(dim=-1) + 1e-8)


def sim_case(name, tau):
    seed(name)
    s = torch.randn(B, D, G, G).requires_grad_(True)
    zt = F.normalize(torch.randn(B, D), dim=1)
    queue = F.normalize(torch.randn(K, D), dim=1)
    zs = F.normalize(s.mean(dim=(2, 3)), dim=1)
    a_s, a_t = zs @ queue.T, zt @ queue.T
    if tau > 0:
        a_s, a_t = F.softmax(a_s / tau, dim=1), F.softmax(a_t / tau, dim=1)
    loss = (1 - pearson(a_s, a_t)).mean()
    loss.backward()
    return name, dict(s=s.detach(), zt=zt, queue=queue, tau=torch.tensor(float(tau)), loss=loss.detach(),
                      grad_s=s.grad)


def targets_case():
    name = "targets"
    seed(name)
    tokens = torch.randn(B, 1 + N, D) * 2 + 0.5
    raw = tokens[:, 1:, :]
    target = F.layer_norm(raw, (D,), eps=1e-6)
    zt = F.normalize(raw.mean(1), dim=1)
    return name, dict(tokens=tokens, target=target, target_raw=raw, zt=zt)


def patchify(img, p):
    b, c, h, w = img.shape
    x = img.reshape(b, c, h // p, p, w // p, p)
    x = torch.einsum("bchpwq->bhwpqc", x)
    return x.reshape(b, (h // p) * (w // p), p * p * c)


def pix_case():
    name = "pix"
    seed(name)
    pixels = torch.randn(B, 3, 16, 16).requires_grad_(True)
    image = torch.randn(B, 3, 16, 16)
    active = torch.tensor([[[[1.0, 0.0], [0.0, 1.0]]], [[[0.0, 0.0], [1.0, 0.0]]]])
    inp, rec = patchify(image, 8), patchify(pixels, 8)
    mean, var = inp.mean(-1, keepdim=True), inp.var(-1, keepdim=True)   # torch.var: unbiased, as SparK
    inp = (inp - mean) / (var + 1e-6) ** 0.5
    l2 = ((rec - inp) ** 2).mean(-1)
    masked = 1 - active.reshape(B, -1)
    loss = (l2 * masked).sum() / (masked.sum() + 1e-8)
    loss.backward()
    return name, dict(pixels=pixels.detach(), image=image, active=active, loss=loss.detach(),
                      grad_pixels=pixels.grad)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default="src-test-data/distill")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    cases = [feat_case(k, p) for k in ("mse", "smooth_l1", "cosine") for p in ("masked", "all")]
    cases += [sim_case("sim", 0.0), sim_case("sim_softmax", 0.1), targets_case(), pix_case()]
    for name, arrays in cases:
        np.savez(os.path.join(args.out, name + ".npz"),
                 **{k: v.detach().numpy().astype(np.float32) for k, v in arrays.items()})
        print(name, {k: tuple(v.shape) for k, v in arrays.items()})


if __name__ == "__main__":
    main()
