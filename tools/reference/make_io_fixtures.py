#!/usr/bin/python3
"""Fixtures for hgkd's tensor IO tests (io.hgkd.core.io.SafeTensorsTest).

Writes, under src-test-data/io/:

  reference.safetensors       a safetensors file written by hand (struct + json: the
                              `safetensors` package is not installed), exactly per the format:
                              u64 little-endian header length N, N bytes of UTF-8 JSON
                              (compact, "__metadata__" first, padded with spaces so the data
                              start at a multiple of 8), then the tensors' row-major
                              little-endian bytes, back to back in header order.
  reference_expected.npz      the values the Java reader must produce, one entry per tensor:
                              F16 and BF16 tensors as numpy-converted float32 (the Java side
                              compares bit patterns), the others in their own dtype.

  numpy_layouts.npz           arrays whose layout ND4J's own npy reader gets wrong: a
                              Fortran-order float32 (2, 3) = arange(6).reshape(2, 3), big-endian
                              >f4 [1.5, -2, 3e38] and >i8 [1, -2, 2**60], a 0-d int64 (7), a
                              bool [True, False]; uncompressed.
  numpy_compressed.npz        float32 (2, 3) = arange(6).reshape(2, 3), deflated (savez_compressed).

Tensors cover F32, F16 (zeros, subnormals, max, infinities, NaN), BF16 (the upper 16 bits of
the float32 pattern, via a numpy view and shift), F64, I64 (values beyond 2^53), I32, BOOL,
U8, a 0-d scalar, an empty tensor and a non-ASCII name; the header order is deliberately not
sorted, so the reader must keep it.

Run from anywhere with Debian's python (numpy; torch is used for an optional cross-check):

    /usr/bin/python3 tools/reference/make_io_fixtures.py [--out DIR]

Output is byte-for-byte reproducible (seeded data, fixed zip timestamps).
"""

import argparse
import io
import json
import os
import struct
import sys
import zipfile

import numpy as np

REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DEFAULT_OUT = os.path.join(REPO_ROOT, "src-test-data", "io")

METADATA = {"format": "pt", "producer": "tools/reference/make_io_fixtures.py", "note": "caf\u00e9"}


def f32_to_bf16_bits(x):
    """bfloat16 bit patterns (uint16) of float32 values: the upper half of each pattern (truncation)."""
    return (np.ascontiguousarray(x, dtype="<f4").view("<u4") >> 16).astype("<u2")


def bf16_bits_to_f32(bits):
    return (bits.astype("<u4") << 16).view("<f4")


def build():
    """Returns [(name, dtype string, shape, raw little-endian bytes, expected array)] in header order."""
    rng = np.random.default_rng(20240607)
    out = []

    def add(name, dtype, arr, expected=None):
        arr = np.array(arr, order="C")  # not ascontiguousarray: it turns 0-d arrays into 1-d
        out.append((name, dtype, list(arr.shape), arr.tobytes(), arr if expected is None else expected))

    add("encoder.weight", "F32", rng.standard_normal((3, 4)).astype("<f4"))

    half = np.array([0.0, -0.0, 1.0, -2.5, 65504.0, 6.103515625e-05, 5.960464477539063e-08, -3.0e-06,
                     np.inf, -np.inf, np.nan, 0.1], dtype="<f2").reshape(3, 4)
    half[2, 3] = np.float16(rng.standard_normal())
    add("half", "F16", half, expected=half.astype(np.float32))

    src = np.array([1e30, -3.14159265, 1e-30, np.inf, 0.0, np.nan, -1.0, 65536.5], dtype="<f4").reshape(2, 4)
    src[1, 3] = rng.standard_normal()
    bits = f32_to_bf16_bits(src)
    add("bfloat", "BF16", bits, expected=bf16_bits_to_f32(bits))

    add("f64", "F64", np.array([np.pi, -1e-300, 2.0 ** 60], dtype="<f8"))
    add("steps", "I64", np.array([-1, 2 ** 40 + 3, 2 ** 53 + 1, np.iinfo(np.int64).min, np.iinfo(np.int64).max],
                                 dtype="<i8"))
    add("idx", "I32", np.array([[1, -2], [2 ** 31 - 1, -2 ** 31]], dtype="<i4"))
    add("mask", "BOOL", np.array([True, False, True], dtype=np.bool_))
    add("pixels", "U8", np.array([0, 1, 128, 255], dtype=np.uint8))
    add("scalar", "F32", np.array(2.5, dtype="<f4"))
    add("empty", "F32", np.zeros((0, 2), dtype="<f4"))
    add("\u00fcn\u00ef.bias", "F32", np.array([0.25, -0.5], dtype="<f4"))
    return out


def write_safetensors(path, tensors, metadata):
    header = {"__metadata__": metadata}
    offset = 0
    for name, dtype, shape, raw, _ in tensors:
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + len(raw)]}
        offset += len(raw)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for _, _, _, raw, _ in tensors:
            f.write(raw)


def write_npz(path, arrays, compression=zipfile.ZIP_STORED):
    """Like np.savez / np.savez_compressed, with a fixed timestamp so that re-runs are byte-identical."""
    with zipfile.ZipFile(path, "w", compression) as z:
        for key, arr in arrays.items():
            buf = io.BytesIO()
            np.lib.format.write_array(buf, np.asanyarray(arr), allow_pickle=False)
            info = zipfile.ZipInfo(key + ".npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = compression
            z.writestr(info, buf.getvalue())


def read_safetensors(path):
    """Independent minimal reader, to check what was written."""
    dtypes = {"F32": "<f4", "F64": "<f8", "F16": "<f2", "BF16": "<u2", "I64": "<i8", "I32": "<i4",
              "BOOL": np.bool_, "U8": np.uint8}
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    assert (8 + n) % 8 == 0
    header = json.loads(data[8:8 + n].decode("utf-8"))
    buf = data[8 + n:]
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        b, e = info["data_offsets"]
        arr = np.frombuffer(buf[b:e], dtype=dtypes[info["dtype"]]).reshape(info["shape"])
        if info["dtype"] == "F16":
            arr = arr.astype(np.float32)
        elif info["dtype"] == "BF16":
            arr = bf16_bits_to_f32(arr)
        out[name] = arr
    return header, out


def same_bits(a, b):
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=DEFAULT_OUT)
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)

    tensors = build()
    st = os.path.join(args.out, "reference.safetensors")
    npz = os.path.join(args.out, "reference_expected.npz")
    write_safetensors(st, tensors, METADATA)
    expected = {name: exp for name, _, _, _, exp in tensors}
    write_npz(npz, expected)

    # Self-checks: the file parses back to the expected values, and the npz round-trips.
    header, back = read_safetensors(st)
    assert header["__metadata__"] == METADATA
    assert list(back) == [t[0] for t in tensors]
    assert header["scalar"]["shape"] == [] and header["empty"]["shape"] == [0, 2]
    loaded = np.load(npz)
    for name, exp in expected.items():
        assert same_bits(back[name], exp), name
        assert same_bits(loaded[name], exp), name
    try:  # torch's own conversions agree with numpy's (NaN excluded: payloads may differ)
        import torch
        h = back["half"]
        t = torch.from_numpy(np.frombuffer(tensors[1][3], dtype="<f2").reshape(3, 4).copy()).float().numpy()
        ok = ~np.isnan(h)
        assert same_bits(t[ok], h[ok])
        bf = back["bfloat"]
        tb = torch.from_numpy(bf.copy()).to(torch.bfloat16).float().numpy()  # exact: already bf16 values
        ok = ~np.isnan(bf)
        assert same_bits(tb[ok], bf[ok])
    except ImportError:
        print("torch not available: skipped the torch cross-check", file=sys.stderr)
    grid = np.arange(6, dtype=np.float32).reshape(2, 3)
    layouts = {
        "fortran": np.asfortranarray(grid),
        "be_f4": np.array([1.5, -2.0, 3e38], dtype=">f4"),
        "be_i8": np.array([1, -2, 2 ** 60], dtype=">i8"),
        "scalar_i8": np.array(7, dtype=np.int64),
        "flags": np.array([True, False]),
    }
    assert layouts["fortran"].flags.f_contiguous and not layouts["fortran"].flags.c_contiguous
    write_npz(os.path.join(args.out, "numpy_layouts.npz"), layouts)
    write_npz(os.path.join(args.out, "numpy_compressed.npz"), {"grid": grid}, zipfile.ZIP_DEFLATED)
    with zipfile.ZipFile(os.path.join(args.out, "numpy_layouts.npz")) as z:
        assert b"'fortran_order': True" in z.read("fortran.npy")
    with zipfile.ZipFile(os.path.join(args.out, "numpy_compressed.npz")) as z:
        assert z.getinfo("grid.npy").compress_type == zipfile.ZIP_DEFLATED
    for name in sorted(os.listdir(args.out)):
        print("wrote %s (%d bytes)" % (os.path.join(args.out, name), os.path.getsize(os.path.join(args.out, name))))


if __name__ == "__main__":
    main()
