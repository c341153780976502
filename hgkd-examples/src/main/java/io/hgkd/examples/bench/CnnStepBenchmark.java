package io.hgkd.examples.bench;

import io.hgkd.core.loss.CrossEntropy;
import io.hgkd.core.nn.Init;
import io.hgkd.core.sparse.ActiveMask;
import io.hgkd.models.resnet.ResNet;
import io.hgkd.models.resnet.ResNetConfig;
import io.hgkd.models.student.SparkStudent;
import io.hgkd.models.student.StudentConfig;
import io.hgkd.models.student.StudentOutput;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Forward + backward time of the CNN training workloads, the twin of {@code tools/bench/cnn_bench.py} (same shapes,
 * same mask ratio). Not a test: a plain {@code main}; no optimizer step (that is measured elsewhere).
 *
 * <pre>
 *   CnnStepBenchmark [--warmup 2] [--reps 5] [--only resnet50_dense spark_resnet50 spark_small_resnet18]
 * </pre>
 * <ul>
 *   <li>{@code resnet50_dense}: ResNet-50 (1000 classes), 224 px, batch 8, cross-entropy, zero_grad + forward +
 *       backward;</li>
 *   <li>{@code spark_resnet50}: H-GKD student (sparse ResNet-50, LightDecoder 768, feature head 16/768), 224 px,
 *       batch 8, mask ratio 0.6 on the 7x7 grid, zero_grad + forward + backward of a random feature gradient;</li>
 *   <li>{@code spark_small_resnet18}: the Fashion-MNIST student (small-stem ResNet-18, decoder 256, pixel head,
 *       feature head 8/192), 32 px, batch 128, mask ratio 0.6 on the 4x4 grid.</li>
 * </ul>
 * Prints per-case median, min and max wall time in ms, and the median process CPU time per step (all threads; a
 * steadier measure than wall time on a shared machine), to stderr and one line per case to stdout.
 */
public final class CnnStepBenchmark {
    private CnnStepBenchmark() {
    }

    public static void main(String[] args) {
        int warmup = 2;
        int reps = 5;
        List<String> only = new ArrayList<>();
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--warmup" -> warmup = Integer.parseInt(args[++i]);
                case "--reps" -> reps = Integer.parseInt(args[++i]);
                case "--only" -> {
                    while (i + 1 < args.length && !args[i + 1].startsWith("--")) {
                        only.add(args[++i]);
                    }
                }
                default -> throw new IllegalArgumentException("unknown argument " + args[i]);
            }
        }
        List<String> cases = only.isEmpty()
                ? List.of("resnet50_dense", "spark_resnet50", "spark_small_resnet18") : only;
        for (String c : cases) {
            Runnable step = switch (c) {
                case "resnet50_dense" -> resnet50Dense();
                case "spark_resnet50" -> spark(StudentConfig.hgkd(ResNetConfig.resnet50().withNumClasses(0), 224, 16,
                        768), 8);
                case "spark_small_resnet18" -> spark(new StudentConfig(ResNetConfig.resnet18().withNumClasses(0)
                        .withStem(ResNetConfig.Stem.SMALL).withZeroInitLast(false), 32, 256, true, 8, 192), 128);
                default -> throw new IllegalArgumentException("unknown case " + c);
            };
            double[] cpu = new double[reps];
            double[] t = time(step, warmup, reps, cpu);
            System.err.printf(Locale.ROOT, "%-22s median %8.1f ms (min %.1f, max %.1f) all %s, cpu median %.1f ms%n",
                    c, median(t), t[0], t[t.length - 1],
                    Arrays.toString(Arrays.stream(t).map(v -> Math.round(v)).toArray()), median(cpu));
            System.out.printf(Locale.ROOT, "%s %.1f %.1f %.1f %.1f%n", c, median(t), t[0], t[t.length - 1],
                    median(cpu));
        }
    }

    private static Runnable resnet50Dense() {
        Init.manualSeed(0);
        ResNet model = new ResNet(ResNetConfig.resnet50());
        model.train(true);
        Random rnd = new Random(0);
        INDArray x = gaussian(rnd, 8, 3, 224, 224);
        int[] labels = new int[8];
        for (int i = 0; i < 8; i++) {
            labels[i] = rnd.nextInt(1000);
        }
        CrossEntropy ce = new CrossEntropy();
        return () -> {
            model.zeroGrad();
            INDArray logits = model.forward(x);
            ce.forward(logits, labels);
            model.backward(ce.backward());
        };
    }

    private static Runnable spark(StudentConfig cfg, int batch) {
        Init.manualSeed(0);
        SparkStudent model = new SparkStudent(cfg);
        model.train(true);
        Random rnd = new Random(0);
        int s = cfg.inputSize();
        int grid = cfg.maskGrid();
        INDArray x = gaussian(rnd, batch, cfg.encoder().inChans(), s, s);
        // SparK: keep round(cells * (1 - ratio)) random cells per sample
        int cells = grid * grid;
        int keep = (int) Math.round(cells * (1 - 0.6));
        boolean[][] active = new boolean[batch][cells];
        for (int b = 0; b < batch; b++) {
            List<Integer> idx = new ArrayList<>();
            for (int i = 0; i < cells; i++) {
                idx.add(i);
            }
            java.util.Collections.shuffle(idx, rnd);
            for (int i = 0; i < keep; i++) {
                active[b][idx.get(i)] = true;
            }
        }
        ActiveMask mask = ActiveMask.of(active, grid, grid);
        INDArray[] gf = new INDArray[1];
        return () -> {
            model.zeroGrad();
            StudentOutput o = model.forward(x, mask);
            if (gf[0] == null) {
                gf[0] = gaussian(new Random(1), o.features().shape());
            }
            model.backward(null, gf[0]);
        };
    }

    private static INDArray gaussian(Random rnd, long... shape) {
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

    private static double[] time(Runnable fn, int warmup, int reps, double[] cpu) {
        com.sun.management.OperatingSystemMXBean os = (com.sun.management.OperatingSystemMXBean)
                java.lang.management.ManagementFactory.getOperatingSystemMXBean();
        for (int i = 0; i < warmup; i++) {
            fn.run();
        }
        double[] ts = new double[reps];
        for (int i = 0; i < reps; i++) {
            long c0 = os.getProcessCpuTime();
            long t0 = System.nanoTime();
            fn.run();
            ts[i] = (System.nanoTime() - t0) / 1e6;
            cpu[i] = (os.getProcessCpuTime() - c0) / 1e6;
        }
        Arrays.sort(ts);
        Arrays.sort(cpu);
        return ts;
    }

    private static double median(double[] s) {
        int n = s.length;
        return n % 2 == 1 ? s[n / 2] : 0.5 * (s[n / 2 - 1] + s[n / 2]);
    }
}
