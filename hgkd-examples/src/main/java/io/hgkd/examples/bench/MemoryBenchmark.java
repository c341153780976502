package io.hgkd.examples.bench;

import io.hgkd.models.resnet.ResNetConfig;
import io.hgkd.models.student.StudentConfig;
import io.hgkd.models.vit.VitConfig;
import io.hgkd.train.distill.DistillConfig;
import io.hgkd.train.loop.MemoryListener;
import io.hgkd.train.loop.StepEvent;
import io.hgkd.train.loop.TrainingListener;
import io.hgkd.train.trainer.DataConfig;
import io.hgkd.train.trainer.DistillJob;
import io.hgkd.train.trainer.DistillJobConfig;
import io.hgkd.train.trainer.GcListener;
import io.hgkd.train.trainer.Trainer;
import io.hgkd.train.trainer.TrainerConfig;
import io.hgkd.train.loop.CompositeListener;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import org.bytedeco.javacpp.Pointer;

/**
 * Native-memory curve of a training loop: N steps of a tiny H-GKD distillation (the trainer tests' 32 px run: 1-block
 * ViT teacher of width 32, ResNet student of base width 8, all three loss terms, LAMB, embedded Fashion-MNIST in
 * batches of 8, 32 steps per epoch), printing every k steps the process RSS ({@code VmRSS}), JavaCPP's
 * {@code Pointer.physicalBytes()} and {@code Pointer.totalBytes()} (native bytes of live Java-owned buffers) and the
 * used heap. No forced collections unless {@code --gc-every N} ({@link GcListener}). Not a test.
 *
 * <pre>
 *   MemoryBenchmark [--epochs 10] [--every 25] [--gc-every 0] [--batch 8] [--images 256]
 * </pre>
 */
public final class MemoryBenchmark {
    private MemoryBenchmark() {
    }

    public static void main(String[] args) throws IOException {
        int epochs = 10, every = 25, gcEvery = 0, batch = 8, images = 256;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--epochs" -> epochs = Integer.parseInt(args[++i]);
                case "--every" -> every = Integer.parseInt(args[++i]);
                case "--gc-every" -> gcEvery = Integer.parseInt(args[++i]);
                case "--batch" -> batch = Integer.parseInt(args[++i]);
                case "--images" -> images = Integer.parseInt(args[++i]);
                default -> throw new IllegalArgumentException("unknown argument " + args[i]
                        + " (--epochs N, --every K, --gc-every N, --batch B, --images N)");
            }
        }
        VitConfig teacher = VitConfig.vitTinyPatch16().withImgSize(32, 8).withDepth(1).withEmbedDim(32, 2)
                .withNumClasses(0);
        ResNetConfig encoder = new ResNetConfig(ResNetConfig.Block.BASIC, new int[] {1, 1, 1, 1}, 3, 0,
                ResNetConfig.Stem.SMALL, 8, 0.0, false, 0L);
        StudentConfig student = new StudentConfig(encoder, 32, 32, true, 8, 32);
        DistillConfig loss = DistillConfig.defaults().withQueue(16, 0).withWeights(1, 1, 1);
        DistillJobConfig config = new DistillJobConfig(1, teacher, null, student, loss, 0.6, 0,
                DataConfig.fashionMnistEmbedded(images, batch));
        // one warmup epoch, none for a 1-epoch run (the warmup must end before the last epoch)
        TrainerConfig trainer = new TrainerConfig(epochs, TrainerConfig.OptimizerKind.LAMB, 0.05, 0.04, 0.2,
                Math.min(1, epochs - 1), 0, epochs, 1, 1000, 1, 1);
        final int k = every;
        TrainingListener print = new TrainingListener() {
            private long t0 = System.nanoTime();

            @Override
            public void onStepEnd(StepEvent s) {
                long step = s.globalStep() + 1;
                if (step % k == 0) {
                    Runtime rt = Runtime.getRuntime();
                    long now = System.nanoTime();
                    System.out.printf(Locale.ROOT, "step %5d  rss %6d MB  physical %6d MB  javacpp total %6d MB"
                                    + "  heap %5d MB  %6.1f ms/step%n", step, MemoryListener.rssBytes() >> 20,
                            Pointer.physicalBytes() >> 20, Pointer.totalBytes() >> 20,
                            (rt.totalMemory() - rt.freeMemory()) >> 20, (now - t0) / 1e6 / k);
                    t0 = now;
                }
            }
        };
        TrainingListener listener = gcEvery > 0 ? CompositeListener.of(new GcListener(gcEvery), print) : print;
        Path dir = Files.createTempDirectory("hgkd-membench");
        try (DistillJob job = new DistillJob(config)) {
            new Trainer(job, trainer, dir, listener).fit();
        } finally {
            try (var files = Files.walk(dir)) {
                files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }
}
