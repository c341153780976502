# Sourced (not run) by bin/hgkd and tools/bench/*.sh: the native libraries and settings hgkd runs with, so that the
# benchmarks measure what the CLI runs. Sets these and exports nothing:
#   NATIVE_ENV        VAR=value words for `env` or `export` (array)
#   NATIVE_JAVA_OPTS  JVM options (array)
#   NATIVE_JEMALLOC   the jemalloc library preloaded through NATIVE_ENV, empty when it is not installed
# Each setting is used only when its library is installed; a MALLOC_CONF already in the environment wins.

NATIVE_ENV=()
NATIVE_JAVA_OPTS=()

# jemalloc (Debian libjemalloc2) keeps ND4J's off-heap allocations from fragmenting glibc malloc. Page purging stays
# on (30 s decay) so that RSS stays bounded, from a background thread rather than inside the training threads'
# free() calls; oversize_threshold:0 stops jemalloc from purging every freed block of 8 MiB or more at once, which
# made each step fault libnd4j's large op temporaries in again. Measurements: docs/training.md, "Native memory".
NATIVE_JEMALLOC=/usr/lib/x86_64-linux-gnu/libjemalloc.so.2
[[ -f "$NATIVE_JEMALLOC" ]] || NATIVE_JEMALLOC=""
if [[ -n "$NATIVE_JEMALLOC" ]]; then
  NATIVE_ENV+=("LD_PRELOAD=$NATIVE_JEMALLOC${LD_PRELOAD:+:$LD_PRELOAD}"
               "MALLOC_CONF=${MALLOC_CONF:-background_thread:true,oversize_threshold:0,dirty_decay_ms:30000,muzzy_decay_ms:0}")
fi

# Debian's OpenBLAS 0.3.21, OpenMP build (libopenblas0-openmp), instead of the 0.3.19 pthreads build bundled with
# ND4J: its GEMMs scale better at 2 threads (ViT-B/16 forward, benchmark row 6: 2.3-2.4 s per step against
# 2.8-3.4 s). JavaCPP loads it in place of the bundled library. HGKD_BUNDLED_BLAS=1 keeps the bundled one.
_openblas_dir=/usr/lib/x86_64-linux-gnu/openblas-openmp
if [[ "${HGKD_BUNDLED_BLAS:-0}" != 1 && -f "$_openblas_dir/libopenblas.so.0" ]]; then
  NATIVE_JAVA_OPTS+=(-Dorg.bytedeco.openblas.load=openblas -Dorg.bytedeco.javacpp.pathsFirst=true
                     "-Djava.library.path=$_openblas_dir")
fi
unset _openblas_dir
