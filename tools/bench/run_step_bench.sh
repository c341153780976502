#!/usr/bin/env bash
# Training-step benchmark, hgkd vs PyTorch, every row on both sides back to back:
#
#   bash tools/bench/run_step_bench.sh [--warmup N] [--steps N] [--rounds R] [--rows "ROW ..."] [--wait-idle]
#                                      [--lockstep] [--no-build] [--no-doc]
#
# 0. with --wait-idle, waits (polling every 60 s, at most 20 min) until no other java/python3/mvn process runs,
# 1. builds hgkd-examples and what it needs (mvn -B -q -DskipTests -pl hgkd-examples -am package; nothing is
#    installed into ~/.m2) unless --no-build,
# 2. per row, each side in its own process (so VmHWM is the row's peak RSS): io.hgkd.examples.bench.StepBenchmark
#    (OMP_NUM_THREADS = nproc, under jemalloc when Debian's libjemalloc2 is installed), which also writes the row's
#    inputs (images, labels, per-step masks or MAE noise) to target/bench/; then tools/bench/step_bench.py with
#    Debian's /usr/bin/python3, torch.set_num_threads(nproc) and those same inputs,
# 3. writes target/bench/steps_meta.json (settings, wall times, exit codes, other processes seen) and, unless
#    --no-doc, target/bench/benchmarks_steps.md (the step table alone). docs/benchmarks.md, with the ops table too,
#    is written by tools/bench/run_bench.sh.
# --rounds R runs every row R times, hgkd then PyTorch each time, so that a slow drift of the machine's speed hits
# both sides (the table pools the rounds' steps and shows each round's ratio).
# --lockstep runs the two sides of a row at once, step for step (tools/bench/lockstep.py: step i of one side, then
# step i of the other, the order alternating): every pair of steps is timed seconds apart on the same machine, so the
# table also gives the median of the per-step ratios. Both processes are alive together, so peak RSS is still per side.
# Defaults: --warmup 2 --steps 8 --rounds 1, all rows. A row whose side fails is reported as failed; the others still run.
set -euo pipefail
T_START=$(date +%s)
cd "$(dirname "$0")/../.."
REPO=$(pwd)

WARMUP=2
STEPS=8
ROUNDS=1
ROWS="hgkd_r50_vitb hgkd_r18_vits finetune_r50 mae_vitb hgkd_fmnist mae_fmnist finetune_fmnist teacher_vitb"
BUILD=1
DOC=1
WAIT_IDLE=0
LOCKSTEP=0
while [ $# -gt 0 ]; do
  case "$1" in
    --warmup) WARMUP="$2"; shift 2 ;;
    --steps) STEPS="$2"; shift 2 ;;
    --rounds) ROUNDS="$2"; shift 2 ;;
    --rows) ROWS="$2"; shift 2 ;;
    --no-build) BUILD=0; shift ;;
    --no-doc) DOC=0; shift ;;
    --wait-idle) WAIT_IDLE=1; shift ;;
    --lockstep) LOCKSTEP=1; shift ;;
    -h|--help) sed -n '2,22p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1 (try --help)" >&2; exit 2 ;;
  esac
done

PY=/usr/bin/python3
MAIN=io.hgkd.examples.bench.StepBenchmark
OUT="$REPO/target/bench"
THREADS=$(nproc)
mkdir -p "$OUT"

# --- the PyTorch side must be usable before spending time on the Java side
if [ ! -x "$PY" ] || ! "$PY" -c 'import torch, torchvision' 2>/dev/null; then
  echo "ERROR: '$PY -c \"import torch, torchvision\"' fails. Install Debian's PyTorch:" \
       "apt-get install -y python3-torch python3-torchvision libopenblas0-openmp" >&2
  exit 1
fi
if ! dpkg-query -W -f='${Status}' libopenblas0-openmp 2>/dev/null | grep -q '^install ok installed'; then
  echo "ERROR: libopenblas0-openmp is not installed: PyTorch would use Debian's reference BLAS and every" \
       "PyTorch number would be meaningless. Install it: apt-get install -y libopenblas0-openmp" >&2
  exit 1
fi

# --- other CPU-heavy processes distort the numbers (tools/bench/busy.sh)
OWN='io\.hgkd\.examples\.bench\.(Ops|Step)Benchmark|tools/bench/(ops|step)_bench\.py|tools/bench/lockstep\.py|tools/bench/write_ops_table\.py'
source "$REPO/tools/bench/busy.sh"
[ "$WAIT_IDLE" = 1 ] && wait_idle

# --- build (reactor package: the classpath points at this checkout's module jars, not at ~/.m2 snapshots)
if [ "$BUILD" = 1 ]; then
  echo ">> mvn -B -q -DskipTests -pl hgkd-examples -am package" >&2
  mvn -B -q -DskipTests -pl hgkd-examples -am package
fi
CP_FILE="$REPO/hgkd-examples/target/hgkd.classpath"
JAR=$(ls -t "$REPO"/hgkd-examples/target/hgkd-examples-*.jar 2>/dev/null | grep -v -e '-tests.jar$' -e '-sources.jar$' \
  | head -n 1 || true)
if [ ! -f "$CP_FILE" ] || [ -z "$JAR" ]; then
  echo "ERROR: no hgkd-examples build; run without --no-build" >&2
  exit 1
fi
CP="$JAR:$(cat "$CP_FILE")"

# Both sides wait passively in OpenMP, as bin/hgkd does (spin-waiting collapses under any other load).
export OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-passive}"
JAVA_ENV=(OMP_NUM_THREADS="$THREADS")
source "$REPO/bin/native-env.sh"   # jemalloc and Debian's OpenBLAS, as bin/hgkd
JAVA_ENV+=("${NATIVE_ENV[@]}")
if [ -n "$NATIVE_JEMALLOC" ]; then
  echo ">> jemalloc: yes ($NATIVE_JEMALLOC preloaded into the JVM)" >&2
else
  echo ">> jemalloc: no (not installed; apt-get install -y libjemalloc2 to use it)" >&2
fi

# --- sample other processes during the timed runs
start_sampler "$OUT/steps_others.log"

RESULTS=()   # "row side seconds exit json"
T_RUNS0=$(date +%s.%N)
for ROW in $ROWS; do
  rm -f "$OUT/step_${ROW}_"*.json "$OUT/step_${ROW}_inputs.npz"
  for ROUND in $(seq 1 "$ROUNDS"); do
    SUFFIX=""
    [ "$ROUNDS" -gt 1 ] && SUFFIX="_r$ROUND"
    J="$OUT/step_${ROW}_hgkd$SUFFIX.json"
    P="$OUT/step_${ROW}_torch$SUFFIX.json"
    IN="$OUT/step_${ROW}_inputs.npz"
    if [ "$LOCKSTEP" = 1 ]; then
      echo ">> [$ROW] round $ROUND/$ROUNDS lockstep: hgkd ($MAIN) and PyTorch (tools/bench/step_bench.py), $THREADS" \
           "threads, warmup $WARMUP, steps $STEPS; logs in $OUT/step_${ROW}_{hgkd,torch}$SUFFIX.log" >&2
      set +e
      LS=$("$PY" tools/bench/lockstep.py --total $((WARMUP + STEPS)) \
        --logs "$OUT/step_${ROW}_hgkd$SUFFIX.log" "$OUT/step_${ROW}_torch$SUFFIX.log" \
        -- env "${JAVA_ENV[@]}" java "${NATIVE_JAVA_OPTS[@]}" -Dorg.slf4j.simpleLogger.log.org.nd4j=warn -cp "$CP" "$MAIN" \
           --row "$ROW" --warmup "$WARMUP" --steps "$STEPS" --out "$J" --inputs "$IN" --lockstep \
        -- env OMP_NUM_THREADS="$THREADS" "$PY" tools/bench/step_bench.py --row "$ROW" --threads "$THREADS" \
           --warmup "$WARMUP" --steps "$STEPS" --inputs "$IN" --out "$P" --lockstep)
      set -e
      read -r SEC_H SEC_T RC_H RC_T <<< "${LS:-0 0 -1 -1}"
      RESULTS+=("$ROW hgkd $SEC_H $RC_H $J" "$ROW pytorch $SEC_T $RC_T $P")
      continue
    fi
    echo ">> [$ROW] round $ROUND/$ROUNDS hgkd: $MAIN, $THREADS threads, warmup $WARMUP, steps $STEPS" >&2
    T0=$(date +%s.%N)
    set +e
    env "${JAVA_ENV[@]}" java "${NATIVE_JAVA_OPTS[@]}" -Dorg.slf4j.simpleLogger.log.org.nd4j=warn -cp "$CP" "$MAIN" --row "$ROW" \
      --warmup "$WARMUP" --steps "$STEPS" --out "$J" --inputs "$IN" 2>&1 >/dev/null | tee "$OUT/step_${ROW}_hgkd$SUFFIX.log" >&2
    RC=${PIPESTATUS[0]}
    set -e
    T1=$(date +%s.%N)
    RESULTS+=("$ROW hgkd $(awk "BEGIN { printf \"%.1f\", $T1 - $T0 }") $RC $J")

    echo ">> [$ROW] round $ROUND/$ROUNDS PyTorch: $PY tools/bench/step_bench.py, $THREADS threads, warmup $WARMUP, steps $STEPS" >&2
    INARG=()
    if [ -f "$IN" ]; then INARG=(--inputs "$IN"); else echo "WARNING: [$ROW] no inputs from the hgkd side" >&2; fi
    set +e
    OMP_NUM_THREADS="$THREADS" "$PY" tools/bench/step_bench.py --row "$ROW" --threads "$THREADS" --warmup "$WARMUP" \
      --steps "$STEPS" "${INARG[@]}" --out "$P" 2>&1 >/dev/null | tee "$OUT/step_${ROW}_torch$SUFFIX.log" >&2
    RC=${PIPESTATUS[0]}
    set -e
    T2=$(date +%s.%N)
    RESULTS+=("$ROW pytorch $(awk "BEGIN { printf \"%.1f\", $T2 - $T1 }") $RC $P")
  done
done
T_RUNS1=$(date +%s.%N)
kill "$SAMPLER" 2>/dev/null || true
SEEN=$(awk '{ pid = $2; $1 = $2 = $3 = ""; sub(/^ +/, ""); if (!(pid in s)) { s[pid] = 1; print pid " " substr($0, 1, 90) } }' \
  "$OUT/steps_others.log")
if [ -n "$SEEN" ]; then
  echo "WARNING: other java/python3/mvn processes ran during the timed runs; the numbers are distorted:" >&2
  echo "$SEEN" >&2
fi

CMD="${BENCH_COMMAND:-bash tools/bench/run_step_bench.sh}"
if [ -z "${BENCH_COMMAND:-}" ] && { [ "$WARMUP" != 2 ] || [ "$STEPS" != 8 ] || [ "$ROUNDS" != 1 ]; }; then
  CMD="$CMD --warmup $WARMUP --steps $STEPS --rounds $ROUNDS"
fi
[ "$LOCKSTEP" = 1 ] && [ -z "${BENCH_COMMAND:-}" ] && CMD="$CMD --lockstep"
TOTAL_S=$(( $(date +%s) - T_START ))
RUNS_S=$(awk "BEGIN { printf \"%.1f\", $T_RUNS1 - $T_RUNS0 }")
printf '%s\n' "${RESULTS[@]}" | "$PY" -c '
import json, sys
rows = []
for line in sys.stdin:
    row, side, secs, rc, path = line.split()
    rows.append(dict(row=row, side=side, seconds=float(secs), exit=int(rc), json=path))
meta = dict(command=sys.argv[1], warmup=int(sys.argv[2]), steps=int(sys.argv[3]), threads=int(sys.argv[4]),
            jemalloc=sys.argv[5], runs_seconds=float(sys.argv[6]), total_seconds=float(sys.argv[7]),
            others_seen=[l for l in sys.argv[8].splitlines() if l.strip()], lockstep=sys.argv[10] == "1", runs=rows)
json.dump(meta, open(sys.argv[9], "w"), indent=1)
' "$CMD" "$WARMUP" "$STEPS" "$THREADS" "$([ -n "$NATIVE_JEMALLOC" ] && echo yes || echo no)" "$RUNS_S" "$TOTAL_S" "$SEEN" \
  "$OUT/steps_meta.json" "$LOCKSTEP"
echo ">> wrote $OUT/steps_meta.json" >&2
if [ "$DOC" = 1 ]; then
  "$PY" tools/bench/write_ops_table.py --steps-meta "$OUT/steps_meta.json" --out "$OUT/benchmarks_steps.md" >/dev/null
  echo ">> wrote $OUT/benchmarks_steps.md (docs/benchmarks.md untouched; tools/bench/run_bench.sh writes it)" >&2
fi
FAILED=$(printf '%s\n' "${RESULTS[@]}" | awk '$4 != 0 { print $1 "/" $2 " (exit " $4 ")" }')
if [ -n "$FAILED" ]; then
  echo "WARNING: failed: $FAILED" >&2
fi
echo ">> total $TOTAL_S s (timed runs $RUNS_S s)" >&2
