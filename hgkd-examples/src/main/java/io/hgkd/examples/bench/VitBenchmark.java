package io.hgkd.examples.bench;

import io.hgkd.core.nn.Parameter;
import io.hgkd.models.mae.MaeConfig;
import io.hgkd.models.mae.MaskedAutoencoderViT;
import io.hgkd.models.vit.VisionTransformer;
import io.hgkd.models.vit.VitConfig;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Timing of the ViT workloads, not a test: a plain {@code main}. Workloads (float32, random inputs):
 * <ul>
 *   <li>{@code teacher}: ViT-B/16 {@code forwardTokens} with gradients off ({@code freeze()}), 224 px, batch 8;</li>
 *   <li>{@code mae-b16}: MAE ViT-B/16 forward + backward (no optimizer), 224 px, batch 8, mask ratio 0.75;</li>
 *   <li>{@code mae-fmnist}: the MAE of {@code pretrain-teacher-fashion-mnist.json} (ViT depth 12, dim 192, 3 heads,
 *       32 px, patch 8; decoder 128 wide, 2 blocks, 4 heads), batch 128, forward + backward.</li>
 * </ul>
 * <pre>  VitBenchmark [--warmup 2] [--reps 5] [workload ...]</pre>
 * Prints, per workload, the median, min and max wall time in ms of the timed repetitions, and the median process CPU
 * time per repetition (all threads; a steadier measure of work than wall time on a shared machine).
 */
public final class VitBenchmark {
    private VitBenchmark() {
    }

    public static void main(String[] args) {
        int warmup = 2;
        int reps = 5;
        List<String> work = new ArrayList<>();
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--warmup" -> warmup = Integer.parseInt(args[++i]);
                case "--reps" -> reps = Integer.parseInt(args[++i]);
                default -> work.add(args[i]);
            }
        }
        if (work.isEmpty()) {
            work = List.of("teacher", "mae-b16", "mae-fmnist");
        }
        for (String w : work) {
            Runnable step = switch (w) {
                case "teacher" -> teacher();
                case "mae-b16" -> mae(MaeConfig.maeVitBasePatch16(), 8, 224);
                case "mae-fmnist" -> mae(fashionMnist(), 128, 32);
                default -> throw new IllegalArgumentException("unknown workload " + w
                        + " (teacher, mae-b16, mae-fmnist)");
            };
            double[][] t = time(step, warmup, reps);
            double[] ms = t[0];
            double[] cpu = t[1];
            Arrays.sort(ms);
            Arrays.sort(cpu);
            System.out.printf(Locale.ROOT, "%-12s median %9.1f ms  min %9.1f  max %9.1f  cpu %9.1f ms  (%d reps)%n", w,
                    ms[ms.length / 2], ms[0], ms[ms.length - 1], cpu[cpu.length / 2], reps);
        }
    }

    private static double[][] time(Runnable step, int warmup, int reps) {
        var os = (com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory
                .getOperatingSystemMXBean();
        for (int i = 0; i < warmup; i++) {
            step.run();
        }
        double[] ms = new double[reps];
        double[] cpu = new double[reps];
        for (int i = 0; i < reps; i++) {
            long c0 = os.getProcessCpuTime();
            long t0 = System.nanoTime();
            step.run();
            ms[i] = (System.nanoTime() - t0) / 1e6;
            cpu[i] = (os.getProcessCpuTime() - c0) / 1e6;
        }
        return new double[][] {ms, cpu};
    }

    private static Runnable teacher() {
        VisionTransformer vit = new VisionTransformer(VitConfig.vitBasePatch16().withNumClasses(0));
        vit.freeze();
        INDArray x = Nd4j.rand(DataType.FLOAT, 8, 3, 224, 224);
        return () -> vit.forwardTokens(x).getDouble(0);
    }

    static MaeConfig fashionMnist() {
        VitConfig enc = VitConfig.vitTinyPatch16().withImgSize(32, 8).withNumClasses(0);
        return MaeConfig.of(enc).withDecoder(128, 2, 4).withMaskRatio(0.75).withNormPixLoss(true);
    }

    private static Runnable mae(MaeConfig cfg, int batch, int size) {
        MaskedAutoencoderViT mae = new MaskedAutoencoderViT(cfg);
        INDArray x = Nd4j.rand(DataType.FLOAT, batch, 3, size, size);
        return () -> {
            mae.parameters().forEach(Parameter::zeroGrad);
            mae.forwardMae(x);
            mae.backward();
        };
    }
}
