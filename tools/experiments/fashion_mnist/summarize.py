#!/usr/bin/env python3
"""Tables and plots of the Fashion-MNIST experiment (run.sh) into docs/results.md.

    python3 tools/experiments/fashion_mnist/summarize.py [--root DIR] [--out docs/results.md] [--plots docs/results]
        [--readme README.md] [--sweep DIR] [--lr-full DIR] [--extra DIR]

Reads the run folders under ROOT (probes/*/probe.json, */epochs.jsonl, stage_times.tsv), replaces the text between
the markers <!-- results:begin --> and <!-- results:end --> of --out with the tables, copies the PlotListener
plots (loss.png, metrics.png) of the teacher and the fine-tuned teacher into --plots and draws there the plots that
compare the students (plots.py: final top-1 per budget, pretraining losses, fine-tuning curves). Only runs marked
complete (.done) count; missing ones are listed, never filled in. The teacher and student tables also go
between the markers <!-- headline:begin --> and <!-- headline:end --> of --readme. --sweep (default ROOT-lr-sweep, from
lr_sweep.sh) adds the students' learning-rate sweep, --lr-full (default ROOT-lr-full, lr_sweep.sh with LIMIT=0) its
full-length check beside the grid's seed-0 students (and their fine-tunes); --extra (default ROOT-extra) the side
experiments, one run root each, described by its about.md; encoder_norms.json files (encoder_scale.py) anywhere in
these roots' students/ folders give a table of the encoders' weight scale. Each is left out when its folder does
not exist. Needs numpy,
and matplotlib for the plots (Debian: python3-numpy, python3-matplotlib); --plots '' draws none.
"""
import argparse
import csv
import json
import os
import re
import sys
from collections import OrderedDict, defaultdict

import numpy as np

from atomic import atomic_copy, atomic_open

BEGIN = "<!-- results:begin -->"
END = "<!-- results:end -->"
HEADLINE_BEGIN = "<!-- headline:begin -->"  # in --readme
HEADLINE_END = "<!-- headline:end -->"
STUDENTS = OrderedDict([("hgkd", "H-GKD"), ("hgkd_pix", "H-GKD + pixel"), ("spark", "SparK (pixel only)"),
                        ("scratch", "scratch")])
TEACHERS = OrderedDict([("mae", "MAE teacher"), ("teacher_ft", "MAE teacher, fine-tuned on its label subset"),
                        ("random", "random ViT, same shape")])


def student_order(key):
    """Table position of a student key (unknown keys last)."""
    return list(STUDENTS).index(key) if key in STUDENTS else 99


def loss_series(recs):
    """'feat 1.2 / 0.9; sim ...': every term's epoch means (the total only when it is the only term)."""
    keys = [k for k in recs[-1]["losses"] if k != "loss" or len(recs[-1]["losses"]) == 1]
    return "; ".join("%s %s" % (k, " / ".join("%.3f" % r["losses"][k] for r in recs)) for k in keys)


def read_jsonl(path):
    out = []
    if not os.path.exists(path):
        return out
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line:
                try:
                    out.append(json.loads(line))
                except json.JSONDecodeError:
                    pass  # a torn last line of a killed run
    return out


def final_epoch(run_dir):
    """The last epoch record of a completed run, or None."""
    if not os.path.exists(os.path.join(run_dir, ".done")):
        return None
    recs = read_jsonl(os.path.join(run_dir, "epochs.jsonl"))
    return recs[-1] if recs else None


def pct_label(p):
    return "%s%%" % p


def fmt(x, digits=2):
    return "-" if x is None else ("%.*f" % (digits, 100.0 * x))


def mean_spread(values):
    """Mean and sample standard deviation (ddof 1; 0 for one value) of accuracies."""
    a = np.asarray(values, dtype=float)
    return float(a.mean()), float(a.std(ddof=1)) if len(a) > 1 else 0.0


def teacher_table(root):
    probes = {}
    fractions = set()
    pdir = os.path.join(root, "probes")
    if os.path.isdir(pdir):
        for name in sorted(os.listdir(pdir)):
            m = re.fullmatch(r"(.+)-(\d+(?:\.\d+)?)pct", name)
            f = os.path.join(pdir, name, "probe.json")
            if m and os.path.exists(f):
                with open(f) as fh:
                    probes[(m.group(1), m.group(2))] = json.load(fh)
                fractions.add(m.group(2))
    fr = sorted(fractions, key=float)
    lines = ["| encoder | " + " | ".join("probe top-1 @ %s labels" % pct_label(p) for p in fr)
             + " | own fine-tune top-1 |", "|---|" + "---|" * (len(fr) + 1)]
    ft = final_epoch(os.path.join(root, "teacher_ft"))
    ft_cfg = read_json(os.path.join(root, "teacher_ft", "config.json"))
    for key, label in TEACHERS.items():
        cells = []
        for p in fr:
            r = probes.get((key, p))
            cells.append("-" if r is None else "%s (n=%d)" % (fmt(r["top1"]), r["train_size"]))
        own = "-"
        if key == "teacher_ft" and ft is not None:
            own = fmt(ft["metrics"].get("top1"))
        lines.append("| %s | %s | %s |" % (label, " | ".join(cells), own))
    notes = []
    if ft_cfg is not None:
        lab = ft_cfg["job"]["data"].get("labels")
        notes.append("The fine-tuned teacher saw %s of the training labels (class-stratified, seed %s); its probes at"
                     " larger fractions use labels it was not fine-tuned on." % (
                         "all" if lab is None else pct_label("%g" % (100 * lab["fraction"])),
                         "-" if lab is None else lab["seed"]))
    teacher = final_epoch(os.path.join(root, "teacher"))
    if teacher is not None:
        notes.append("MAE teacher: %d epochs, final epoch-mean loss %.4f." % (teacher["epoch"] + 1,
                                                                             teacher["losses"]["loss"]))
    return lines, notes


def read_json(path):
    if not os.path.exists(path):
        return None
    with open(path) as f:
        return json.load(f)


def student_table(root):
    fdir = os.path.join(root, "finetune")
    runs = defaultdict(dict)  # (student, pct) -> seed -> (final top1, best top1, [(epoch, top1) evaluated])
    missing = []
    if os.path.isdir(fdir):
        for name in sorted(os.listdir(fdir)):
            m = re.fullmatch(r"(.+)-s(\d+)-(\d+(?:\.\d+)?)pct", name)
            if not m:
                continue
            rec = final_epoch(os.path.join(fdir, name))
            if rec is None:
                missing.append(name)
                continue
            recs = read_jsonl(os.path.join(fdir, name, "epochs.jsonl"))
            best = max(r["metrics"].get("top1", 0) for r in recs)
            curve = [(r["epoch"] + 1, r["metrics"]["top1"]) for r in recs if "top1" in r.get("metrics", {})]
            runs[(m.group(1), m.group(3))][int(m.group(2))] = (rec["metrics"]["top1"], best, curve,
                                                               rec["losses"].get("loss"))
    budgets = sorted({p for (_, p) in runs}, key=float)
    if not budgets:
        return ["(no completed fine-tuning runs yet)"], [], [], missing, runs
    lines = ["| student | " + " | ".join("top-1 @ %s labels" % pct_label(p) for p in budgets) + " |",
             "|---|" + "---|" * len(budgets)]
    stats = {}
    for key, label in STUDENTS.items():
        cells = []
        for p in budgets:
            seeds = runs.get((key, p), {})
            if not seeds:
                cells.append("-")
                continue
            m, s = mean_spread([v[0] for v in seeds.values()])
            stats[(key, p)] = (m, s, len(seeds))
            cells.append("%.2f ± %.2f (n=%d)" % (100 * m, 100 * s, len(seeds)) if len(seeds) > 1
                         else "%.2f (n=1, no spread)" % (100 * m))
        lines.append("| %s | %s |" % (label, " | ".join(cells)))
    gaps = ["| comparison | " + " | ".join(pct_label(p) for p in budgets) + " |", "|---|" + "---|" * len(budgets)]
    for a in ("hgkd", "hgkd_pix"):
        for b in ("spark", "scratch"):
            cells = []
            for p in budgets:
                if (a, p) not in stats or (b, p) not in stats:
                    cells.append("-")
                    continue
                ma, sa, na = stats[(a, p)]
                mb, sb, nb = stats[(b, p)]
                d = ma - mb
                if min(na, nb) < 2:  # one seed has no spread: no gap can be called a win
                    cells.append("%+.2f (one seed: no spread, no verdict)" % (100 * d))
                    continue
                verdict = "win" if d > sa + sb else ("loss" if -d > sa + sb else "within spread")
                cells.append("%+.2f (spread %.2f): %s" % (100 * d, 100 * (sa + sb), verdict))
            gaps.append("| %s − %s | %s |" % (STUDENTS[a], STUDENTS[b], " | ".join(cells)))
    per_seed = ["| run | final top-1 | best top-1 (any epoch) | final-epoch training loss |", "|---|---|---|---|"]
    for (key, p), seeds in sorted(runs.items(), key=lambda kv: (student_order(kv[0][0]), float(kv[0][1]))):
        for seed, (fin, best, _, loss) in sorted(seeds.items()):
            per_seed.append("| %s, %s labels, seed %d | %s | %s | %s |" % (
                STUDENTS.get(key, key), pct_label(p), seed, fmt(fin), fmt(best), "-" if loss is None else "%.3f" % loss))
    return lines, gaps, per_seed, missing, runs


def pretrain_table(root):
    """Per-epoch loss means of every completed student pretraining under ROOT/students, with its base lr."""
    sdir = os.path.join(root, "students")
    lines = ["| student, seed | base lr | epochs | epoch-mean losses, epoch 1 / 2 / ... |", "|---|---|---|---|"]
    if not os.path.isdir(sdir):
        return lines[:0]
    for name in sorted(os.listdir(sdir), key=lambda n: (n.rsplit("-s", 1)[-1], student_order(n.rsplit("-s", 1)[0]))):
        run = os.path.join(sdir, name)
        m = re.fullmatch(r"(.+)-s(\d+)", name)
        if not m or final_epoch(run) is None:
            continue
        recs = read_jsonl(os.path.join(run, "epochs.jsonl"))
        cfg = read_json(os.path.join(run, "config.json")) or {}
        lr = cfg.get("trainer", {}).get("baseLr")
        lines.append("| %s, seed %s | %s | %d | %s |" % (
            STUDENTS.get(m.group(1), m.group(1)), m.group(2), "-" if lr is None else "%g" % lr, len(recs),
            loss_series(recs)))
    return lines if len(lines) > 2 else []


def scale_table(roots):
    """Conv weight norm over its init norm (encoder_scale.py's encoder_norms.json) of every student encoder under
    ROOTS' students/ folders, labelled by root, with the run's base lr."""
    lines = ["| student encoder | base lr | median conv norm / init | stem | layer1 | layer2 | layer3 | layer4 |",
             "|---|---|---|---|---|---|---|---|"]
    for label, root in roots:
        sdir = os.path.join(root, "students")
        for name in sorted(os.listdir(sdir)) if os.path.isdir(sdir) else []:
            rec = read_json(os.path.join(sdir, name, "encoder_norms.json"))
            if rec is None:
                continue
            lr = ((read_json(os.path.join(sdir, name, "config.json")) or {}).get("trainer") or {}).get("baseLr")
            st = rec["stage_median_ratio"]
            lines.append("| %s%s | %s | %.2f | %s |" % (name, label, "-" if lr is None else "%g" % lr,
                                                      rec["median_ratio"], " | ".join(
                "%.2f" % st[k] if k in st else "-" for k in ("stem", "layer1", "layer2", "layer3", "layer4"))))
    return lines if len(lines) > 2 else []


def side_roots(parent):
    """(name, folder) of every run root under PARENT (lr_sweep.sh's lr-X folders, ROOT-extra's experiments)."""
    if not os.path.isdir(parent):
        return []
    return [(d, os.path.join(parent, d)) for d in sorted(os.listdir(parent)) if os.path.isdir(os.path.join(parent, d))]


def side_probe_table(root):
    """Every ROOT/probes/*/probe.json of a side experiment: top-1, labelled examples, the encoder file probed."""
    pdir = os.path.join(root, "probes")
    rows = []
    natural = lambda n: [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", n)]  # depth2 before depth10
    for name in sorted(os.listdir(pdir), key=natural) if os.path.isdir(pdir) else []:
        r = read_json(os.path.join(pdir, name, "probe.json"))
        if r is not None:
            rows.append("| %s | %s | %d | %s |" % (name, fmt(r["top1"]), r["train_size"],
                                                  os.path.basename(r.get("encoder_weights") or "-")))
    if not rows:
        return []
    return ["| probe | top-1 | labelled examples | encoder |", "|---|---|---|---|"] + rows


def extra_section(name, root):
    """A side experiment (a run.sh root under ROOT-extra, described by its about.md): its description, student
    pretrainings and fine-tunes, and wall time."""
    about = ""
    if os.path.exists(os.path.join(root, "about.md")):
        with open(os.path.join(root, "about.md")) as f:
            about = f.read().strip()
    out = ["", "### Side experiment `%s`" % name, "", about or "(no about.md)", ""]
    probes = side_probe_table(root)
    if probes:
        out += probes + [""]
    pre = pretrain_table(root)
    if pre:
        out += pre + [""]
    _, _, per_seed, missing, _ = student_table(root)
    if len(per_seed) > 2:
        out += per_seed
    elif not probes:  # a probe-only experiment trains no student
        out += ["(no completed fine-tuning runs yet)"]
    if missing:
        out += ["", "Incomplete: " + ", ".join(missing)]
    if os.path.exists(os.path.join(root, "stage_times.tsv")) or not probes:
        out += [""] + time_table(root)[0]
    return out


def sweep_runs(sweep):
    """(student, base lr, run folder) of every complete SWEEP/lr-X/students/S-s0 run of lr_sweep.sh."""
    runs = []
    for d in os.listdir(sweep):
        m = re.fullmatch(r"lr-(.+)", d)
        sdir = os.path.join(sweep, d, "students")
        if m and os.path.isdir(sdir):
            for name in os.listdir(sdir):
                if final_epoch(os.path.join(sdir, name)) is not None:
                    runs.append((name.rsplit("-s", 1)[0], float(m.group(1)), os.path.join(sdir, name)))
    return runs


def sweep_table(sweep, more=()):
    """The lr sweep of lr_sweep.sh (plus the (student, lr, folder) runs MORE): every run's per-epoch loss means
    and wall time, by student and rate."""
    runs = sorted(sweep_runs(sweep) + list(more), key=lambda r: (student_order(r[0]), r[1]))
    lines = ["| student | base lr (peak at batch 128) | images per epoch | objective, epoch-mean 1 / 2 / 3 | wall time |",
             "|---|---|---|---|---|"]
    for student, lr, run in runs:
        recs = read_jsonl(os.path.join(run, "epochs.jsonl"))
        cfg = read_json(os.path.join(run, "config.json")) or {}
        batch = cfg.get("job", {}).get("data", {}).get("batchSize", 128)
        lines.append("| %s | %g (%g) | %d | %s | %s |" % (
            STUDENTS.get(student, student), lr, lr * batch / 256, recs[-1]["images"], loss_series(recs),
            hms(sum(r["seconds"] for r in recs))))
    return lines


def seed0_students(root):
    """(student, base lr, folder) of the complete seed-0 pretrainings under ROOT, for the full-length lr table."""
    out = []
    sdir = os.path.join(root, "students")
    for name in sorted(os.listdir(sdir)) if os.path.isdir(sdir) else []:
        run = os.path.join(sdir, name)
        lr = ((read_json(os.path.join(run, "config.json")) or {}).get("trainer") or {}).get("baseLr")
        if name.endswith("-s0") and lr is not None and final_epoch(run) is not None:
            out.append((name[:-3], float(lr), run))
    return out


def stage_group(stage):
    """teacher, teacher_ft, probe.mae.10pct -> probes, student.hgkd.s0 -> student hgkd, finetune.x.s0.1pct ->
    finetune 1%, eval.* -> eval, *.export -> exports, *.rescale -> conv rescaling."""
    parts = stage.split(".")
    if stage.endswith(".export"):
        return "exports"
    if stage.endswith(".rescale"):
        return "conv rescaling (encoder_scale.py)"
    if parts[0] == "student":
        return "student pretraining: " + STUDENTS.get(parts[1], parts[1])
    if parts[0] == "finetune":
        return "fine-tuning at " + pct_label(parts[-1].replace("pct", "")) + " labels"
    if parts[0] == "probe":
        return "linear probes"
    if parts[0] == "eval":
        return "final evaluations"
    return {"teacher": "MAE teacher pretraining", "teacher_ft": "teacher fine-tune"}.get(parts[0], parts[0])


def time_table(root):
    path = os.path.join(root, "stage_times.tsv")
    if not os.path.exists(path):
        return ["(no stage_times.tsv)"], []
    with open(path) as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    groups = OrderedDict()
    machines = OrderedDict()
    for r in rows:
        g = stage_group(r["stage"])
        s = groups.setdefault(g, [0.0, 0, set()])
        s[0] += float(r["seconds"])
        s[1] += 1
        s[2].add(r["stage"])
        machines[r["machine"]] = True
    lines = ["| stage | runs | invocations | wall time |", "|---|---|---|---|"]
    total = 0.0
    for g, (sec, n, stages) in groups.items():
        total += sec
        lines.append("| %s | %d | %d | %s |" % (g, len(stages), n, hms(sec)))
    lines.append("| **total** | | %d | **%s** |" % (len(rows), hms(total)))
    per_stage = ["| stage | seconds | status | finished |", "|---|---|---|---|"]
    for r in rows:
        per_stage.append("| %s | %s | %s | %s |" % (r["stage"], r["seconds"], r["status"], r["finished"]))
    return lines + ["", "Machine(s): " + "; ".join(machines)], per_stage


def hms(sec):
    sec = int(round(sec))
    return "%d:%02d:%02d" % (sec // 3600, sec % 3600 // 60, sec % 60)


def draw_plots(root, runs, plots_dir, doc_dir, prefix="", suffix=""):
    """Copies the teacher's PlotListener PNGs and draws the comparison plots (plots.py) of the complete student
    runs, their names prefixed with PREFIX and their titles suffixed with SUFFIX; returns markdown image lines with
    paths relative to the document."""
    import plots  # matplotlib only here: --plots '' and the self-test run without it
    os.makedirs(plots_dir, exist_ok=True)
    lines = []

    def add(name, caption):
        lines.append("![%s](%s)" % (caption, os.path.relpath(os.path.join(plots_dir, prefix + name), doc_dir)))

    for src, dst, caption in (("teacher/loss.png", "teacher-loss.png", "MAE teacher: pretraining loss"),
                              ("teacher_ft/metrics.png", "teacher_ft-metrics.png",
                               "teacher fine-tune: top-1 per epoch"),
                              ("teacher_ft/loss.png", "teacher_ft-loss.png", "teacher fine-tune: loss")):
        p = os.path.join(root, src)
        if os.path.exists(p) and os.path.exists(os.path.join(os.path.dirname(p), ".done")):  # complete runs only
            atomic_copy(p, os.path.join(plots_dir, prefix + dst))
            add(dst, caption)
    if plots.final_top1(runs, STUDENTS, os.path.join(plots_dir, prefix + "students-top1.png")):
        add("students-top1.png", "fine-tuned students: final top-1 per budget, mean, spread and seeds" + suffix)
    if plots.pretrain_losses(root, os.path.join(plots_dir, prefix + "pretrain-losses.png"), STUDENTS, read_jsonl,
                             suffix):
        add("pretrain-losses.png", "student pretraining losses per step" + suffix)
    for p in sorted({p for (_, p) in runs}, key=float):
        name = "finetune-%spct.png" % p
        if plots.finetune_curves(runs, p, os.path.join(plots_dir, prefix + name), STUDENTS, suffix):
            add(name, "fine-tuning at %s labels: test top-1 per evaluated epoch%s" % (pct_label(p), suffix))
    return lines


def headline(root, t_lines, s_lines):
    """The README's short version: the teacher probes and the student table, or what is still missing."""
    out = ["", "Teachers (linear probe top-1, mean-pooled final tokens):", ""] + t_lines
    widths = set()
    fdir = os.path.join(root, "finetune")
    for name in (os.listdir(fdir) if os.path.isdir(fdir) else []):
        cfg = read_json(os.path.join(fdir, name, "config.json"))
        if cfg is not None:
            widths.add(cfg["job"]["model"].get("baseWidth"))
    out += ["", "Students (ResNet-18%s, fine-tuned; top-1 at the final epoch, mean ± sample std over seeds):" % (
        ", width " + "/".join(str(w) for w in sorted(widths)) if widths else ""), ""]
    out += s_lines if len(s_lines) > 1 else ["(no fine-tuning run complete yet)"]
    return "\n".join(out + [""])


def read_marked(path, begin, end):
    """The text of PATH, which must hold both markers."""
    with open(path) as f:
        doc = f.read()
    if begin not in doc or end not in doc:
        sys.exit("summarize.py: %s lacks the markers %s ... %s" % (path, begin, end))
    return doc


def replace_between(path, begin, end, text):
    doc = read_marked(path, begin, end)
    with atomic_open(path) as f:
        f.write(doc[:doc.index(begin) + len(begin)] + text + doc[doc.index(end):])


def main(argv=None):
    here = os.path.dirname(os.path.abspath(__file__))
    repo = os.path.normpath(os.path.join(here, "..", "..", ".."))
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--root", default=os.path.join(repo, "runs", "fashion-mnist"))
    ap.add_argument("--out", default=os.path.join(repo, "docs", "results.md"))
    ap.add_argument("--plots", default=os.path.join(repo, "docs", "results"),
                    help="where the plots go ('' draws none; drawing needs matplotlib: Debian python3-matplotlib)")
    ap.add_argument("--readme", default=os.path.join(repo, "README.md"),
                    help="gets the headline tables between %s and %s ('' for none)" % (HEADLINE_BEGIN, HEADLINE_END))
    ap.add_argument("--sweep", default=None, help="lr_sweep.sh's folder (default ROOT-lr-sweep)")
    ap.add_argument("--extra", default=None, help="side experiments, one run root each with an about.md "
                    "(default ROOT-extra)")
    ap.add_argument("--lr-full", default=None, help="full-length runs of lr_sweep.sh LIMIT=0 (default ROOT-lr-full)")
    a = ap.parse_args(argv)
    root = a.root.rstrip("/")
    sweep = a.sweep or root + "-lr-sweep"
    extra = a.extra or root + "-extra"
    lr_full = a.lr_full or root + "-lr-full"
    if not os.path.isdir(a.root):
        sys.exit("summarize.py: no run root %s (run tools/experiments/fashion_mnist/run.sh first)" % a.root)
    read_marked(a.out, BEGIN, END)  # both documents are checked before anything is written
    if a.plots:
        try:
            import matplotlib  # noqa: F401
        except ImportError:
            sys.exit("summarize.py: drawing the plots needs matplotlib (Debian: apt-get install python3-matplotlib); "
                     "--plots '' skips them")
    if a.readme:
        read_marked(a.readme, HEADLINE_BEGIN, HEADLINE_END)

    t_lines, t_notes = teacher_table(a.root)
    s_lines, gaps, per_seed, missing, runs = student_table(a.root)
    if a.readme:
        replace_between(a.readme, HEADLINE_BEGIN, HEADLINE_END, headline(a.root, t_lines, s_lines))
    times, per_stage = time_table(a.root)
    doc_dir = os.path.dirname(os.path.abspath(a.out))
    plots = (draw_plots(a.root, runs, a.plots, doc_dir) if a.plots
             else ["(not drawn: summarize.py ran with --plots '')"])
    out = ["", "_Generated by `tools/experiments/fashion_mnist/summarize.py` from `%s`._" % os.path.relpath(
        a.root, repo), "", "### Teacher quality (linear probe on mean-pooled final tokens, Fashion-MNIST test set)", ""]
    out += t_lines + [""] + t_notes
    out += ["", "### Students (fine-tuned top-1 on the test set, final epoch, mean ± sample std over seeds)", ""]
    out += s_lines
    if gaps:
        out += ["", "Gaps (difference of means in points; \"win\" only where it exceeds the sum of the two spreads):",
                ""]
        out += gaps
    if missing:
        out += ["", "Incomplete fine-tuning runs (not counted): " + ", ".join(missing)]
    out += ["", "<details><summary>Every run</summary>", ""] + per_seed + ["", "</details>"]
    out += ["", "### Student pretraining (epoch-mean losses)", ""] + (pretrain_table(a.root) or ["(none complete)"])
    if os.path.isdir(sweep):
        out += ["", "### Students' learning-rate sweep (`lr_sweep.sh`, from `%s`)" % os.path.relpath(sweep, repo), ""]
        out += sweep_table(sweep)
    if os.path.isdir(lr_full):
        out += ["", "### Students' learning rate at full length (seed 0, 60k images, 3 epochs; `%s` and the grid's "
                "seed-0 runs)" % os.path.relpath(lr_full, repo), ""]
        out += sweep_table(lr_full, seed0_students(a.root))
        for name, sub in side_roots(lr_full):
            per_seed = student_table(sub)[2]
            if len(per_seed) > 2:
                out += ["", "Fine-tunes of the `%s` students (beside the grid):" % name, ""] + per_seed
    scales = scale_table([("", a.root)] + [(" (`%s`)" % n, r) for n, r in side_roots(lr_full) + side_roots(extra)])
    if scales:
        out += ["", "### Scale of the student encoders' conv weights (`encoder_scale.py norms`)", "",
                "Frobenius norm of each conv weight over that of its initialisation (kaiming-normal, fan-out: "
                "sqrt(2 x in_channels)); medians over the encoder and per stage. Each conv feeds a BatchNorm, so the "
                "scale does not change the function, but AdamW's fixed step size turns a c-times larger weight c "
                "times more slowly.", ""] + scales
    if os.path.isdir(extra):
        for name, sub in side_roots(extra):
            out += extra_section(name, sub)
    out += ["", "### Wall time per stage", ""] + times
    out += ["", "<details><summary>Every stage invocation</summary>", ""] + per_stage + ["", "</details>"]
    out += ["", "### Plots", ""] + (plots or ["(no plots yet)"]) + [""]
    replace_between(a.out, BEGIN, END, "\n".join(out))
    print("wrote %s (%d plots into %s)" % (a.out, len(plots) if a.plots else 0, a.plots or "nowhere"))


if __name__ == "__main__":
    main()
