package io.hgkd.train.trainer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hgkd.models.mae.MaeConfig;
import io.hgkd.models.student.StudentConfig;
import io.hgkd.models.vit.VisionTransformer;
import io.hgkd.train.distill.DistillConfig;
import io.hgkd.train.loop.EpochEvent;
import io.hgkd.train.loop.RunSummary;
import io.hgkd.train.loop.TrainingListener;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The MAE teacher pretraining and plain SparK run through the same loop; their losses fall; MAE resumes exactly. */
class MaeAndSparkJobTest {

    static MaePretrainJobConfig mae() {
        MaeConfig m = MaeConfig.of(TinyRuns.teacher()).withDecoder(16, 1, 2);
        return new MaePretrainJobConfig(4, m, DataConfig.fashionMnistEmbedded(32, 8));
    }

    static TrainerConfig maeTrainer(int epochs) {
        return new TrainerConfig(epochs, TrainerConfig.OptimizerKind.ADAMW_MAE, 0.1, 0.05, 0.05, 1, 0, 1, 2, 1, 1, 1);
    }

    static List<EpochEvent> run(TrainingJob job, TrainerConfig config, Path dir) throws Exception {
        List<EpochEvent> epochs = new ArrayList<>();
        RunSummary s = new Trainer(job, config, dir, new TrainingListener() {
            @Override
            public void onEpochEnd(EpochEvent e) {
                epochs.add(e);
            }
        }).fit();
        assertEquals(RunSummary.Status.COMPLETED, s.status());
        return epochs;
    }

    static double loss(EpochEvent e) {
        return e.meanLosses().get("loss");
    }

    @Test
    void maeLossFallsAndItsEncoderLoadsIntoATeacher(@TempDir Path dir) throws Exception {
        try (MaePretrainJob job = new MaePretrainJob(mae())) {
            List<EpochEvent> epochs = run(job, maeTrainer(4), dir);
            assertTrue(loss(epochs.get(3)) < loss(epochs.get(0)), epochs.toString());
            VisionTransformer teacher = new VisionTransformer(job.config().mae().encoder());
            assertTrue(teacher.loadStateDict(job.encoderStateDict(), false).missing().isEmpty());
        }
    }

    @Test
    void maeResumeIsExact(@TempDir Path tmp) throws Exception {
        DistillResumeTest.Result a;
        try (MaePretrainJob job = new MaePretrainJob(mae())) {
            Trainer t = new Trainer(job, maeTrainer(2), tmp.resolve("a"), null);
            a = new DistillResumeTest.Result(job.model().stateDict(), null, null, t.fit());
        }
        Path b = tmp.resolve("b");
        try (MaePretrainJob job = new MaePretrainJob(mae())) {
            TinyRuns.fitFirstEpoch(job, maeTrainer(2), b);
        }
        try (MaePretrainJob job = new MaePretrainJob(mae())) {
            new Trainer(job, maeTrainer(2), b, null).resume();
            TinyRuns.assertSameTensors(a.model(), job.model().stateDict(), "model");
        }
    }

    @Test
    void plainSparkRunsWithoutATeacherAndItsLossFalls(@TempDir Path dir) throws Exception {
        StudentConfig student = new StudentConfig(TinyRuns.encoder(), 32, 32, true, 0, 0);
        DistillJobConfig c = new DistillJobConfig(9, null, null, student, DistillConfig.sparkOnly(), 0.6, 0,
                DataConfig.fashionMnistEmbedded(32, 8));
        try (DistillJob job = new DistillJob(c)) {
            assertEquals(null, job.teacher());
            assertTrue(job.extraState().isEmpty());
            List<EpochEvent> epochs = run(job, TinyRuns.trainer(4), dir);
            assertEquals(List.of("loss", "pix"), List.copyOf(epochs.get(0).meanLosses().keySet()));
            assertTrue(loss(epochs.get(3)) < loss(epochs.get(0)), epochs.toString());
        }
    }

    @Test
    void hgkdLossFalls(@TempDir Path dir) throws Exception {
        try (DistillJob job = new DistillJob(TinyRuns.distill(2))) {
            List<EpochEvent> epochs = run(job, TinyRuns.trainer(4), dir);
            assertEquals(List.of("loss", "feat", "sim", "pix"), List.copyOf(epochs.get(0).meanLosses().keySet()));
            assertTrue(loss(epochs.get(3)) < loss(epochs.get(0)), epochs.toString());
        }
    }
}
