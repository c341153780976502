#!/usr/bin/env python3
"""Keep the records of a run root (runs/fashion-mnist) in the repository, and put them back.

The run folders are git-ignored and live on one machine; a sitting that ends on another machine loses them
(2026-11-27: every run of the grid, teacher included, was lost that way). `save` copies what summarize.py and
run.sh read from every finished stage into a committed folder (default docs/results/runs/<the root's name>, so
runs/fashion-mnist-lr-full goes to docs/results/runs/fashion-mnist-lr-full; summarize.py finds the sweep roots
beside the main one there as it does under runs/):

  every stage_times.tsv; for finished training runs (.done) .done, config.json, epochs.jsonl, metrics.jsonl, and the
  teacher's and fine-tuned teacher's loss.png and metrics.png; for probes probe.json and config.json; eval.txt,
  encoder_norms.json (encoder_scale.py) and about.md (a side experiment's description) wherever they are

Checkpoints are never copied. Weights only when named with --weights (paths under the root, e.g.
teacher/vit_encoder.safetensors): the exported encoders that a stage still to run will read. The archive then
holds exactly the weights named in the last `save`, so encoders whose consumers are done leave the tree (git's
history keeps them).

`restore` copies the archive into a root, never over an existing file. run.sh then skips every archived stage and
exports nothing whose consumers are done (it exports an encoder only for a stage that is about to run).

  python3 tools/experiments/fashion_mnist/archive.py save [--root runs/fashion-mnist] [--weights PATH ...]
  python3 tools/experiments/fashion_mnist/archive.py restore [--root runs/fashion-mnist]
  python3 tools/experiments/fashion_mnist/summarize.py --root docs/results/runs/fashion-mnist   # from the archive
"""
import argparse
import os
import sys

from atomic import atomic_copy

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
DEFAULT_ROOT = os.path.join(REPO, "runs", "fashion-mnist")
ARCHIVES = os.path.join(REPO, "docs", "results", "runs")

TRAIN_RECORDS = (".done", "config.json", "epochs.jsonl", "metrics.jsonl")
TEACHER_PLOTS = ("loss.png", "metrics.png")  # summarize.py copies these of teacher/ and teacher_ft/
# anywhere: a fine-tune's final evaluation, encoder_scale.py's record of an encoder, a side experiment's description
SIDE_RECORDS = ("eval.txt", "encoder_norms.json", "about.md")


def records(root):
    """Relative paths of the record files of every finished stage under root (no weights, no checkpoints)."""
    out = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d != "checkpoints")
        rel = os.path.relpath(dirpath, root)
        files = set(filenames)
        keep = ["stage_times.tsv"] if "stage_times.tsv" in files else []  # lr_sweep.sh's roots have one per rate
        if ".done" in files:
            keep += [f for f in TRAIN_RECORDS if f in files]
            if rel in ("teacher", "teacher_ft"):
                keep += [f for f in TEACHER_PLOTS if f in files]
        if "probe.json" in files:
            keep += [f for f in ("probe.json", "config.json") if f in files]
        keep += [f for f in SIDE_RECORDS if f in files]
        out += [os.path.normpath(os.path.join(rel, f)) for f in dict.fromkeys(keep)]
    return out


def copy(src, dst):
    """Copy through a temporary file beside dst, then rename: a reader never sees half a file."""
    atomic_copy(src, dst)


def save(root, archive, weights):
    if not os.path.isdir(root):
        sys.exit("archive.py: no run root %s" % root)
    missing = [w for w in weights if not os.path.isfile(os.path.join(root, w))]
    if missing:
        sys.exit("archive.py: --weights not found under %s: %s" % (root, ", ".join(missing)))
    bad = [w for w in weights if not w.endswith(".safetensors")]
    if bad:
        sys.exit("archive.py: --weights takes exported .safetensors files, not %s" % ", ".join(bad))
    wanted = records(root) + [os.path.normpath(w) for w in weights]
    for rel in wanted:
        copy(os.path.join(root, rel), os.path.join(archive, rel))
    # the archive mirrors the root's finished stages: drop what is no longer wanted (weights whose consumers are done)
    dropped = []
    for dirpath, _, filenames in os.walk(archive):
        for f in filenames:
            rel = os.path.relpath(os.path.join(dirpath, f), archive)
            if rel not in wanted and f.endswith(".safetensors"):
                os.remove(os.path.join(archive, rel))
                dropped.append(rel)
    size = sum(os.path.getsize(os.path.join(archive, r)) for r in wanted)
    print("archive.py: %d files (%d weights, %.1f MB) from %s into %s" % (
        len(wanted), len(weights), size / 1e6, root, archive))
    for rel in dropped:
        print("archive.py: dropped %s (not named in --weights)" % rel)


def restore(root, archive):
    if not os.path.isdir(archive):
        sys.exit("archive.py: no archive %s" % archive)
    copied = kept = 0
    for dirpath, _, filenames in os.walk(archive):
        for f in sorted(filenames):
            rel = os.path.relpath(os.path.join(dirpath, f), archive)
            dst = os.path.join(root, rel)
            if os.path.exists(dst):
                kept += 1
                continue
            copy(os.path.join(archive, rel), dst)
            copied += 1
    print("archive.py: restored %d files from %s into %s (%d already there, left as they were)" % (
        copied, archive, root, kept))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("command", choices=("save", "restore"))
    ap.add_argument("--root", default=DEFAULT_ROOT, help="the run root (default %(default)s)")
    ap.add_argument("--archive", help="the committed copy (default: docs/results/runs/<the root's name>)")
    ap.add_argument("--weights", nargs="*", default=[], help="exported encoders to keep, relative to the root")
    a = ap.parse_args(argv)
    a.archive = a.archive or os.path.join(ARCHIVES, os.path.basename(os.path.normpath(a.root)))
    if a.command == "save":
        save(a.root, a.archive, a.weights)
    else:
        if a.weights:
            sys.exit("archive.py: restore takes no --weights (it restores what the archive holds)")
        restore(a.root, a.archive)


if __name__ == "__main__":
    main()
