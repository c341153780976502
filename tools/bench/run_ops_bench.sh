#!/usr/bin/env bash
# Ops microbenchmark, hgkd vs PyTorch, in one command:
#
#   bash tools/bench/run_ops_bench.sh [--warmup N] [--reps N] [--wait-idle] [--no-build] [--no-doc]
#                                     [--steps-meta target/bench/steps_meta.json]
#
# 0. with --wait-idle, waits (polling every 60 s, at most 20 min) until no other java/python3/mvn process runs,
# 1. builds hgkd-examples and what it needs (mvn -B -q -DskipTests -pl hgkd-examples -am package; nothing is
#    installed into ~/.m2) unless --no-build,
# 2. runs io.hgkd.examples.bench.OpsBenchmark (OMP_NUM_THREADS = nproc, under jemalloc when Debian's libjemalloc2 is
#    installed), then tools/bench/ops_bench.py with Debian's /usr/bin/python3 and torch.set_num_threads(nproc),
# 3. writes docs/benchmarks.md with tools/bench/write_ops_table.py (unless --no-doc), with the training-step table
#    of --steps-meta (run_step_bench.sh's output) after the ops table; tools/bench/run_bench.sh runs both.
# The raw JSON of both sides and their stderr logs go to target/bench/.
# Run it on an otherwise idle machine: anything else using the CPUs shows up in the numbers. Other java/python3/mvn
# processes are sampled every 2 s during the timed runs and listed in the doc.
set -euo pipefail
T_START=$(date +%s)
cd "$(dirname "$0")/../.."
REPO=$(pwd)

WARMUP=3
REPS=10
BUILD=1
DOC=1
WAIT_IDLE=0
STEPS_META=()
while [ $# -gt 0 ]; do
  case "$1" in
    --warmup) WARMUP="$2"; shift 2 ;;
    --reps) REPS="$2"; shift 2 ;;
    --no-build) BUILD=0; shift ;;
    --no-doc) DOC=0; shift ;;
    --wait-idle) WAIT_IDLE=1; shift ;;
    --steps-meta) STEPS_META=(--steps-meta "$2"); shift 2 ;;
    -h|--help) sed -n '2,18p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1 (try --help)" >&2; exit 2 ;;
  esac
done

PY=/usr/bin/python3
MAIN=io.hgkd.examples.bench.OpsBenchmark
OUT="$REPO/target/bench"
THREADS=$(nproc)
mkdir -p "$OUT"

# --- the PyTorch side must be usable before spending time on the Java side
if [ ! -x "$PY" ]; then
  echo "ERROR: $PY not found. Install Debian's python: apt-get install -y python3 python3-torch libopenblas0-openmp" >&2
  exit 1
fi
if ! "$PY" -c 'import torch' 2>/dev/null; then
  echo "ERROR: '$PY -c \"import torch\"' fails. Install Debian's PyTorch: apt-get install -y python3-torch" >&2
  exit 1
fi
if ! dpkg-query -W -f='${Status}' libopenblas0-openmp 2>/dev/null | grep -q '^install ok installed'; then
  echo "ERROR: libopenblas0-openmp is not installed: PyTorch would use Debian's reference BLAS and every" \
       "PyTorch number would be meaningless. Install it: apt-get install -y libopenblas0-openmp" >&2
  exit 1
fi

# --- other CPU-heavy processes distort the numbers (tools/bench/busy.sh)
OWN='io\.hgkd\.examples\.bench\.OpsBenchmark|tools/bench/ops_bench\.py|tools/bench/write_ops_table\.py|tee .*target/bench/ops_'
source "$REPO/tools/bench/busy.sh"
[ "$WAIT_IDLE" = 1 ] && wait_idle
BUSY=$(others)
if [ -n "$BUSY" ]; then
  echo "WARNING: other java/python3/mvn processes are running; the numbers may be distorted:" >&2
  echo "$BUSY" | cut -c1-160 >&2
fi

# --- build
# (reactor package: the classpath points at this checkout's module jars, not at ~/.m2 snapshots)
if [ "$BUILD" = 1 ]; then
  echo ">> mvn -B -q -DskipTests -pl hgkd-examples -am package" >&2
  mvn -B -q -DskipTests -pl hgkd-examples -am package
fi
CP_FILE="$REPO/hgkd-examples/target/hgkd.classpath"
if [ ! -f "$CP_FILE" ] || [ ! -d "$REPO/hgkd-examples/target/classes" ]; then
  echo "ERROR: no hgkd-examples build; run without --no-build" >&2
  exit 1
fi
CP="$REPO/hgkd-examples/target/classes:$(cat "$CP_FILE")"

# --- sample other processes during the timed runs
start_sampler "$OUT/others.log"

# --- Java (hgkd) side
# Both sides wait passively in OpenMP, as bin/hgkd does (spin-waiting collapses under any other load).
export OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-passive}"
JAVA_ENV=(OMP_NUM_THREADS="$THREADS")
source "$REPO/bin/native-env.sh"   # jemalloc and Debian's OpenBLAS, as bin/hgkd
JAVA_ENV+=("${NATIVE_ENV[@]}")
if [ -n "$NATIVE_JEMALLOC" ]; then
  USED_JEMALLOC=yes
  echo ">> jemalloc: yes ($NATIVE_JEMALLOC preloaded into the JVM)" >&2
else
  USED_JEMALLOC=no
  echo ">> jemalloc: no (not installed; apt-get install -y libjemalloc2 to use it)" >&2
fi
echo ">> hgkd: $MAIN, $THREADS threads, warmup $WARMUP, reps $REPS" >&2
T0=$(date +%s.%N)
env "${JAVA_ENV[@]}" java "${NATIVE_JAVA_OPTS[@]}" -cp "$CP" "$MAIN" --warmup "$WARMUP" --reps "$REPS" --out "$OUT/ops_java.json" \
  2>&1 >/dev/null | tee "$OUT/ops_java.log" >&2
T1=$(date +%s.%N)

# --- PyTorch side, right after
echo ">> PyTorch: $PY tools/bench/ops_bench.py, $THREADS threads, warmup $WARMUP, reps $REPS" >&2
OMP_NUM_THREADS="$THREADS" "$PY" tools/bench/ops_bench.py --threads "$THREADS" --warmup "$WARMUP" --reps "$REPS" \
  --out "$OUT/ops_torch.json" 2>&1 >/dev/null | tee "$OUT/ops_torch.log" >&2
T2=$(date +%s.%N)
kill "$SAMPLER" 2>/dev/null || true
# distinct other processes seen: "pid command" (command cut to 90 characters)
SEEN=$(awk '{ pid = $2; $1 = $2 = $3 = ""; sub(/^ +/, ""); if (!(pid in s)) { s[pid] = 1; print pid " " substr($0, 1, 90) } }' \
  "$OUT/others.log")
if [ -n "$SEEN" ]; then
  echo "WARNING: other java/python3/mvn processes ran during the timed runs; the numbers are distorted:" >&2
  echo "$SEEN" >&2
fi

JAVA_S=$(awk "BEGIN { printf \"%.1f\", $T1 - $T0 }")
TORCH_S=$(awk "BEGIN { printf \"%.1f\", $T2 - $T1 }")
TOTAL_S=$(( $(date +%s) - T_START ))

# --- docs/benchmarks.md
CMD="${BENCH_COMMAND:-bash tools/bench/run_ops_bench.sh}"
if [ -z "${BENCH_COMMAND:-}" ] && { [ "$WARMUP" != 3 ] || [ "$REPS" != 10 ]; }; then
  CMD="$CMD --warmup $WARMUP --reps $REPS"
fi
if [ "$DOC" = 1 ]; then
  "$PY" tools/bench/write_ops_table.py --java "$OUT/ops_java.json" --torch "$OUT/ops_torch.json" \
    --out docs/benchmarks.md --command "$CMD" --jemalloc "$USED_JEMALLOC" \
    --java-seconds "$JAVA_S" --torch-seconds "$TORCH_S" --total-seconds "$TOTAL_S" --others-seen "$SEEN" "${STEPS_META[@]}" >/dev/null
  echo ">> wrote docs/benchmarks.md" >&2
else
  "$PY" tools/bench/write_ops_table.py --java "$OUT/ops_java.json" --torch "$OUT/ops_torch.json" \
    --out "$OUT/benchmarks.md" --command "$CMD" --jemalloc "$USED_JEMALLOC" \
    --java-seconds "$JAVA_S" --torch-seconds "$TORCH_S" --total-seconds "$TOTAL_S" --others-seen "$SEEN" "${STEPS_META[@]}" >/dev/null
  echo ">> wrote $OUT/benchmarks.md (docs/benchmarks.md untouched)" >&2
fi
echo ">> total $TOTAL_S s (hgkd run $JAVA_S s, PyTorch run $TORCH_S s), jemalloc: $USED_JEMALLOC" >&2
