package io.hgkd.examples.bench;

import io.hgkd.core.nn.BatchNorm2d;
import io.hgkd.core.nn.Conv2d;
import io.hgkd.core.nn.Init;
import io.hgkd.core.nn.LayerNorm;
import io.hgkd.core.nn.Linear;
import io.hgkd.core.nn.Module;
import io.hgkd.core.nn.Parameter;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import java.util.function.Supplier;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Microbenchmark of single hgkd layers, forward and forward + backward, on the shapes of
 * {@code tools/bench/ops_bench.py} (the PyTorch side). Not a test: a plain {@code main}.
 *
 * <pre>
 *   OpsBenchmark [--warmup 3] [--reps 10] [--out FILE] [--only OP ...]
 * </pre>
 *
 * <p>For each op: "fwd" times {@code forward(x)}; "fwd+bwd" times {@code zeroGrad(); forward(x); backward(gy)} with a
 * fixed upstream gradient {@code gy}. float32, {@code warmup} untimed runs then {@code reps} timed runs; median, min and
 * max wall time in ms. Prints one JSON object to stdout (and to {@code --out FILE}) in the shape the Python script
 * writes:
 * <pre>
 *   {"nd4j_version": ..., "threads": ..., "warmup": ..., "reps": ..., "blas": {...}, "results":
 *      [{"op": ..., "pass": "fwd"|"fwd+bwd", "median_ms": ..., "min_ms": ..., "max_ms": ..., "checksum": ...}]}
 * </pre>
 * The thread count is ND4J's own (set {@code OMP_NUM_THREADS} before the JVM starts). The ND4J environment, a
 * checksum of every pass (so no result is unused) and a forward spot check against a double-precision recomputation
 * of a few output elements go to stderr. Op names and shapes must stay in sync with the Python script.
 */
public final class OpsBenchmark {

    /** One benchmarked op: a module factory and the input shape. */
    private record Op(String name, Supplier<Module> factory, long[] shape) {
    }

    /** Same names, modules and shapes as OPS in tools/bench/ops_bench.py. */
    private static final List<Op> OPS = List.of(
            new Op("conv3x3", () -> new Conv2d(64, 64, 3, 1, 1, false), new long[] {8, 64, 56, 56}),
            new Op("conv1x1", () -> new Conv2d(256, 64, 1, 1, 0, false), new long[] {8, 256, 56, 56}),
            new Op("batchnorm2d_train", () -> new BatchNorm2d(64).train(true), new long[] {8, 64, 56, 56}),
            new Op("layernorm", () -> new LayerNorm(768, 1e-6, true), new long[] {8, 197, 768}),
            new Op("linear", () -> new Linear(768, 3072), new long[] {8 * 197, 768}));

    private OpsBenchmark() {
    }

    public static void main(String[] args) throws IOException {
        int warmup = 3;
        int reps = 10;
        String out = null;
        List<String> only = new ArrayList<>();
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--warmup" -> warmup = Integer.parseInt(need(args, ++i));
                case "--reps" -> reps = Integer.parseInt(need(args, ++i));
                case "--out" -> out = need(args, ++i);
                case "--only" -> {
                    while (i + 1 < args.length && !args[i + 1].startsWith("--")) {
                        only.add(args[++i]);
                    }
                }
                case "-h", "--help" -> {
                    System.err.println("usage: OpsBenchmark [--warmup N] [--reps N] [--out FILE] [--only OP ...]\n"
                            + "ops: " + OPS.stream().map(Op::name).toList()
                            + "\nthreads: set OMP_NUM_THREADS before starting the JVM");
                    return;
                }
                default -> throw new IllegalArgumentException("unknown argument " + args[i] + " (try --help)");
            }
        }
        if (reps < 1 || warmup < 0) {
            throw new IllegalArgumentException("need --reps >= 1 and --warmup >= 0");
        }
        for (String o : only) {
            if (OPS.stream().noneMatch(op -> op.name().equals(o))) {
                throw new IllegalArgumentException("unknown op " + o + "; known: "
                        + OPS.stream().map(Op::name).toList());
            }
        }

        Map<String, Object> env = environment();
        PrintStream err = System.err;

        List<Map<String, Object>> results = new ArrayList<>();
        boolean allFinite = true;
        for (Op op : OPS) {
            if (!only.isEmpty() && !only.contains(op.name())) {
                continue;
            }
            for (Map<String, Object> r : benchOp(op, warmup, reps)) {
                err.printf(Locale.ROOT, "%-18s %-8s median %9.3f ms  (min %.3f, max %.3f)  checksum %.6g%n",
                        r.get("op"), r.get("pass"), r.get("median_ms"), r.get("min_ms"), r.get("max_ms"),
                        r.get("checksum"));
                allFinite &= Double.isFinite((Double) r.get("checksum"));
                results.add(r);
            }
        }

        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("nd4j_version", env.remove("nd4j_version"));
        doc.put("threads", env.get("omp_threads"));
        doc.put("warmup", warmup);
        doc.put("reps", reps);
        doc.put("blas", env);
        doc.put("results", results);
        String text = Json.write(doc);
        System.out.println(text);
        if (out != null) {
            Files.writeString(Path.of(out), text + "\n", StandardCharsets.UTF_8);
        }
        if (!allFinite) {
            err.println("ERROR: a checksum is not finite (NaN or Inf in an output or gradient)");
            System.exit(2);
        }
    }

    private static String need(String[] args, int i) {
        if (i >= args.length) {
            throw new IllegalArgumentException(args[i - 1] + " needs a value");
        }
        return args[i];
    }

    /** Times "fwd" and "fwd+bwd" of one op; returns two result rows. */
    private static List<Map<String, Object>> benchOp(Op op, int warmup, int reps) {
        Random rnd = new Random(0);
        Init.manualSeed(0); // the same weights whichever ops run before this one
        Module m = op.factory().get();
        INDArray x = gaussian(rnd, op.shape());
        List<Map<String, Object>> rows = new ArrayList<>();

        // forward alone
        INDArray[] last = new INDArray[1];
        double[] fwd = time(() -> last[0] = m.forward(x), warmup, reps);
        INDArray y = last[0];
        spotCheck(op.name(), m, x, y);
        rows.add(row(op.name(), "fwd", fwd, y.sumNumber().doubleValue()));

        // forward + backward with a fixed upstream gradient; zeroGrad as an optimizer loop would call it
        INDArray gy = gaussian(rnd, y.shape());
        double[] fb = time(() -> {
            m.zeroGrad();
            m.forward(x);
            last[0] = m.backward(gy);
        }, warmup, reps);
        INDArray dx = last[0];
        double sum = dx.sumNumber().doubleValue();
        for (Parameter p : m.parameters()) {
            sum += p.grad().sumNumber().doubleValue();
        }
        rows.add(row(op.name(), "fwd+bwd", fb, sum));
        return rows;
    }

    /**
     * A standard-normal float array drawn from a Java generator: ND4J M2.1's {@code randn} after
     * {@code setSeed} does not repeat across runs, and fixed inputs make the checksums comparable between runs.
     */
    private static INDArray gaussian(Random rnd, long[] shape) {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        float[] v = new float[Math.toIntExact(n)];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) rnd.nextGaussian();
        }
        return Nd4j.create(v, shape, 'c');
    }

    private static double[] time(Runnable fn, int warmup, int reps) {
        for (int i = 0; i < warmup; i++) {
            fn.run();
        }
        double[] ts = new double[reps];
        for (int i = 0; i < reps; i++) {
            long t0 = System.nanoTime();
            fn.run();
            ts[i] = (System.nanoTime() - t0) / 1e6;
        }
        return ts;
    }

    private static Map<String, Object> row(String op, String pass, double[] ts, double checksum) {
        double[] s = ts.clone();
        Arrays.sort(s);
        int n = s.length;
        double median = n % 2 == 1 ? s[n / 2] : 0.5 * (s[n / 2 - 1] + s[n / 2]); // as Python's statistics.median
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("op", op);
        r.put("pass", pass);
        r.put("median_ms", round3(median));
        r.put("min_ms", round3(s[0]));
        r.put("max_ms", round3(s[n - 1]));
        r.put("checksum", checksum);
        return r;
    }

    private static double round3(double v) {
        return Math.round(v * 1000.0) / 1000.0;
    }

    // ---------------------------------------------------------------- spot check (outside the timed region)

    /**
     * Recomputes a few output elements of the last forward in double precision from the input and the parameters
     * and prints the largest relative error. Only a guard against benchmarking something broken, not a test.
     */
    private static void spotCheck(String name, Module m, INDArray x, INDArray y) {
        Random rnd = new Random(1);
        double maxErr = 0;
        long[] s = x.shape();
        for (int k = 0; k < 4; k++) {
            double want;
            double got;
            if (m instanceof Conv2d c) {
                INDArray w = c.weight().data();
                int kk = c.kernelSize();
                int pad = c.padding();
                long n = rnd.nextInt((int) s[0]);
                long o = rnd.nextInt(c.outChannels());
                long i = rnd.nextInt((int) y.size(2));
                long j = rnd.nextInt((int) y.size(3));
                want = 0;
                for (long ci = 0; ci < s[1]; ci++) {
                    for (int a = 0; a < kk; a++) {
                        for (int b = 0; b < kk; b++) {
                            long ii = i + a - pad;
                            long jj = j + b - pad;
                            if (ii >= 0 && jj >= 0 && ii < s[2] && jj < s[3]) {
                                want += w.getDouble(o, ci, a, b) * x.getDouble(n, ci, ii, jj);
                            }
                        }
                    }
                }
                got = y.getDouble(n, o, i, j);
            } else if (m instanceof Linear l) {
                long r = rnd.nextInt((int) s[0]);
                long o = rnd.nextInt(l.outFeatures());
                want = l.bias().data().getDouble(o);
                for (long q = 0; q < s[1]; q++) {
                    want += x.getDouble(r, q) * l.weight().data().getDouble(o, q);
                }
                got = y.getDouble(r, o);
            } else if (m instanceof BatchNorm2d bn) {
                // channel statistics over (N, H, W), biased variance; gamma/beta as stored
                long c = rnd.nextInt(bn.channels());
                float[] xc = x.get(org.nd4j.linalg.indexing.NDArrayIndex.all(),
                        org.nd4j.linalg.indexing.NDArrayIndex.point(c)).dup('c').data().asFloat();
                double[] mv = meanVar(xc, 0, xc.length);
                long n = rnd.nextInt((int) s[0]);
                long i = rnd.nextInt((int) s[2]);
                long j = rnd.nextInt((int) s[3]);
                want = (x.getDouble(n, c, i, j) - mv[0]) / Math.sqrt(mv[1] + bn.eps())
                        * bn.weight().data().getDouble(c) + bn.bias().data().getDouble(c);
                got = y.getDouble(n, c, i, j);
            } else if (m instanceof LayerNorm ln) {
                long b = rnd.nextInt((int) s[0]);
                long t = rnd.nextInt((int) s[1]);
                long d = rnd.nextInt((int) s[2]);
                float[] row = x.get(org.nd4j.linalg.indexing.NDArrayIndex.point(b),
                        org.nd4j.linalg.indexing.NDArrayIndex.point(t)).dup('c').data().asFloat();
                double[] mv = meanVar(row, 0, row.length);
                want = (x.getDouble(b, t, d) - mv[0]) / Math.sqrt(mv[1] + 1e-6)
                        * ln.weight().data().getDouble(d) + ln.bias().data().getDouble(d);
                got = y.getDouble(b, t, d);
            } else {
                return;
            }
            maxErr = Math.max(maxErr, Math.abs(got - want) / Math.max(1.0, Math.abs(want)));
        }
        System.err.printf(Locale.ROOT, "%-18s spot check: max rel. error %.2e over 4 forward elements%s%n", name,
                maxErr, maxErr > 1e-3 ? "  <-- WARNING: forward output looks wrong" : "");
    }

    private static double[] meanVar(float[] v, int from, int to) {
        double mean = 0;
        for (int i = from; i < to; i++) {
            mean += v[i];
        }
        mean /= (to - from);
        double var = 0;
        for (int i = from; i < to; i++) {
            var += (v[i] - mean) * (v[i] - mean);
        }
        return new double[] {mean, var / (to - from)};
    }

    // ---------------------------------------------------------------- environment

    /** ND4J version, thread counts, BLAS vendor, oneDNN, jemalloc; printed to stderr and returned for the JSON. */
    static Map<String, Object> environment() {
        Properties p = Nd4j.getExecutioner().getEnvironmentInformation();
        Map<String, Object> env = new LinkedHashMap<>();
        env.put("nd4j_version", nd4jVersion());
        env.put("backend", String.valueOf(p.get("backend")));
        env.put("omp_threads", p.get("omp.threads"));
        env.put("blas_threads", p.get("blas.threads"));
        env.put("blas_vendor", String.valueOf(p.get("blas.vendor")));
        env.put("blas_library", mappedFiles("libopenblas"));
        env.put("nd4j_max_threads", Nd4j.getEnvironment().maxThreads());
        env.put("nd4j_max_master_threads", Nd4j.getEnvironment().maxMasterThreads());
        env.put("helpers_allowed", Nd4j.getEnvironment().helpersAllowed());
        String build = nativeBuildInfo();
        env.put("onednn", build.toUpperCase(Locale.ROOT).contains("ONEDNN")
                || build.toUpperCase(Locale.ROOT).contains("MKLDNN"));
        env.put("jemalloc", !mappedFiles("libjemalloc").isEmpty());
        env.put("env_OMP_NUM_THREADS", String.valueOf(System.getenv("OMP_NUM_THREADS")));
        env.put("env_MALLOC_CONF", String.valueOf(System.getenv("MALLOC_CONF")));
        env.put("java_version", System.getProperty("java.version"));
        env.put("available_processors", Runtime.getRuntime().availableProcessors());
        env.put("max_heap_mb", Runtime.getRuntime().maxMemory() >> 20);

        PrintStream err = System.err;
        err.println("ND4J environment:");
        env.forEach((k, v) -> err.println("  " + k + ": " + v));
        err.println("  native build info: " + build.replace('\n', ' ').trim());
        return env;
    }

    /**
     * libnd4j's build string (lists HAVE_ONEDNN, HAVE_OPENBLAS), read reflectively: the backend is a runtime-only
     * dependency of this module, as it is for the library's users.
     */
    private static String nativeBuildInfo() {
        try {
            Class<?> holder = Class.forName("org.nd4j.nativeblas.NativeOpsHolder");
            Object inst = holder.getMethod("getInstance").invoke(null);
            Object ops = holder.getMethod("getDeviceNativeOps").invoke(inst);
            return String.valueOf(Class.forName("org.nd4j.nativeblas.NativeOps").getMethod("buildInfo").invoke(ops));
        } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
            return "unavailable: " + e;
        }
    }

    private static String nd4jVersion() {
        try (InputStream in = Nd4j.class.getResourceAsStream("/META-INF/maven/org.nd4j/nd4j-api/pom.properties")) {
            if (in != null) {
                Properties p = new Properties();
                p.load(in);
                return p.getProperty("version", "unknown");
            }
        } catch (IOException e) {
            // fall through
        }
        return "unknown";
    }

    /**
     * The distinct files mapped into this process whose name contains {@code lib}, comma-separated; empty when none
     * is (or /proc/self/maps cannot be read). Tells which jemalloc and which OpenBLAS JavaCPP really loaded.
     */
    private static String mappedFiles(String lib) {
        try {
            return Files.readAllLines(Path.of("/proc/self/maps")).stream()
                    .map(l -> l.substring(l.lastIndexOf(' ') + 1))
                    .filter(f -> f.substring(f.lastIndexOf('/') + 1).contains(lib))
                    .distinct().collect(java.util.stream.Collectors.joining(", "));
        } catch (IOException e) {
            return "";
        }
    }

    // ---------------------------------------------------------------- minimal JSON writer (no extra dependency)

    /** Writes maps, lists, strings, numbers and booleans as JSON with one-space indentation, like json.dumps(indent=1). */
    static final class Json {
        private Json() {
        }

        static String write(Object v) {
            StringBuilder sb = new StringBuilder();
            write(sb, v, 0);
            return sb.toString();
        }

        private static void write(StringBuilder sb, Object v, int depth) {
            if (v instanceof Map<?, ?> m) {
                if (m.isEmpty()) {
                    sb.append("{}");
                    return;
                }
                sb.append("{\n");
                int i = 0;
                for (Map.Entry<?, ?> e : m.entrySet()) {
                    indent(sb, depth + 1);
                    string(sb, String.valueOf(e.getKey()));
                    sb.append(": ");
                    write(sb, e.getValue(), depth + 1);
                    sb.append(++i < m.size() ? ",\n" : "\n");
                }
                indent(sb, depth);
                sb.append('}');
            } else if (v instanceof List<?> l) {
                if (l.isEmpty()) {
                    sb.append("[]");
                    return;
                }
                sb.append("[\n");
                for (int i = 0; i < l.size(); i++) {
                    indent(sb, depth + 1);
                    write(sb, l.get(i), depth + 1);
                    sb.append(i + 1 < l.size() ? ",\n" : "\n");
                }
                indent(sb, depth);
                sb.append(']');
            } else if (v instanceof Double d) {
                sb.append(Double.isFinite(d) ? Double.toString(d) : "null");
            } else if (v instanceof Float f) {
                sb.append(Float.isFinite(f) ? Float.toString(f) : "null");
            } else if (v instanceof Number || v instanceof Boolean) {
                sb.append(v);
            } else if (v == null) {
                sb.append("null");
            } else {
                string(sb, v.toString());
            }
        }

        private static void indent(StringBuilder sb, int depth) {
            sb.append(" ".repeat(depth));
        }

        private static void string(StringBuilder sb, String s) {
            sb.append('"');
            for (int i = 0; i < s.length(); i++) {
                char c = s.charAt(i);
                switch (c) {
                    case '"' -> sb.append("\\\"");
                    case '\\' -> sb.append("\\\\");
                    case '\n' -> sb.append("\\n");
                    case '\r' -> sb.append("\\r");
                    case '\t' -> sb.append("\\t");
                    default -> {
                        if (c < 0x20) {
                            sb.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
                        } else {
                            sb.append(c);
                        }
                    }
                }
            }
            sb.append('"');
        }
    }
}
