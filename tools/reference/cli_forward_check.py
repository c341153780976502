#!/usr/bin/env python3
"""End-to-end check of `hgkd forward` against PyTorch on full-size models, from files written by Python.

For torchvision resnet18 and resnet50 and a timm-named ViT-B/16 (plain PyTorch, timm's names), with random weights
(and random BN running statistics), this script:
  1. saves the state dict with torch.save as a .pth (the ViT in MAE's release layout, {'model': state_dict}),
  2. converts it with tools/pth_to_safetensors.py,
  3. runs `bin/hgkd forward` on a random .npy batch,
  4. compares the output with PyTorch's and prints the errors (docs/parity.md quotes them).
It also loads the ViT-B checkpoint at another image size (256 px, a 16x16 grid) so pos_embed is resampled, and compares
with PyTorch using MAE's interpolate_pos_embed. Nothing is written into the repository; needs python3-torch and
torchvision (Debian), and runs `bin/hgkd`, which builds the project on first use. Takes a few minutes.

    /usr/bin/python3 tools/reference/cli_forward_check.py [--keep DIR]
"""
import argparse
import os
import subprocess
import sys
import tempfile

import numpy as np
import torch
import torchvision

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tools"))
sys.path.insert(0, os.path.join(ROOT, "tools", "reference"))
import pth_to_safetensors  # noqa: E402
import make_vit_fixtures as vitref  # noqa: E402


def randomize_bn(model, gen):
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.copy_(torch.randn(m.running_mean.shape, generator=gen) * 0.1)
            m.running_var.copy_(torch.rand(m.running_var.shape, generator=gen) + 0.5)
            m.weight.data.copy_(torch.rand(m.weight.shape, generator=gen) + 0.5)
            m.bias.data.copy_(torch.randn(m.bias.shape, generator=gen) * 0.1)


def hgkd_forward(args):
    cmd = [os.path.join(ROOT, "bin", "hgkd"), "forward"] + args
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit("hgkd forward failed (%d):\n%s\n%s" % (r.returncode, r.stdout, r.stderr))
    return r.stdout.strip()


def compare(label, expected, actual, rtol=1e-4):
    expected = np.asarray(expected, dtype=np.float64)
    actual = np.asarray(actual, dtype=np.float64)
    assert expected.shape == actual.shape, (label, expected.shape, actual.shape)
    abs_err = np.abs(actual - expected)
    scale = np.abs(expected).max()
    rel = abs_err.max() / scale
    ok = np.all(abs_err <= rtol * np.abs(expected) + rtol * scale)
    print("| %s | %s | %.1e | %.1e | %s |" % (label, list(expected.shape), abs_err.max(), rel,
                                               "pass" if ok else "FAIL"))
    return ok


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--keep", help="write the files into DIR and keep them")
    a = ap.parse_args()
    torch.set_num_threads(os.cpu_count() or 1)
    work = a.keep or tempfile.mkdtemp(prefix="hgkd-cli-check-")
    os.makedirs(work, exist_ok=True)
    gen = torch.Generator().manual_seed(0)
    all_ok = True
    print("| model | output | shape | max abs error | max abs error / max abs | within rtol 1e-4 |")
    print("|---|---|---|---|---|---|")
    for name in ("resnet18", "resnet50"):
        torch.manual_seed(0)
        model = getattr(torchvision.models, name)()
        randomize_bn(model, gen)
        model.eval()
        pth = os.path.join(work, name + ".pth")
        st = os.path.join(work, name + ".safetensors")
        torch.save(model.state_dict(), pth)
        pth_to_safetensors.convert(pth, st, force=True)
        x = torch.randn(2, 3, 224, 224, generator=gen)
        np.save(os.path.join(work, name + "_x.npy"), x.numpy())
        with torch.no_grad():
            logits = model(x).numpy()
            h = model.maxpool(model.relu(model.bn1(model.conv1(x))))
            feats = []
            for layer in (model.layer1, model.layer2, model.layer3, model.layer4):
                h = layer(h)
                feats.append(h.numpy())
        y = os.path.join(work, name + "_y.npy")
        hgkd_forward(["--model", name, "--strict", "--weights", st, "--input", os.path.join(work, name + "_x.npy"),
                      "--output", y])
        all_ok &= compare(name, logits, np.load(y))
        f = os.path.join(work, name + "_features.npz")
        hgkd_forward(["--model", name, "--weights", st, "--input", os.path.join(work, name + "_x.npy"),
                      "--output", f, "--features"])
        got = np.load(f)
        for i in range(4):
            all_ok &= compare("%s --features" % name, feats[i], got["layer%d" % (i + 1)])

    # timm-named ViT-B/16 in MAE's release layout: {'model': encoder state dict}
    torch.manual_seed(0)
    vit = vitref.VisionTransformer(224, 16, 3, 768, 12, 12, num_classes=0)
    for p_name, p in vit.named_parameters():
        if p.dim() > 1 or "token" in p_name or "pos_embed" in p_name:
            torch.nn.init.trunc_normal_(p, std=0.02)
        elif p_name.endswith("bias"):
            torch.nn.init.normal_(p, std=0.02)
        else:
            p.data.copy_(1 + 0.1 * torch.randn(p.shape, generator=gen))
    vit.eval()
    sd = vit.state_dict()
    assert len(sd) == 150, len(sd)
    pth = os.path.join(work, "mae_vit_base.pth")
    st = os.path.join(work, "mae_vit_base.safetensors")
    torch.save({"model": sd}, pth)
    pth_to_safetensors.convert(pth, st, force=True)
    x = torch.randn(1, 3, 224, 224, generator=gen)
    np.save(os.path.join(work, "vit_x.npy"), x.numpy())
    with torch.no_grad():
        tokens, _ = vit.forward_features(x)
    y = os.path.join(work, "vit_tokens.npy")
    hgkd_forward(["--model", "vit_base_patch16_224", "--num-classes", "0", "--strict", "--weights", st,
                  "--input", os.path.join(work, "vit_x.npy"), "--output", y])
    all_ok &= compare("vit_base_patch16_224 (150-key MAE .pth)", tokens.numpy(), np.load(y))

    # the same file at 256 px: pos_embed resampled 14x14 -> 16x16 (MAE's interpolate_pos_embed)
    vit256 = vitref.VisionTransformer(256, 16, 3, 768, 12, 12, num_classes=0)
    sd256 = dict(sd)
    sd256["pos_embed"] = vitref.interpolate_pos_embed(sd["pos_embed"], 1, (14, 14), (16, 16))
    vit256.load_state_dict(sd256)
    vit256.eval()
    x = torch.randn(1, 3, 256, 256, generator=gen)
    np.save(os.path.join(work, "vit256_x.npy"), x.numpy())
    with torch.no_grad():
        tokens, _ = vit256.forward_features(x)
    y = os.path.join(work, "vit256_tokens.npy")
    hgkd_forward(["--model", "vit_base_patch16_224", "--img-size", "256", "--num-classes", "0", "--strict",
                  "--weights", st, "--input", os.path.join(work, "vit256_x.npy"), "--output", y])
    all_ok &= compare("vit_base_patch16_224 at 256 px (pos_embed resampled)", tokens.numpy(), np.load(y))
    print("\nfiles in", work)
    sys.exit(0 if all_ok else 1)


if __name__ == "__main__":
    main()
