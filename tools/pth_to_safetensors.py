#!/usr/bin/python3
"""Convert a PyTorch checkpoint (.pth/.pt/.bin) to safetensors, without the `safetensors` package.

hgkd reads safetensors and npz, not Python pickles. Convert a checkpoint once, offline, with PyTorch:

    python3 tools/pth_to_safetensors.py mae_pretrain_vit_base.pth mae_pretrain_vit_base.safetensors
    python3 tools/pth_to_safetensors.py --list mae_pretrain_vit_base.pth
    python3 tools/pth_to_safetensors.py --select module spark_resnet50.pth spark_resnet50.safetensors

Nested dicts of tensors are flattened with dotted names: MAE's `{'model': state_dict}` gives `model.cls_token`,
`model.pos_embed`, ... (hgkd's loader unwraps such a prefix itself). `--select model` keeps only the tensors under
`model.` and drops that prefix (and the optimizer state, if any). Non-tensor entries (`epoch`, `args`, ...) go into
the safetensors `__metadata__` as strings: str values as they are, others as JSON (repr() where JSON cannot express
them). Tensor dtypes F32, F16, BF16, F64 and integer/bool types are kept as they are; `--dtype f32` casts every
floating tensor to F32. A module saved whole (`torch.save(model)`) is converted through its `state_dict()`.

The output follows the safetensors format: an 8-byte little-endian header length N, N bytes of UTF-8 JSON
{name: {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {str: str}} padded with spaces so that the
data start at a multiple of 8, then each tensor's row-major little-endian bytes, back to back in header order. The
file is written to a temporary file next to the output and renamed into place, so a failed run leaves no partial
file.

Security: torch.load unpickles, which can run arbitrary code. Convert only files you trust, or pass
--weights-only (PyTorch >= 1.13; it rejects checkpoints that pickle other objects, e.g. MAE's argparse `args`).

Exit status: 0 on success, 1 on an error (message on stderr), 2 on a usage error.
"""

import argparse
import json
import os
import struct
import sys

FORMAT_NOTE = "tools/pth_to_safetensors.py"
METADATA_KEY = "__metadata__"


class ConversionError(Exception):
    """A problem with the input or output, reported to the user without a traceback."""


def _torch():
    try:
        import torch
    except ImportError as e:
        raise ConversionError("PyTorch is required to read .pth files (%s); run this with a Python that has torch, "
                              "e.g. Debian's /usr/bin/python3 after `apt-get install python3-torch`" % e)
    return torch


def _dtype_names(torch):
    return {
        torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16", torch.float64: "F64",
        torch.int64: "I64", torch.int32: "I32", torch.int16: "I16", torch.int8: "I8", torch.uint8: "U8",
        torch.bool: "BOOL",
    }


def _looks_like_safetensors(path):
    """An 8-byte header length that fits in the file, followed by a JSON object."""
    try:
        with open(path, "rb") as f:
            head = f.read(9)
        size = os.path.getsize(path)
    except OSError:
        return False
    if len(head) < 9:
        return False
    (n,) = struct.unpack("<Q", head[:8])
    return head[8:9] == b"{" and 8 + n <= size


def load_checkpoint(path, weights_only=False):
    """torch.load on the CPU, with errors that name the file."""
    torch = _torch()
    if not os.path.exists(path):
        raise ConversionError("%s: no such file" % path)
    if os.path.isdir(path):
        raise ConversionError("%s: is a directory, not a checkpoint file" % path)
    if _looks_like_safetensors(path):
        raise ConversionError("%s: is already a safetensors file; hgkd reads it directly" % path)
    kwargs = {"map_location": "cpu"}
    if weights_only:
        kwargs["weights_only"] = True
    try:
        return torch.load(path, **kwargs)
    except TypeError as e:
        if weights_only and "weights_only" in str(e):
            raise ConversionError("this PyTorch (%s) has no weights_only option" % torch.__version__)
        raise ConversionError("%s: cannot be read as a PyTorch checkpoint: %s" % (path, e))
    except Exception as e:  # torch raises RuntimeError, UnpicklingError, EOFError, ... for bad files
        raise ConversionError("%s: cannot be read as a PyTorch checkpoint: %s: %s" % (path, type(e).__name__, e))


def _contains_tensor(obj, torch):
    if isinstance(obj, torch.Tensor):
        return True
    if isinstance(obj, dict):
        return any(_contains_tensor(v, torch) for v in obj.values())
    if isinstance(obj, (list, tuple)):
        return any(_contains_tensor(v, torch) for v in obj)
    return False


def _metadata_value(obj):
    """str as is; an argparse.Namespace (MAE's and SparK's `args`) as a JSON object of its fields; JSON-able values
    as JSON (with repr() for nested odd objects); anything else as repr()."""
    if isinstance(obj, str):
        return obj
    if isinstance(obj, argparse.Namespace):
        obj = vars(obj)
    elif not isinstance(obj, (dict, list, tuple, int, float, bool, type(None))):
        return repr(obj)
    try:
        return json.dumps(obj, default=repr, ensure_ascii=False)
    except (TypeError, ValueError):  # e.g. circular references, dict keys JSON cannot take
        return repr(obj)


def flatten(obj):
    """Flattens a checkpoint into ({dotted name: tensor}, {dotted name: metadata string}), both in insertion order.

    Dicts recurse with `name.key`; lists and tuples that hold tensors recurse with `name.index`; any other value is
    metadata. A top-level nn.Module is replaced by its state_dict().
    """
    torch = _torch()
    tensors, metadata = {}, {}
    if isinstance(obj, torch.nn.Module):
        obj = obj.state_dict()
    if isinstance(obj, torch.Tensor):
        raise ConversionError("the checkpoint is a single tensor, not a dict of named tensors")
    if not isinstance(obj, (dict, list, tuple)):
        raise ConversionError("the checkpoint holds a %s, not a dict of tensors" % type(obj).__name__)

    def add(store, name, value):
        if name in tensors or name in metadata:
            raise ConversionError("two entries flatten to the same name '%s'" % name)
        store[name] = value

    def walk(node, prefix):
        if isinstance(node, torch.Tensor):
            add(tensors, prefix, node)
        elif isinstance(node, dict):
            for k, v in node.items():
                walk(v, "%s.%s" % (prefix, k) if prefix else str(k))
        elif isinstance(node, (list, tuple)) and _contains_tensor(node, torch):
            for i, v in enumerate(node):
                walk(v, "%s.%d" % (prefix, i) if prefix else str(i))
        else:
            add(metadata, prefix, _metadata_value(node))

    walk(obj, "")
    return tensors, metadata


def top_level_summary(names):
    """'model (150), optimizer (300)': the first dotted component of each name with its count."""
    counts = {}
    for n in names:
        head = n.split(".", 1)[0]
        counts[head] = counts.get(head, 0) + 1
    return ", ".join("%s (%d)" % (k, v) for k, v in counts.items())


def select(tensors, prefix):
    """Keeps the tensors under `prefix.` (a dotted path such as `model` or `module.sparse_encoder.sp_cnn`), without it."""
    p = prefix.rstrip(".") + "."
    out = {k[len(p):]: v for k, v in tensors.items() if k.startswith(p)}
    if not out:
        raise ConversionError("--select %s: no tensor name starts with '%s'; top-level names: %s"
                              % (prefix, p, top_level_summary(tensors) or "none"))
    return out


def select_metadata(metadata, prefix):
    """With --select: the top-level entries (epoch, args, ...) and those under the prefix; not, e.g., the optimizer's."""
    p = prefix.rstrip(".") + "."
    return {k: v for k, v in metadata.items() if "." not in k or k.startswith(p)}


def plan(tensors, cast_f32):
    """[(name, dtype string, shape, tensor to write)] with contiguous CPU tensors, validated."""
    torch = _torch()
    names = _dtype_names(torch)
    floats = (torch.float16, torch.bfloat16, torch.float64)
    out = []
    for name, t in tensors.items():
        if name == METADATA_KEY:
            raise ConversionError("a tensor is named '%s', which safetensors reserves for metadata" % METADATA_KEY)
        if t.layout != torch.strided:
            raise ConversionError("tensor '%s' has layout %s; only dense tensors can be written" % (name, t.layout))
        if t.is_quantized:
            raise ConversionError("tensor '%s' is quantized (%s); dequantize it first" % (name, t.dtype))
        t = t.detach().cpu()
        if cast_f32 and t.dtype in floats:
            t = t.to(torch.float32)
        if t.dtype not in names:
            raise ConversionError("tensor '%s' has dtype %s, which has no safetensors equivalent here (supported: %s)"
                                  % (name, t.dtype, ", ".join(str(d) for d in names)))
        out.append((name, names[t.dtype], list(t.shape), t.contiguous()))
    return out


def tensor_bytes(t):
    """Row-major little-endian bytes of a contiguous CPU tensor."""
    torch = _torch()
    if t.dtype == torch.bfloat16:  # numpy has no bfloat16: write the bit patterns
        t = t.view(torch.int16)
    return t.numpy().tobytes()


def header_bytes(entries, metadata):
    header = {}
    if metadata:
        header[METADATA_KEY] = metadata
    offset = 0
    for name, dtype, shape, t in entries:
        n = t.numel() * t.element_size()
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + n]}
        offset += n
    text = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    return text + b" " * ((8 - len(text) % 8) % 8)  # the data then start at 8 + N, a multiple of 8


def write_safetensors(path, entries, metadata):
    """Writes atomically: a temporary file in the output's directory, fsync, then rename over `path`."""
    if sys.byteorder != "little":
        raise ConversionError("this machine is big-endian; safetensors data must be little-endian")
    header = header_bytes(entries, metadata)
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise ConversionError("%s: the output directory %s does not exist" % (path, directory))
    tmp = os.path.join(directory, ".%s.tmp-%d" % (os.path.basename(path), os.getpid()))
    try:
        with open(tmp, "wb") as f:
            f.write(struct.pack("<Q", len(header)))
            f.write(header)
            for _, _, _, t in entries:
                f.write(tensor_bytes(t))
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def default_output(path):
    root, _ = os.path.splitext(path)
    return root + ".safetensors"


def convert(src, dst=None, select_prefix=None, cast_f32=False, force=False, weights_only=False):
    """Converts `src` to safetensors at `dst` (default: `src` with the extension .safetensors).

    Returns (output path, [(name, dtype, shape)], metadata dict).
    """
    dst = dst or default_output(src)
    if os.path.abspath(dst) == os.path.abspath(src):
        raise ConversionError("%s: the output would overwrite the input; give another output path" % dst)
    if os.path.exists(dst) and not force:
        raise ConversionError("%s: already exists (pass --force to replace it)" % dst)
    tensors, metadata = flatten(load_checkpoint(src, weights_only))
    if select_prefix:
        tensors = select(tensors, select_prefix)
        metadata = select_metadata(metadata, select_prefix)
    if not tensors:
        raise ConversionError("%s: holds no tensors (entries: %s)" % (src, ", ".join(metadata) or "none"))
    entries = plan(tensors, cast_f32)
    meta = {"format": "pt", "converted_from": os.path.basename(src), "converter": FORMAT_NOTE}
    if select_prefix:
        meta["selected"] = select_prefix
    if cast_f32:
        meta["cast"] = "f32"
    meta.update(metadata)  # the checkpoint's own entries win over our provenance notes
    write_safetensors(dst, entries, meta)
    return dst, [(n, d, s) for n, d, s, _ in entries], meta


def list_checkpoint(src, select_prefix=None, weights_only=False, out=None):
    out = out or sys.stdout
    tensors, metadata = flatten(load_checkpoint(src, weights_only))
    if select_prefix:
        tensors = select(tensors, select_prefix)
        metadata = select_metadata(metadata, select_prefix)
    names = _dtype_names(_torch())
    width = max([len(k) for k in tensors] + [4])
    total = 0
    for k, t in tensors.items():
        total += t.numel()
        print("%-*s  %-5s  %s" % (width, k, names.get(t.dtype, str(t.dtype)), list(t.shape)), file=out)
    print("%d tensors, %d elements" % (len(tensors), total), file=out)
    for k, v in metadata.items():
        v = v if len(v) <= 200 else v[:197] + "..."
        print("metadata %s = %s" % (k, v), file=out)


def main(argv=None):
    ap = argparse.ArgumentParser(
        prog="pth_to_safetensors.py",
        description="Convert a PyTorch checkpoint (.pth/.pt/.bin) to safetensors for hgkd, without the safetensors "
                    "package. Nested dicts are flattened with dotted names; non-tensor entries become metadata.",
        epilog="Example: python3 tools/pth_to_safetensors.py mae_pretrain_vit_base.pth mae_pretrain_vit_base.safetensors")
    ap.add_argument("input", help="checkpoint written by torch.save")
    ap.add_argument("output", nargs="?", help="output .safetensors (default: the input with that extension)")
    ap.add_argument("--select", metavar="PREFIX",
                    help="keep only the tensors under PREFIX (e.g. model, module, module.sparse_encoder.sp_cnn), "
                         "without it")
    ap.add_argument("--dtype", choices=["keep", "f32"], default="keep",
                    help="keep each tensor's dtype (default) or cast F16/BF16/F64 tensors to F32")
    ap.add_argument("--list", action="store_true", help="print tensor names, dtypes and shapes; write nothing")
    ap.add_argument("--force", action="store_true", help="replace an existing output file")
    ap.add_argument("--weights-only", action="store_true",
                    help="torch.load(weights_only=True): refuse to unpickle arbitrary objects")
    args = ap.parse_args(argv)
    try:
        if args.list:
            if args.output:
                ap.error("--list takes no output file")
            list_checkpoint(args.input, args.select, args.weights_only)
            return 0
        dst, entries, _ = convert(args.input, args.output, args.select, args.dtype == "f32", args.force,
                                  args.weights_only)
        counts = {}
        for _, d, _ in entries:
            counts[d] = counts.get(d, 0) + 1
        print("wrote %s: %d tensors (%s), %d bytes" % (dst, len(entries), ", ".join(
            "%s %d" % kv for kv in counts.items()), os.path.getsize(dst)))
        return 0
    except ConversionError as e:
        print("pth_to_safetensors.py: error: %s" % e, file=sys.stderr)
        return 1
    except OSError as e:
        print("pth_to_safetensors.py: error: %s" % e, file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
