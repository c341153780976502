package io.hgkd.train.trainer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.hgkd.models.resnet.ResNetConfig;
import io.hgkd.models.student.StudentConfig;
import io.hgkd.models.vit.VitConfig;
import io.hgkd.train.distill.DistillConfig;
import io.hgkd.train.loop.EpochEvent;
import io.hgkd.train.loop.RunSummary;
import io.hgkd.train.loop.TrainingListener;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import org.nd4j.linalg.api.ndarray.INDArray;

/** Tiny configs (32 px, a few steps) shared by the trainer tests. */
final class TinyRuns {
    private TinyRuns() {
    }

    static final int TEACHER_DIM = 32;

    /** 1-block ViT, patch 8, width 32: 16 tokens. */
    static VitConfig teacher() {
        return VitConfig.vitTinyPatch16().withImgSize(32, 8).withDepth(1).withEmbedDim(TEACHER_DIM, 2)
                .withNumClasses(0);
    }

    /** Small-stem ResNet with one basic block per stage and base width 8 (mask grid 4x4 at 32 px). */
    static ResNetConfig encoder() {
        return new ResNetConfig(ResNetConfig.Block.BASIC, new int[] {1, 1, 1, 1}, 3, 0, ResNetConfig.Stem.SMALL, 8,
                0.0, false, 0L);
    }

    /** H-GKD with all three terms on, queue of 16, 32 embedded Fashion-MNIST images in batches of 8 (4 steps). */
    static DistillJobConfig distill(long seed) {
        StudentConfig student = new StudentConfig(encoder(), 32, 32, true, 8, TEACHER_DIM);
        DistillConfig loss = DistillConfig.defaults().withQueue(16, 0).withWeights(1, 1, 1);
        return new DistillJobConfig(seed, teacher(), null, student, loss, 0.6, 0,
                DataConfig.fashionMnistEmbedded(32, 8));
    }

    /** LAMB, warmup 1 epoch, a checkpoint every epoch. */
    static TrainerConfig trainer(int epochs) {
        return new TrainerConfig(epochs, TrainerConfig.OptimizerKind.LAMB, 0.05, 0.04, 0.2, 1, 0, 1, 3, 1, 1, 1);
    }

    /**
     * Trains {@code job} into {@code dir} and stops it at the end of its first epoch, as an interrupted run that a
     * resume continues; asserts that it stopped.
     */
    static RunSummary fitFirstEpoch(TrainingJob job, TrainerConfig config, Path dir) throws IOException {
        Trainer[] t = new Trainer[1];
        t[0] = new Trainer(job, config, dir, new TrainingListener() {
            @Override
            public void onEpochEnd(EpochEvent e) {
                t[0].requestStop();
            }
        });
        RunSummary s = t[0].fit();
        assertEquals(RunSummary.Status.STOPPED, s.status());
        return s;
    }

    static void assertSameTensors(Map<String, INDArray> expected, Map<String, INDArray> actual, String what) {
        assertEquals(expected.keySet(), actual.keySet(), what + " keys");
        expected.forEach((k, v) -> {
            INDArray a = actual.get(k);
            assertArrayEquals(v.shape(), a.shape(), what + " " + k + " shape");
            assertArrayEquals(v.castTo(org.nd4j.linalg.api.buffer.DataType.DOUBLE).data().asDouble(),
                    a.castTo(org.nd4j.linalg.api.buffer.DataType.DOUBLE).data().asDouble(), 0.0, what + " " + k);
        });
    }
}
