#!/usr/bin/env python3
"""Move fine-tuning runs from one run root to another, with their rows of stage_times.tsv.

For when a run belongs in another root than the one it ran in: e.g. fine-tunes made before a recipe change leave
the grid for a side root (2026-11-27: the fine-tunes of encoders as exported, before FT_CONV_SCALE=init), or a side
experiment's run is exactly a grid run. Each NAME is a folder under ROOT/finetune (hgkd-s0-1pct); its stage rows
are finetune.hgkd.s0.1pct and eval.hgkd.s0.1pct. Refuses to overwrite a run folder at the destination.

  python3 tools/experiments/fashion_mnist/move_runs.py --from runs/fashion-mnist --to runs/fashion-mnist-extra/X NAME...
"""
import argparse
import csv
import os
import re
import shutil
import sys

from atomic import atomic_open

HEADER = ["stage", "seconds", "status", "machine", "finished"]


def stage_names(name):
    m = re.fullmatch(r"(.+)-s(\d+)-(\d+(?:\.\d+)?)pct", name)
    if not m:
        raise ValueError("%s is not a fine-tuning run name (<student>-s<seed>-<P>pct)" % name)
    tail = "%s.s%s.%spct" % m.groups()
    return {"finetune." + tail, "eval." + tail}


def read_rows(path):
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return list(csv.DictReader(f, delimiter="\t"))


def write_rows(path, rows):
    with atomic_open(path, "w", newline="") as f:
        w = csv.DictWriter(f, HEADER, delimiter="\t", lineterminator="\n")
        w.writeheader()
        w.writerows(rows)


def move(src_root, dst_root, names):
    for name in names:
        stage_names(name)  # validates
        if not os.path.isdir(os.path.join(src_root, "finetune", name)):
            raise ValueError("no run folder %s" % os.path.join(src_root, "finetune", name))
        if os.path.exists(os.path.join(dst_root, "finetune", name)):
            raise ValueError("%s exists: not overwriting" % os.path.join(dst_root, "finetune", name))
    src_tsv, dst_tsv = os.path.join(src_root, "stage_times.tsv"), os.path.join(dst_root, "stage_times.tsv")
    stages = set().union(*(stage_names(n) for n in names))
    src_rows = read_rows(src_tsv)
    moving = [r for r in src_rows if r["stage"] in stages]
    os.makedirs(os.path.join(dst_root, "finetune"), exist_ok=True)
    write_rows(dst_tsv, read_rows(dst_tsv) + moving)  # rows first: a crash leaves them twice, never lost
    for name in names:
        shutil.move(os.path.join(src_root, "finetune", name), os.path.join(dst_root, "finetune", name))
    write_rows(src_tsv, [r for r in src_rows if r["stage"] not in stages])
    print("move_runs.py: %s -> %s: %s (%d stage rows)" % (src_root, dst_root, ", ".join(names), len(moving)))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--from", dest="src", required=True)
    ap.add_argument("--to", dest="dst", required=True)
    ap.add_argument("names", nargs="+")
    a = ap.parse_args(argv)
    try:
        move(a.src, a.dst, a.names)
    except (OSError, ValueError) as e:
        sys.exit("move_runs.py: %s" % e)


if __name__ == "__main__":
    main()
