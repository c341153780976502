#!/usr/bin/python3
"""Fixtures for hgkd's checkpoint loading tests (io.hgkd.models.checkpoint.*Test) and `hgkd inspect`.

Writes, under src-test-data/checkpoints/:

  mae_tiny.safetensors      a tiny checkpoint in MAE's training layout, {'model': state_dict, 'epoch', 'args'},
                            saved with torch.save to a temporary .pth (not kept: no .pth in git) and converted by
                            tools/pth_to_safetensors.py. The state dict has MAE's key order and names: encoder
                            (cls_token, pos_embed, patch_embed.proj, 2 blocks, norm; D=16, patch 4, 8x8 images, so a
                            2x2 grid) and decoder (mask_token, decoder_pos_embed, decoder_embed, 1 decoder block of
                            width 8, decoder_norm, decoder_pred). dtypes: pos_embed and all of blocks.1 are F16,
                            norm.bias is BF16, decoder_pos_embed is F16, the rest F32.
  mae_tiny_expected.npz     the 30 encoder tensors as float32 (F16/BF16 widened exactly by torch), under their
                            unwrapped names, in state-dict order: what loading the file for a ViT encoder must give.
  resnet18_keys.json        torchvision resnet18 / resnet50 state-dict keys with shapes and dtypes
  resnet50_keys.json        (weights=None: no download), and their parameter counts.
  spark_resnet50_keys.json  the state-dict keys of SparK's pretraining model for resnet50 (its `module` entry):
                            sparse_encoder.sp_cnn.* (timm resnet50 without fc), dense_decoder.* (LightDecoder,
                            width 768, 5 UNet blocks), densify_norms/projs, mask_tokens and the deprecated buffers
                            imn_m, imn_s, norm_black, following keyu-tian/SparK pretrain/spark.py and decoder.py.

Run with Debian's python and PyTorch (torchvision for the ResNet key lists):

    /usr/bin/python3 tools/reference/make_ckpt_fixtures.py [--out DIR] [--keep-pth DIR]

With --mae-vit-base DIR it also writes a full-size checkpoint in MAE's release layout, never committed (344 MB each):
DIR/mae_pretrain_vit_base.pth ({'model': the 150 ViT-B/16 encoder tensors, random, in MAE's order}) and
DIR/mae_pretrain_vit_base.safetensors converted by the tool; the Java test MaeVitBaseFileTest loads it when run with
-Dhgkd.maeVitBase=DIR/mae_pretrain_vit_base.safetensors.

The output is reproducible (seeded values, fixed key order).
"""

import argparse
import importlib.util
import io
import json
import os
import struct
import sys
import tempfile
import zipfile
from collections import OrderedDict

import numpy as np
import torch
import torch.nn as nn

HERE = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
DEFAULT_OUT = os.path.join(REPO_ROOT, "src-test-data", "checkpoints")

_spec = importlib.util.spec_from_file_location("pth_to_safetensors", os.path.join(REPO_ROOT, "tools",
                                                                                   "pth_to_safetensors.py"))
converter = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(converter)

DTYPE = {torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16", torch.int64: "I64"}

# The tiny MAE: 8x8 RGB images, patch 4 (2x2 grid), width 16, 2 blocks, MLP ratio 4; decoder width 8, 1 block.
IMG, PATCH, CHANS, DIM, DEPTH = 8, 4, 3, 16, 2
DEC_DIM, DEC_DEPTH = 8, 1


def block_shapes(prefix, d):
    return [(prefix + "norm1.weight", [d]), (prefix + "norm1.bias", [d]),
            (prefix + "attn.qkv.weight", [3 * d, d]), (prefix + "attn.qkv.bias", [3 * d]),
            (prefix + "attn.proj.weight", [d, d]), (prefix + "attn.proj.bias", [d]),
            (prefix + "norm2.weight", [d]), (prefix + "norm2.bias", [d]),
            (prefix + "mlp.fc1.weight", [4 * d, d]), (prefix + "mlp.fc1.bias", [4 * d]),
            (prefix + "mlp.fc2.weight", [d, 4 * d]), (prefix + "mlp.fc2.bias", [d])]


def mae_tiny_state():
    """MAE's MaskedAutoencoderViT state_dict order: own parameters, then the children in registration order."""
    tokens = 1 + (IMG // PATCH) ** 2
    shapes = [("cls_token", [1, 1, DIM]), ("pos_embed", [1, tokens, DIM]), ("mask_token", [1, 1, DEC_DIM]),
              ("decoder_pos_embed", [1, tokens, DEC_DIM]),
              ("patch_embed.proj.weight", [DIM, CHANS, PATCH, PATCH]), ("patch_embed.proj.bias", [DIM])]
    for i in range(DEPTH):
        shapes += block_shapes("blocks.%d." % i, DIM)
    shapes += [("norm.weight", [DIM]), ("norm.bias", [DIM]),
               ("decoder_embed.weight", [DEC_DIM, DIM]), ("decoder_embed.bias", [DEC_DIM])]
    for i in range(DEC_DEPTH):
        shapes += block_shapes("decoder_blocks.%d." % i, DEC_DIM)
    shapes += [("decoder_norm.weight", [DEC_DIM]), ("decoder_norm.bias", [DEC_DIM]),
               ("decoder_pred.weight", [PATCH * PATCH * CHANS, DEC_DIM]), ("decoder_pred.bias", [PATCH * PATCH * CHANS])]
    g = torch.Generator().manual_seed(20240611)
    state = OrderedDict()
    for name, shape in shapes:
        t = torch.randn(*shape, generator=g)
        if name == "pos_embed" or name.startswith("blocks.1.") or name == "decoder_pos_embed":
            t = t.half()
        elif name == "norm.bias":
            t = t.to(torch.bfloat16)
        state[name] = t
    return state


def write_mae_vit_base(directory):
    """MAE's released encoder-only ViT-B/16 layout: cls_token, pos_embed, patch_embed, 12 blocks, norm (150 tensors)."""
    os.makedirs(directory, exist_ok=True)
    g = torch.Generator().manual_seed(150)
    state = OrderedDict()
    shapes = [("cls_token", [1, 1, 768]), ("pos_embed", [1, 197, 768]),
              ("patch_embed.proj.weight", [768, 3, 16, 16]), ("patch_embed.proj.bias", [768])]
    for i in range(12):
        shapes += block_shapes("blocks.%d." % i, 768)
    shapes += [("norm.weight", [768]), ("norm.bias", [768])]
    for name, shape in shapes:
        state[name] = torch.randn(*shape, generator=g) * 0.02
    assert len(state) == 150
    pth = os.path.join(directory, "mae_pretrain_vit_base.pth")
    torch.save({"model": state}, pth)
    dst, entries, _ = converter.convert(pth, os.path.join(directory, "mae_pretrain_vit_base.safetensors"), force=True)
    print("wrote %s and %s (%d tensors)" % (pth, dst, len(entries)))


def is_decoder_key(name):
    return name.startswith("decoder_") or name == "mask_token"


def write_npz(path, arrays):
    """Like np.savez, with a fixed timestamp so that re-runs are byte-identical."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as z:
        for key, arr in arrays.items():
            buf = io.BytesIO()
            np.lib.format.write_array(buf, np.ascontiguousarray(arr), allow_pickle=False)
            info = zipfile.ZipInfo(key + ".npy", date_time=(1980, 1, 1, 0, 0, 0))
            z.writestr(info, buf.getvalue())


def write_key_json(path, arch, source, state, num_params, note=None):
    """One tensor per line, so diffs stay readable: {"arch", "source", "num_params", "tensors": [[name, shape, dtype]]}."""
    lines = ['  [%s, %s, "%s"]' % (json.dumps(k), json.dumps(list(v.shape)), DTYPE[v.dtype]) for k, v in state.items()]
    head = OrderedDict([("arch", arch), ("source", source), ("num_params", num_params)])
    if note:
        head["note"] = note
    text = json.dumps(head, indent=1)[:-2] + ',\n "tensors": [\n' + ",\n".join(lines) + "\n ]\n}\n"
    json.loads(text)  # well-formed
    with open(path, "w") as f:
        f.write(text)


class UNetBlock(nn.Module):
    """SparK pretrain/decoder.py UNetBlock (BatchNorm2d: sbn is off without distributed training)."""

    def __init__(self, cin, cout):
        super().__init__()
        self.up_sample = nn.ConvTranspose2d(cin, cin, kernel_size=4, stride=2, padding=1, bias=True)
        self.conv = nn.Sequential(
            nn.Conv2d(cin, cin, kernel_size=3, stride=1, padding=1, bias=False), nn.BatchNorm2d(cin), nn.ReLU6(),
            nn.Conv2d(cin, cout, kernel_size=3, stride=1, padding=1, bias=False), nn.BatchNorm2d(cout))


class LightDecoder(nn.Module):
    def __init__(self, up_sample_ratio=32, width=768):
        super().__init__()
        n = round(np.log2(up_sample_ratio))
        channels = [width // 2 ** i for i in range(n + 1)]
        self.dec = nn.ModuleList([UNetBlock(a, b) for a, b in zip(channels[:-1], channels[1:])])
        self.proj = nn.Conv2d(channels[-1], 3, kernel_size=1, stride=1, bias=True)


class SparseEncoder(nn.Module):
    def __init__(self, cnn):
        super().__init__()
        self.sp_cnn = cnn


class SparKKeys(nn.Module):
    """The parameter/buffer layout of SparK pretrain/spark.py for a ResNet (densify_norm 'bn')."""

    def __init__(self, cnn, enc_widths, input_size=224, width=768):
        super().__init__()
        self.sparse_encoder = SparseEncoder(cnn)
        self.dense_decoder = LightDecoder(32, width)
        self.densify_norms = nn.ModuleList()
        self.densify_projs = nn.ModuleList()
        self.mask_tokens = nn.ParameterList()
        e_widths, d = list(enc_widths), width
        for i in range(len(enc_widths)):  # from the smallest feature map to the largest
            e = e_widths.pop()
            self.mask_tokens.append(nn.Parameter(torch.zeros(1, e, 1, 1)))
            self.densify_norms.append(nn.BatchNorm1d(e))  # SparseBatchNorm2d subclasses BatchNorm1d
            k = 1 if i == 0 else 3
            self.densify_projs.append(nn.Conv2d(e, d, kernel_size=k, stride=1, padding=k // 2, bias=True))
            d //= 2
        self.register_buffer("imn_m", torch.empty(1, 3, 1, 1))
        self.register_buffer("imn_s", torch.empty(1, 3, 1, 1))
        self.register_buffer("norm_black", torch.zeros(1, 3, input_size, input_size))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=DEFAULT_OUT)
    ap.add_argument("--keep-pth", metavar="DIR", help="also keep the tiny MAE .pth in DIR (never in the repository)")
    ap.add_argument("--mae-vit-base", metavar="DIR",
                    help="only write a full-size MAE ViT-B/16 .pth and its conversion to DIR (outside the repository)")
    args = ap.parse_args()
    if args.mae_vit_base:
        write_mae_vit_base(args.mae_vit_base)
        return 0
    os.makedirs(args.out, exist_ok=True)
    torch.manual_seed(0)

    # 1. Tiny MAE checkpoint: torch.save in MAE's layout, then the converter.
    state = mae_tiny_state()
    ckpt = {"model": state, "epoch": 799,
            "args": argparse.Namespace(model="mae_vit_tiny_patch4", input_size=IMG, mask_ratio=0.75, norm_pix_loss=True)}
    st_path = os.path.join(args.out, "mae_tiny.safetensors")
    with tempfile.TemporaryDirectory() as tmp:
        pth = os.path.join(args.keep_pth or tmp, "mae_tiny.pth")
        torch.save(ckpt, pth)
        converter.convert(pth, st_path, force=True)
    expected = OrderedDict((k, v.float().numpy()) for k, v in state.items() if not is_decoder_key(k))
    assert len(expected) == 4 + 12 * DEPTH + 2
    write_npz(os.path.join(args.out, "mae_tiny_expected.npz"), expected)

    # Self-check with an independent reader: wrapped names, kept dtypes, exact values.
    with open(st_path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    meta = header.pop("__metadata__")
    assert meta["epoch"] == "799" and json.loads(meta["args"])["input_size"] == IMG, meta
    assert list(header) == ["model." + k for k in state], list(header)
    np_dtype = {"F32": "<f4", "F16": "<f2", "BF16": "<u2"}
    for k, t in state.items():
        info = header["model." + k]
        assert info["dtype"] == DTYPE[t.dtype] and info["shape"] == list(t.shape), k
        b, e = info["data_offsets"]
        arr = np.frombuffer(data[8 + n + b:8 + n + e], dtype=np_dtype[info["dtype"]]).reshape(info["shape"])
        if info["dtype"] == "BF16":
            arr = (arr.astype("<u4") << 16).view("<f4")
        assert np.array_equal(arr.astype(np.float32), t.float().numpy()), k

    # 2. torchvision ResNet key lists.
    import torchvision
    for arch in ("resnet18", "resnet50"):
        model = getattr(torchvision.models, arch)(weights=None)
        n_params = sum(p.numel() for p in model.parameters())
        write_key_json(os.path.join(args.out, arch + "_keys.json"), arch,
                       "torchvision %s models.%s(weights=None).state_dict()" % (torchvision.__version__, arch),
                       model.state_dict(), n_params)

    # 3. SparK's pretraining state dict for resnet50 (timm resnet50 with num_classes=0: no fc).
    cnn = torchvision.models.resnet50(weights=None)
    cnn.fc = nn.Identity()
    spark = SparKKeys(cnn, [256, 512, 1024, 2048])
    write_key_json(os.path.join(args.out, "spark_resnet50_keys.json"), "spark_resnet50",
                   "SparK pretrain/spark.py layout, rebuilt in tools/reference/make_ckpt_fixtures.py",
                   spark.state_dict(), sum(p.numel() for p in spark.parameters()),
                   note="the 'module' entry of <model>_withdecoder_1kpretrained_spark_style.pth")

    for name in sorted(os.listdir(args.out)):
        print("wrote %s (%d bytes)" % (os.path.join(args.out, name), os.path.getsize(os.path.join(args.out, name))))


if __name__ == "__main__":
    sys.exit(main())
