# Sourced (not run) by tools/bench/run_step_bench.sh and run_ops_bench.sh: other CPU-heavy processes distort the
# numbers. Set OWN, an extended regex matching this benchmark's own command lines, before calling:
#   others               java/python3/mvn processes that are not this benchmark's own (pid, %cpu, command)
#   wait_idle            polls every 60 s, at most 20 min, until others() is empty (then runs anyway, warning)
#   start_sampler FILE   appends others() with a timestamp to FILE every 2 s in the background until exit; SAMPLER
#                        holds its pid

others() {
  # stopped processes (state T, e.g. a training run paused with kill -STOP for the benchmark) use no CPU
  ps -eo pid=,stat=,pcpu=,args= | awk '$2 !~ /^T/ { $2 = ""; print }' | grep -E '[j]ava|[p]ython3|[m]vn' \
    | grep -vE "$OWN|<defunct>" || true
}

wait_idle() {
  local i busy
  for i in $(seq 1 21); do
    busy=$(others)
    [ -z "$busy" ] && return
    if [ "$i" = 21 ]; then
      echo "WARNING: still busy after 20 min; running anyway" >&2
      return
    fi
    echo ">> waiting for other java/python3/mvn processes to finish (try $i/20, next in 60 s):" >&2
    echo "$busy" | cut -c1-160 >&2
    sleep 60
  done
}

start_sampler() {
  : > "$1"
  ( while :; do others | sed "s/^/$(date +%T) /" >> "$1"; sleep 2; done ) &
  SAMPLER=$!
  trap 'kill "$SAMPLER" 2>/dev/null || true' EXIT
}
