"""Comparison plots of the Fashion-MNIST runs (run.sh's folders), for summarize.py.

Each plot overlays every complete (.done) run of a kind, so the students can be compared at a glance; the
trainer's own per-run plots (loss.png, metrics.png) stay in the run folders. Needs matplotlib (Debian:
python3-matplotlib); summarize.py imports this module only when it draws.
"""
import os
import re

import matplotlib

matplotlib.use("Agg")  # files only, no display
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from atomic import atomic_open  # noqa: E402

COLOURS = {"hgkd": "tab:blue", "hgkd_pix": "tab:purple", "spark": "tab:orange", "scratch": "tab:gray"}
SEED_STYLES = ["-", "--", ":", "-."]


def _runs(parent, pattern):
    """(match, folder) of every complete run under PARENT whose name fully matches PATTERN, in name order."""
    if not os.path.isdir(parent):
        return []
    out = []
    for name in sorted(os.listdir(parent)):
        m = re.fullmatch(pattern, name)
        d = os.path.join(parent, name)
        if m and os.path.exists(os.path.join(d, ".done")):
            out.append((m, d))
    return out


def _save(fig, path):
    """Writes through a temporary name, so a reader never sees half a PNG."""
    try:
        with atomic_open(path, "wb") as f:
            fig.savefig(f, dpi=100, format="png")
    finally:
        plt.close(fig)


def _steps(records):
    """The per-step records of a possibly resumed run: the last record of each global step wins (steps logged
    after the last checkpoint of an interrupted sitting were run again on resume)."""
    by_step = {}
    for r in records:
        if "global_step" in r and "losses" in r:
            by_step[r["global_step"]] = r
    return [by_step[k] for k in sorted(by_step)]


def _smooth(y, window):
    """Trailing moving average (shorter at the start), so early steps keep their value range."""
    c = np.cumsum(np.insert(np.asarray(y, dtype=float), 0, 0.0))
    n = np.arange(1, len(y) + 1)
    lo = np.maximum(0, n - window)
    return (c[n] - c[lo]) / (n - lo)


def pretrain_losses(root, path, labels, read_jsonl, title_suffix=""):
    """One panel per loss term (feat, sim, pix) of every complete student run, against the step; colour = student,
    line style = seed. Returns False when there is no complete run."""
    runs = _runs(os.path.join(root, "students"), r"(.+)-s(\d+)")
    series = []
    for m, d in runs:
        recs = _steps(read_jsonl(os.path.join(d, "metrics.jsonl")))
        if recs:
            series.append((m.group(1), int(m.group(2)), recs))
    if not series:
        return False
    terms = [t for t in ("feat", "sim", "pix") if any(t in r["losses"] for _, _, recs in series for r in recs)]
    fig, axes = plt.subplots(1, len(terms), figsize=(5 * len(terms), 4), squeeze=False)
    for ax, term in zip(axes[0], terms):
        for student, seed, recs in series:
            pts = [(r["global_step"], r["losses"][term]) for r in recs if term in r["losses"]
                   and r["losses"][term] is not None and np.isfinite(r["losses"][term])]
            if not pts:
                continue
            x, y = zip(*pts)
            ax.plot(x, _smooth(y, 10), SEED_STYLES[seed % len(SEED_STYLES)], color=COLOURS.get(student),
                    label="%s, seed %d" % (labels.get(student, student), seed), linewidth=1.2)
        ax.set_title("L_%s" % term)
        ax.set_xlabel("step (batch 128)")
        ax.set_yscale("log")
        ax.grid(True, which="both", alpha=0.3)
    axes[0][0].set_ylabel("loss (moving mean of 10 logged steps)")
    seen = {}  # one legend for all panels: SparK has no L_feat, the H-GKD student no L_pix
    for ax in axes[0]:
        for h, lab in zip(*ax.get_legend_handles_labels()):
            seen.setdefault(lab, h)
    fig.legend(list(seen.values()), list(seen), loc="lower center", ncol=min(4, len(seen)), fontsize=8)
    fig.suptitle("Student pretraining losses" + title_suffix)
    fig.tight_layout(rect=(0, 0.06 + 0.04 * ((len(seen) - 1) // 4), 1, 1))
    _save(fig, path)
    return True


def finetune_curves(runs, pct, path, labels, title_suffix=""):
    """Test top-1 at every evaluated epoch of every complete fine-tune at budget PCT; colour = student, line style =
    seed. RUNS as for final_top1. Returns False when there is no complete run."""
    cells = sorted(((s, seeds) for (s, p), seeds in runs.items() if p == pct), key=lambda c: list(labels).index(c[0])
                   if c[0] in labels else len(labels))
    if not cells:
        return False
    fig, ax = plt.subplots(figsize=(8, 5))
    for student, seeds in cells:
        for seed, (_, _, curve, _) in sorted(seeds.items()):
            if curve:
                x, y = zip(*curve)
                ax.plot(x, [100 * v for v in y], SEED_STYLES[seed % len(SEED_STYLES)], marker="o", markersize=3,
                        color=COLOURS.get(student), label="%s, seed %d" % (labels.get(student, student), seed))
    ax.set_xlabel("epoch")
    ax.set_ylabel("test top-1 (%)")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    ax.set_title("Fine-tuning at %s%% of the labels: test top-1 per evaluated epoch%s" % (pct, title_suffix))
    fig.tight_layout()
    _save(fig, path)
    return True


def final_top1(runs, labels, path):
    """Bars: mean final top-1 per student and budget, error bars one sample std, dots the seeds. RUNS maps
    (student, pct) -> {seed: (final, best, curve, final training loss)} as summarize.student_table collects it.
    Returns False when empty."""
    budgets = sorted({p for (_, p) in runs}, key=float)
    students = [s for s in labels if any((s, p) in runs for p in budgets)]
    if not budgets or not students:
        return False
    fig, axes = plt.subplots(1, len(budgets), figsize=(max(7.0, 4.5 * len(budgets)), 4), squeeze=False)
    for ax, p in zip(axes[0], budgets):
        for i, s in enumerate(students):
            vals = [100 * v[0] for v in runs.get((s, p), {}).values()]
            if not vals:
                continue
            mean = float(np.mean(vals))
            std = float(np.std(vals, ddof=1)) if len(vals) > 1 else 0.0
            ax.bar(i, mean, color=COLOURS.get(s), alpha=0.6, yerr=std if len(vals) > 1 else None, capsize=4)
            ax.plot([i] * len(vals), vals, "k.", markersize=5)
        ax.set_xticks(range(len(students)))
        ax.set_xticklabels([labels[s].replace(" (pixel only)", "") for s in students], rotation=20, fontsize=8)
        lo = min(100 * v[0] for (s, q), seeds in runs.items() if q == p for v in seeds.values())
        ax.set_ylim(max(0.0, lo - 5), None)
        ax.set_title("%s%% of the labels" % p)
        ax.grid(True, axis="y", alpha=0.3)
    axes[0][0].set_ylabel("final test top-1 (%)")
    fig.suptitle("Fine-tuned students: mean over seeds (bar), one sample std (whisker), seeds (dots)",
                 fontsize=10)
    fig.tight_layout()
    _save(fig, path)
    return True
