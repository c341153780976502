#!/usr/bin/env bash
# Short learning-rate sweep of the pretrained students (issue 7): each student of STUDENTS at each base lr of LRS,
# with run.sh's recipe (3 epochs, 1 warmup, cosine) on the first LIMIT training images only, seed 0. It reuses the
# teacher of ROOT (symlinked, nothing is retrained) and prints summarize.py's table of every run's epoch-mean
# losses (the one it puts into docs/results.md).
#
#   tools/experiments/fashion_mnist/lr_sweep.sh [--root DIR] [--out DIR]
#
# Environment: STUDENTS ("hgkd spark"), LRS ("2e-4 2e-3 8e-3 3.2e-2 1.28e-1", the sweep of docs/results.md),
# LIMIT (5120: 40 steps of 128 per epoch), and run.sh's (HGKD, STUDENT_WIDTH, ...). Resumable as run.sh is: finished runs are skipped.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../../.." && pwd)"
ROOT="$REPO/runs/fashion-mnist"
OUT=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --root) ROOT="$2"; shift ;;
    --out) OUT="$2"; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | grep '^#' | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "lr_sweep.sh: unknown argument '$1' (try --help)" >&2; exit 2 ;;
  esac
  shift
done
OUT="${OUT:-$ROOT-lr-sweep}"
STUDENTS="${STUDENTS:-hgkd spark}"
LRS="${LRS:-2e-4 2e-3 8e-3 3.2e-2 1.28e-1}"
LIMIT="${LIMIT:-5120}"
[[ -f "$ROOT/teacher/vit_encoder.safetensors" ]] \
  || { echo "lr_sweep.sh: no teacher in $ROOT (run run.sh's teacher stages first)" >&2; exit 2; }

for lr in $LRS; do
  dir="$OUT/lr-$lr"
  mkdir -p "$dir"
  for d in teacher teacher_ft probes; do [[ -e "$dir/$d" ]] || ln -s "$ROOT/$d" "$dir/$d"; done
  # every student at this rate, whatever STUDENT_BASE_LR_<student> the caller's environment holds; only the students'
  # stages, so the teacher's fine-tune and probes need not be done (another driver may be running them)
  SEEDS=0 BUDGETS=" " STAGES='^student\.' STUDENTS="$STUDENTS" STUDENT_BASE_LR="$lr" STUDENT_BASE_LR_hgkd="$lr" \
    STUDENT_BASE_LR_hgkd_pix="$lr" STUDENT_BASE_LR_spark="$lr" \
    EXTRA_SETS="${EXTRA_SETS:+$EXTRA_SETS }job.data.limit=$LIMIT" "$HERE/run.sh" --root "$dir"
done

# the table summarize.py puts into docs/results.md
PYTHONPATH="$HERE" python3 -c 'import sys, summarize; print("\n".join(summarize.sweep_table(sys.argv[1])))' "$OUT"
