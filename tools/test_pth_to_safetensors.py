#!/usr/bin/python3
"""Self-test of tools/pth_to_safetensors.py. Needs PyTorch (Debian: apt-get install python3-torch).

    /usr/bin/python3 tools/test_pth_to_safetensors.py [-v]

Every output is read back with the small independent reader below (struct + json + numpy), not with the converter's
own code, and compared bit for bit with the tensors that were saved.
"""

import argparse
import contextlib
import importlib.util
import io
import json
import os
import struct
import subprocess
import sys
import tempfile
import unittest
from collections import OrderedDict

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
TOOL = os.path.join(HERE, "pth_to_safetensors.py")
_spec = importlib.util.spec_from_file_location("pth_to_safetensors", TOOL)
conv = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(conv)

NUMPY = {"F32": "<f4", "F16": "<f2", "BF16": "<i2", "F64": "<f8", "I64": "<i8", "I32": "<i4", "I16": "<i2",
         "I8": "i1", "U8": "u1", "BOOL": "?"}
SIZE = {"F32": 4, "F16": 2, "BF16": 2, "F64": 8, "I64": 8, "I32": 4, "I16": 2, "I8": 1, "U8": 1, "BOOL": 1}


def read_safetensors(path):
    """Returns (header length, metadata, OrderedDict name -> (dtype, shape, numpy array of the raw values))."""
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n].decode("utf-8"), object_pairs_hook=OrderedDict)
    buf = data[8 + n:]
    metadata = header.pop("__metadata__", {})
    out = OrderedDict()
    end = 0
    for name, info in header.items():
        b, e = info["data_offsets"]
        assert b == end, "tensors must be back to back: %s starts at %d, expected %d" % (name, b, end)
        count = int(np.prod(info["shape"])) if info["shape"] else 1
        assert e - b == count * SIZE[info["dtype"]], name
        arr = np.frombuffer(buf[b:e], dtype=NUMPY[info["dtype"]]).reshape(info["shape"])
        out[name] = (info["dtype"], info["shape"], arr)
        end = e
    assert end == len(buf), "no bytes may follow the last tensor"
    return n, metadata, out


def raw(t):
    """The expected stored values of a torch tensor: numpy, with bfloat16 as its int16 bit patterns."""
    t = t.detach().contiguous()
    if t.dtype == torch.bfloat16:
        return t.view(torch.int16).numpy()
    return t.numpy()


def same(a, b):
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()


def mae_like():
    g = torch.Generator().manual_seed(7)
    model = OrderedDict()
    model["cls_token"] = torch.randn(1, 1, 8, generator=g)
    model["pos_embed"] = torch.randn(1, 5, 8, generator=g).half()
    model["patch_embed.proj.weight"] = torch.randn(8, 3, 2, 2, generator=g)
    model["blocks.0.norm1.weight"] = torch.randn(8, generator=g).to(torch.bfloat16)
    model["blocks.0.attn.qkv.weight"] = torch.randn(8, 24, generator=g).t()  # non-contiguous view
    model["bn.num_batches_tracked"] = torch.tensor(12345678901, dtype=torch.int64)  # 0-d
    model["f64"] = torch.tensor([1.0 / 3.0, -2.5], dtype=torch.float64)
    model["flags"] = torch.tensor([True, False, True])
    model["pixels"] = torch.tensor([0, 7, 255], dtype=torch.uint8)
    model["empty"] = torch.zeros(0, 3)
    opt = {"state": {0: {"step": torch.tensor(3.0), "exp_avg": torch.randn(2, generator=g)}},
           "param_groups": [{"lr": 0.001, "params": [0]}]}
    return {"model": model, "optimizer": opt, "epoch": 799, "args": argparse.Namespace(lr=1.5e-4, model="mae"),
            "note": "caf\u00e9"}


class ConverterTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.dir = self.tmp.name
        self.ckpt = mae_like()
        self.pth = os.path.join(self.dir, "ckpt.pth")
        torch.save(self.ckpt, self.pth)

    def tearDown(self):
        self.tmp.cleanup()

    def run_main(self, *argv):
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = conv.main(list(argv))
            except SystemExit as e:
                code = e.code
        return code, out.getvalue(), err.getvalue()

    def leftovers(self):
        return [f for f in os.listdir(self.dir) if ".tmp-" in f]

    def test_flattens_nested_dicts_and_keeps_dtypes_and_values(self):
        dst = os.path.join(self.dir, "out.safetensors")
        code, out, err = self.run_main(self.pth, dst)
        self.assertEqual(0, code, err)
        self.assertIn("wrote " + dst, out)
        n, meta, tensors = read_safetensors(dst)
        self.assertEqual(0, (8 + n) % 8, "data must start 8-byte aligned")
        model = self.ckpt["model"]
        expected_names = ["model." + k for k in model] + ["optimizer.state.0.step", "optimizer.state.0.exp_avg"]
        self.assertEqual(expected_names, list(tensors))
        dtypes = {k: v[0] for k, v in tensors.items()}
        self.assertEqual({"model.cls_token": "F32", "model.pos_embed": "F16", "model.patch_embed.proj.weight": "F32",
                          "model.blocks.0.norm1.weight": "BF16", "model.blocks.0.attn.qkv.weight": "F32",
                          "model.bn.num_batches_tracked": "I64", "model.f64": "F64", "model.flags": "BOOL",
                          "model.pixels": "U8", "model.empty": "F32", "optimizer.state.0.step": "F32",
                          "optimizer.state.0.exp_avg": "F32"}, dtypes)
        for k, t in model.items():
            self.assertEqual(list(t.shape), tensors["model." + k][1], k)
            self.assertTrue(same(raw(t), tensors["model." + k][2]), k)
        self.assertEqual([], tensors["model.bn.num_batches_tracked"][1])
        # Non-tensors become string metadata: JSON where possible, repr() otherwise, str as is.
        self.assertEqual("799", meta["epoch"])
        self.assertEqual("caf\u00e9", meta["note"])
        self.assertEqual({"lr": 1.5e-4, "model": "mae"}, json.loads(meta["args"]))
        self.assertEqual([{"lr": 0.001, "params": [0]}], json.loads(meta["optimizer.param_groups"]))
        self.assertEqual("pt", meta["format"])
        self.assertEqual("ckpt.pth", meta["converted_from"])
        self.assertTrue(all(isinstance(v, str) for v in meta.values()))
        self.assertEqual([], self.leftovers())

    def test_select_keeps_a_sub_dict_without_its_prefix(self):
        dst = os.path.join(self.dir, "sel.safetensors")
        code, _, err = self.run_main("--select", "model", self.pth, dst)
        self.assertEqual(0, code, err)
        _, meta, tensors = read_safetensors(dst)
        self.assertEqual(list(self.ckpt["model"]), list(tensors))
        self.assertEqual("model", meta["selected"])
        self.assertEqual("799", meta["epoch"])
        self.assertNotIn("optimizer.param_groups", meta)

    def test_select_accepts_a_dotted_path_into_a_flat_state_dict(self):
        sd = OrderedDict([("sparse_encoder.sp_cnn.conv1.weight", torch.ones(2, 1, 1, 1)),
                          ("dense_decoder.proj.bias", torch.zeros(3))])
        pth = os.path.join(self.dir, "spark.pth")
        torch.save({"module": sd, "epoch": 1}, pth)
        dst = os.path.join(self.dir, "enc.safetensors")
        code, _, err = self.run_main("--select", "module.sparse_encoder.sp_cnn", pth, dst)
        self.assertEqual(0, code, err)
        _, _, tensors = read_safetensors(dst)
        self.assertEqual(["conv1.weight"], list(tensors))

    def test_dtype_f32_casts_floats_only(self):
        dst = os.path.join(self.dir, "f32.safetensors")
        code, _, err = self.run_main("--dtype", "f32", self.pth, dst)
        self.assertEqual(0, code, err)
        _, meta, tensors = read_safetensors(dst)
        model = self.ckpt["model"]
        for k in ("pos_embed", "blocks.0.norm1.weight", "f64"):
            self.assertEqual("F32", tensors["model." + k][0], k)
            self.assertTrue(same(model[k].float().numpy(), tensors["model." + k][2]), k)
        self.assertEqual("I64", tensors["model.bn.num_batches_tracked"][0])
        self.assertEqual("BOOL", tensors["model.flags"][0])
        self.assertEqual("f32", meta["cast"])

    def test_default_output_name_and_module_saved_whole(self):
        net = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.BatchNorm2d(4))
        pth = os.path.join(self.dir, "net.pt")
        torch.save(net, pth)
        code, _, err = self.run_main(pth)
        self.assertEqual(0, code, err)
        _, _, tensors = read_safetensors(os.path.join(self.dir, "net.safetensors"))
        self.assertEqual(list(net.state_dict()), list(tensors))

    def test_list_prints_names_shapes_and_metadata_and_writes_nothing(self):
        before = sorted(os.listdir(self.dir))
        code, out, err = self.run_main("--list", self.pth)
        self.assertEqual(0, code, err)
        self.assertIn("model.pos_embed", out)
        self.assertIn("F16", out)
        self.assertIn("[1, 5, 8]", out)
        self.assertIn("12 tensors", out)
        self.assertIn("metadata epoch = 799", out)
        self.assertEqual(before, sorted(os.listdir(self.dir)))

    def test_errors_name_the_file_and_leave_nothing_behind(self):
        missing = os.path.join(self.dir, "nope.pth")
        code, _, err = self.run_main(missing)
        self.assertEqual(1, code)
        self.assertIn(missing + ": no such file", err)

        junk = os.path.join(self.dir, "junk.pth")
        with open(junk, "wb") as f:
            f.write(b"this is not a checkpoint")
        code, _, err = self.run_main(junk)
        self.assertEqual(1, code)
        self.assertIn(junk + ": cannot be read as a PyTorch checkpoint", err)

        code, _, err = self.run_main("--force", self.pth, os.path.join(self.dir, "a.safetensors"))
        self.assertEqual(0, code, err)
        code, _, err = self.run_main(os.path.join(self.dir, "a.safetensors"), os.path.join(self.dir, "b.st"))
        self.assertEqual(1, code)
        self.assertIn("a.safetensors: is already a safetensors file", err)

        code, _, err = self.run_main("--select", "encoder", self.pth)
        self.assertEqual(1, code)
        self.assertIn("no tensor name starts with 'encoder.'", err)
        self.assertIn("model (10), optimizer (2)", err)

        dst = os.path.join(self.dir, "exists.safetensors")
        with open(dst, "wb") as f:
            f.write(b"keep me")
        code, _, err = self.run_main(self.pth, dst)
        self.assertEqual(1, code)
        self.assertIn("already exists", err)
        with open(dst, "rb") as f:
            self.assertEqual(b"keep me", f.read())
        code, _, err = self.run_main("--force", self.pth, dst)
        self.assertEqual(0, code, err)

        meta_only = os.path.join(self.dir, "meta.pth")
        torch.save({"epoch": 3, "args": {"lr": 1}}, meta_only)
        code, _, err = self.run_main(meta_only)
        self.assertEqual(1, code)
        self.assertIn("holds no tensors", err)

        bad_dtype = os.path.join(self.dir, "complex.pth")
        torch.save({"w": torch.zeros(2, dtype=torch.complex64)}, bad_dtype)
        code, _, err = self.run_main(bad_dtype)
        self.assertEqual(1, code)
        self.assertIn("tensor 'w' has dtype torch.complex64", err)

        reserved = os.path.join(self.dir, "reserved.pth")
        torch.save({"__metadata__": torch.zeros(1)}, reserved)
        code, _, err = self.run_main(reserved)
        self.assertEqual(1, code)
        self.assertIn("reserves for metadata", err)

        code, _, err = self.run_main(self.pth, self.pth)
        self.assertEqual(1, code)
        self.assertIn("overwrite the input", err)
        self.assertEqual([], self.leftovers())

    def test_failed_write_keeps_the_old_output_and_removes_the_temporary_file(self):
        dst = os.path.join(self.dir, "old.safetensors")
        with open(dst, "wb") as f:
            f.write(b"old")
        original = conv.tensor_bytes

        def broken(t):
            raise OSError("disk full (simulated)")

        conv.tensor_bytes = broken
        try:
            code, _, err = self.run_main("--force", self.pth, dst)
        finally:
            conv.tensor_bytes = original
        self.assertEqual(1, code)
        self.assertIn("disk full", err)
        with open(dst, "rb") as f:
            self.assertEqual(b"old", f.read())
        self.assertEqual([], self.leftovers())

    def test_command_line_exit_codes(self):
        dst = os.path.join(self.dir, "cli.safetensors")
        ok = subprocess.run([sys.executable, TOOL, self.pth, dst], capture_output=True, text=True)
        self.assertEqual(0, ok.returncode, ok.stderr)
        bad = subprocess.run([sys.executable, TOOL, os.path.join(self.dir, "missing.pth")], capture_output=True,
                             text=True)
        self.assertEqual(1, bad.returncode)
        self.assertNotIn("Traceback", bad.stderr)
        usage = subprocess.run([sys.executable, TOOL, "--dtype", "f8", self.pth], capture_output=True, text=True)
        self.assertEqual(2, usage.returncode)


if __name__ == "__main__":
    unittest.main()
