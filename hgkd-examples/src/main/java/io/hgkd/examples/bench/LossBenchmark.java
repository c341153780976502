package io.hgkd.examples.bench;

import io.hgkd.train.distill.DistillConfig;
import io.hgkd.train.distill.DistillLoss;
import io.hgkd.train.distill.EmbeddingQueue;
import io.hgkd.train.distill.TeacherTargets;
import java.lang.management.ManagementFactory;
import java.util.Arrays;
import java.util.Locale;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Benchmark of the H-GKD loss terms outside the networks: {@link TeacherTargets#of} and
 * {@link DistillLoss#compute} (L_feat MSE on masked tokens plus L_sim against the queue), FLOAT, on the ViT-B/16
 * shapes at 224 px. Not a test.
 *
 * <pre>
 *   LossBenchmark [--batch 32] [--dim 768] [--grid 14] [--queue 65536] [--warmup 2] [--reps 5]
 * </pre>
 * Prints the median wall and process CPU time of each part in ms.
 */
public final class LossBenchmark {
    private LossBenchmark() {
    }

    public static void main(String[] args) {
        int b = 32, d = 768, g = 14, k = 65536, warmup = 2, reps = 5;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--batch" -> b = Integer.parseInt(args[++i]);
                case "--dim" -> d = Integer.parseInt(args[++i]);
                case "--grid" -> g = Integer.parseInt(args[++i]);
                case "--queue" -> k = Integer.parseInt(args[++i]);
                case "--warmup" -> warmup = Integer.parseInt(args[++i]);
                case "--reps" -> reps = Integer.parseInt(args[++i]);
                default -> throw new IllegalArgumentException("unknown argument " + args[i]);
            }
        }
        int n = g * g;
        // java.util random values: the same inputs in every run, so the checksum compares implementations
        java.util.SplittableRandom rnd = new java.util.SplittableRandom(0);
        INDArray tokens = uniform(rnd, b, 1 + n, d);
        INDArray s = uniform(rnd, b, d, g, g);
        INDArray masked = uniform(rnd, b, n).gt(0.2).castTo(DataType.FLOAT);
        DistillConfig cfg = DistillConfig.defaults().withQueue(k, 0);
        DistillLoss loss = new DistillLoss(cfg, new EmbeddingQueue(k, d, 0));
        com.sun.management.OperatingSystemMXBean os =
                (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        double[][] wall = new double[2][reps];
        double[][] cpu = new double[2][reps];
        double check = 0;
        for (int r = 0; r < warmup + reps; r++) {
            long c0 = os.getProcessCpuTime(), t0 = System.nanoTime();
            TeacherTargets t = TeacherTargets.of(tokens, 1, cfg.normalizeTargets(), cfg.targetEps());
            long c1 = os.getProcessCpuTime(), t1 = System.nanoTime();
            DistillLoss.Result res = loss.compute(null, s, t, masked, null, null);
            long c2 = os.getProcessCpuTime(), t2 = System.nanoTime();
            check += res.terms().total() + res.gradFeatures().getDouble(0);

            if (r >= warmup) {
                wall[0][r - warmup] = (t1 - t0) / 1e6;
                wall[1][r - warmup] = (t2 - t1) / 1e6;
                cpu[0][r - warmup] = (c1 - c0) / 1e6;
                cpu[1][r - warmup] = (c2 - c1) / 1e6;
            }
        }
        String[] names = {"targets", "loss"};
        for (int p = 0; p < 2; p++) {
            Arrays.sort(wall[p]);
            Arrays.sort(cpu[p]);
            System.out.printf(Locale.ROOT, "%-8s median %8.1f ms  min %8.1f  max %8.1f  cpu median %8.1f ms%n", names[p],
                    wall[p][reps / 2], wall[p][0], wall[p][reps - 1], cpu[p][reps / 2]);
        }
        System.out.printf(Locale.ROOT, "B %d D %d G %d K %d, checksum %.9e%n", b, d, g, k, check);
    }

    /** Uniform values in [-1, 1). */
    private static INDArray uniform(java.util.SplittableRandom rnd, long... shape) {
        float[] v = new float[(int) java.util.Arrays.stream(shape).reduce(1, (x, y) -> x * y)];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) (2 * rnd.nextDouble() - 1);
        }
        return Nd4j.create(v, shape, 'c');
    }
}
