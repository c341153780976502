package io.hgkd.train.trainer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hgkd.train.distill.DistillConfig;
import io.hgkd.train.loop.CompositeListener;
import io.hgkd.train.loop.EpochEvent;
import io.hgkd.train.loop.TrainingListener;
import io.hgkd.train.preview.Preview;
import io.hgkd.train.preview.PreviewGrid;
import io.hgkd.train.preview.PreviewListener;
import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The distillation and MAE jobs draw previews of the expected layout every epoch, and drawing them changes nothing
 * in training (the same losses and weights as a run without them).
 */
class PreviewJobsTest {

    static List<EpochEvent> run(TrainingJob job, TrainerConfig config, Path dir, boolean previews) throws Exception {
        List<EpochEvent> epochs = new ArrayList<>();
        List<TrainingListener> ls = new ArrayList<>();
        ls.add(new TrainingListener() {
            @Override
            public void onEpochEnd(EpochEvent e) {
                epochs.add(e);
            }
        });
        if (previews) {
            ls.add(new PreviewListener((io.hgkd.train.preview.Previewable) job, 3));
        }
        new Trainer(job, config, dir, new CompositeListener(ls)).fit();
        return epochs;
    }

    static BufferedImage png(Path dir, int epoch) throws Exception {
        return ImageIO.read(PreviewListener.file(dir, epoch).toFile());
    }

    @Test
    void distillPreviewsShowEverythingAndLeaveTrainingUnchanged(@TempDir Path tmp) throws Exception {
        List<EpochEvent> with;
        List<EpochEvent> without;
        INDArray wWith;
        INDArray wWithout;
        try (DistillJob job = new DistillJob(TinyRuns.distill(3))) {
            with = run(job, TinyRuns.trainer(2), tmp.resolve("a"), true);
            wWith = job.student().encoder().stateDict().values().iterator().next().dup();
            Preview p = job.preview(job.previewImages(3));
            assertEquals(6, PreviewGrid.columns(p).size());
            assertEquals(4, p.featureGrid());
        }
        try (DistillJob job = new DistillJob(TinyRuns.distill(3))) {
            without = run(job, TinyRuns.trainer(2), tmp.resolve("b"), false);
            wWithout = job.student().encoder().stateDict().values().iterator().next().dup();
        }
        for (int e = 0; e < 2; e++) {
            assertEquals(without.get(e).meanLosses(), with.get(e).meanLosses(), "epoch " + e);
        }
        assertEquals(wWithout, wWith);
        int cell = PreviewGrid.cellSize(32);
        for (int e = 0; e < 2; e++) {
            BufferedImage img = png(tmp.resolve("a"), e);
            assertEquals(6 * cell + 7 * PreviewGrid.PAD, img.getWidth());
            assertEquals(PreviewGrid.HEADER + 3 * cell + 4 * PreviewGrid.PAD, img.getHeight());
        }
    }

    @Test
    void sparkPreviewsHaveNoFeatureColumns(@TempDir Path tmp) throws Exception {
        DistillJobConfig c = TinyRuns.distill(5);
        DistillJobConfig spark = new DistillJobConfig(c.seed(), null, null,
                new io.hgkd.models.student.StudentConfig(c.student().encoder(), 32, 32, true, 0, 0),
                DistillConfig.sparkOnly(), c.maskRatio(), 0, c.data());
        try (DistillJob job = new DistillJob(spark)) {
            Preview p = job.preview(job.previewImages(2));
            assertEquals(List.of("input", "mask", "masked", "reconstruction"), PreviewGrid.columns(p));
        }
    }

    @Test
    void maePreviewsShowTheReconstructionAndLeaveTrainingUnchanged(@TempDir Path tmp) throws Exception {
        List<EpochEvent> with;
        List<EpochEvent> without;
        try (MaePretrainJob job = new MaePretrainJob(MaeAndSparkJobTest.mae())) {
            with = run(job, MaeAndSparkJobTest.maeTrainer(2), tmp.resolve("a"), true);
            Preview p = job.preview(job.previewImages(3));
            assertEquals(List.of("input", "mask", "masked", "reconstruction"), PreviewGrid.columns(p));
            // 0.75 of the 16 patches masked, the same mask every call
            int visible = 0;
            for (boolean[] r : p.visible()[0]) {
                for (boolean v : r) {
                    visible += v ? 1 : 0;
                }
            }
            assertEquals(4, visible);
            assertEquals(p.reconstruction(), job.preview(job.previewImages(3)).reconstruction());
        }
        try (MaePretrainJob job = new MaePretrainJob(MaeAndSparkJobTest.mae())) {
            without = run(job, MaeAndSparkJobTest.maeTrainer(2), tmp.resolve("b"), false);
        }
        for (int e = 0; e < 2; e++) {
            assertEquals(without.get(e).meanLosses(), with.get(e).meanLosses(), "epoch " + e);
        }
        BufferedImage img = png(tmp.resolve("a"), 1);
        assertEquals(4 * PreviewGrid.cellSize(32) + 5 * PreviewGrid.PAD, img.getWidth());
        assertTrue(img.getHeight() > 3 * PreviewGrid.cellSize(32));
    }
}
