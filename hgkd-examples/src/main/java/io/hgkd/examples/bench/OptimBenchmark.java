package io.hgkd.examples.bench;

import io.hgkd.core.nn.Module;
import io.hgkd.core.nn.Parameter;
import io.hgkd.core.optim.AdamW;
import io.hgkd.core.optim.Lamb;
import io.hgkd.core.optim.Optimizer;
import io.hgkd.core.optim.ParamGroup;
import io.hgkd.core.optim.ParamGroups;
import io.hgkd.core.optim.Sgd;
import io.hgkd.models.registry.ModelRegistry;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Optimizer-step microbenchmark on the parameters of a registered model (default torchvision resnet50, 25.6 M
 * parameters, SparK's decay/no-decay groups), the Java twin of {@code tools/bench/optim_bench.py}. Not a test.
 *
 * <pre>
 *   OptimBenchmark [--model resnet50] [--warmup 3] [--reps 10] [--only adamw|lamb|sgd ...]
 * </pre>
 *
 * Gradients are fixed uniform random values (set once); each timed run is one {@code step()} (the gradients are clipped in
 * place by LAMB only when their norm exceeds 5, which random values of this scale do not). Prints one line per
 * optimizer: median, min and max wall time in ms, the median process CPU time, and a hash of the parameters' bits.
 */
public final class OptimBenchmark {
    private OptimBenchmark() {
    }

    public static void main(String[] args) {
        String model = "resnet50";
        int warmup = 3;
        int reps = 10;
        List<String> only = new ArrayList<>(List.of("adamw", "lamb", "sgd"));
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--model" -> model = args[++i];
                case "--warmup" -> warmup = Integer.parseInt(args[++i]);
                case "--reps" -> reps = Integer.parseInt(args[++i]);
                case "--only" -> {
                    only.clear();
                    while (i + 1 < args.length && !args[i + 1].startsWith("--")) {
                        only.add(args[++i]);
                    }
                }
                default -> throw new IllegalArgumentException("unknown argument " + args[i]
                        + " (--model NAME, --warmup N, --reps N, --only adamw|lamb|sgd ...)");
            }
        }
        Module m = ModelRegistry.create(model).model();
        Map<String, Parameter> params = m.namedParameters();
        // deterministic gradients (uniform, |g| < 1e-4), so the hash printed below compares implementations
        java.util.SplittableRandom rnd = new java.util.SplittableRandom(0);
        for (Parameter p : params.values()) {
            float[] g = new float[(int) p.data().length()];
            for (int i = 0; i < g.length; i++) {
                g[i] = (float) ((rnd.nextDouble() - 0.5) * 2e-4);
            }
            p.grad().assign(Nd4j.create(g, p.data().shape(), 'c'));
        }
        System.out.printf(Locale.ROOT, "model %s: %d tensors, %d parameters, threads %s%n", model, params.size(),
                m.numParameters(), System.getenv("OMP_NUM_THREADS"));
        // process CPU time (all threads): less distorted than wall time when other processes share the cores
        com.sun.management.OperatingSystemMXBean os = (com.sun.management.OperatingSystemMXBean)
                java.lang.management.ManagementFactory.getOperatingSystemMXBean();
        for (String name : only) {
            Function<List<ParamGroup>, Optimizer> make = switch (name) {
                case "adamw" -> g -> new AdamW(g, AdamW.Config.torchDefaults().withWeightDecay(0.05));
                case "lamb" -> g -> new Lamb(g, Lamb.Config.sparkPretrain(2e-4, 0.04));
                case "sgd" -> g -> new Sgd(g, Sgd.Config.of(0.1).withMomentum(0.9).withWeightDecay(1e-4));
                default -> throw new IllegalArgumentException("unknown optimizer " + name);
            };
            Optimizer opt = make.apply(ParamGroups.spark(params));
            double[] ms = new double[reps];
            double[] cpu = new double[reps];
            for (int r = 0; r < warmup + reps; r++) {
                long c0 = os.getProcessCpuTime();
                long t0 = System.nanoTime();
                opt.step();
                long t1 = System.nanoTime();
                long c1 = os.getProcessCpuTime();
                if (r >= warmup) {
                    ms[r - warmup] = (t1 - t0) / 1e6;
                    cpu[r - warmup] = (c1 - c0) / 1e6;
                }
            }
            Arrays.sort(ms);
            Arrays.sort(cpu);
            // a hash of the exact bits, to compare implementations
            long hash = 0;
            for (Parameter p : params.values()) {
                java.nio.FloatBuffer b = p.data().data().asNioFloat();
                for (int i = 0; i < b.capacity(); i++) {
                    hash = hash * 31 + Float.floatToRawIntBits(b.get(i));
                }
            }
            System.out.printf(Locale.ROOT, "%-6s median %8.1f ms  min %8.1f  max %8.1f  cpu median %8.1f ms  bits %016x%n",
                    name, ms[reps / 2], ms[0], ms[reps - 1], cpu[reps / 2], hash);
        }
    }
}
