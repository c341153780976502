#!/usr/bin/env bash
# The whole benchmark suite, hgkd vs PyTorch, in one command; writes docs/benchmarks.md:
#
#   bash tools/bench/run_bench.sh [--wait-idle] [--no-build] [--no-doc]
#                                 [--step-warmup N] [--steps N] [--rounds R] [--lockstep] [--rows "ROW ..."]
#                                 [--op-warmup N] [--reps N]
#
# 1. tools/bench/run_step_bench.sh: the training-step rows, both sides of each row back to back (builds first
#    unless --no-build; --wait-idle waits for an idle machine first),
# 2. tools/bench/run_ops_bench.sh: the single-op rows, then tools/bench/write_ops_table.py writes both tables to
#    docs/benchmarks.md (with --no-doc to target/bench/benchmarks.md instead).
# Run it on an otherwise idle machine. Defaults: steps warmup 2 + 8 timed per row and side, ops warmup 3 + 10.
set -euo pipefail
cd "$(dirname "$0")/../.."
STEP_ARGS=()
OPS_ARGS=()
COMMON=()
CMD="bash tools/bench/run_bench.sh"
while [ $# -gt 0 ]; do
  case "$1" in
    --wait-idle) STEP_ARGS+=(--wait-idle); shift ;;
    --no-build) COMMON+=(--no-build); shift ;;
    --no-doc) OPS_ARGS+=(--no-doc); shift ;;
    --step-warmup) STEP_ARGS+=(--warmup "$2"); CMD="$CMD $1 $2"; shift 2 ;;
    --steps) STEP_ARGS+=(--steps "$2"); CMD="$CMD $1 $2"; shift 2 ;;
    --rounds) STEP_ARGS+=(--rounds "$2"); CMD="$CMD $1 $2"; shift 2 ;;
    --lockstep) STEP_ARGS+=(--lockstep); CMD="$CMD $1"; shift ;;
    --rows) STEP_ARGS+=(--rows "$2"); CMD="$CMD $1 \"$2\""; shift 2 ;;
    --op-warmup) OPS_ARGS+=(--warmup "$2"); CMD="$CMD $1 $2"; shift 2 ;;
    --reps) OPS_ARGS+=(--reps "$2"); CMD="$CMD $1 $2"; shift 2 ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1 (try --help)" >&2; exit 2 ;;
  esac
done
export BENCH_COMMAND="$CMD"
bash tools/bench/run_step_bench.sh "${COMMON[@]}" "${STEP_ARGS[@]}" --no-doc
# the step run built everything already
bash tools/bench/run_ops_bench.sh --no-build "${OPS_ARGS[@]}" --steps-meta target/bench/steps_meta.json
