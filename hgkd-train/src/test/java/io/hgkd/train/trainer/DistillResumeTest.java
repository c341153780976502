package io.hgkd.train.trainer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hgkd.train.checkpoint.Checkpoint;
import io.hgkd.train.checkpoint.ConfigMismatchException;
import io.hgkd.train.loop.RunSummary;
import io.hgkd.train.loop.TrainingListener;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The resume equivalence: 2 epochs straight = 1 epoch, checkpoint, fresh objects, resume, 1 epoch; bit for
 * bit (parameters, BN buffers, optimizer moments and the H-GKD queue).
 */
class DistillResumeTest {

    record Result(Map<String, INDArray> model, Map<String, INDArray> optimizer, Map<String, INDArray> extra,
                  RunSummary summary) {
    }

    static Result straight(Path dir, long seed) throws Exception {
        try (DistillJob job = new DistillJob(TinyRuns.distill(seed))) {
            Trainer t = new Trainer(job, TinyRuns.trainer(2), dir, null);
            RunSummary s = t.fit();
            return new Result(job.model().stateDict(), t.optimizer().state(), job.extraState(), s);
        }
    }

    @Test
    void twoEpochsEqualOneEpochResumeOneEpoch(@TempDir Path tmp) throws Exception {
        Result a = straight(tmp.resolve("a"), 7);
        assertEquals(RunSummary.Status.COMPLETED, a.summary().status());
        assertEquals(8, a.summary().globalSteps());

        Path b = tmp.resolve("b");
        try (DistillJob job = new DistillJob(TinyRuns.distill(7))) {
            RunSummary s = TinyRuns.fitFirstEpoch(job, TinyRuns.trainer(2), b);
            assertEquals(1, s.epochs());
            assertEquals(4, s.globalSteps());
        }
        Checkpoint first = Checkpoint.load(b.resolve("checkpoints").resolve("checkpoint-000000004"));
        assertEquals(1, first.state().epoch());
        assertTrue(first.extra().containsKey("queue"), first.extra().keySet().toString());

        try (DistillJob job = new DistillJob(TinyRuns.distill(7))) {
            Trainer t = new Trainer(job, TinyRuns.trainer(2), b, null);
            // fresh objects really start elsewhere: otherwise the comparison below proves nothing
            assertFalse(java.util.Arrays.equals(job.model().stateDict().values().iterator().next().data().asFloat(),
                    a.model().values().iterator().next().data().asFloat()));
            RunSummary s = t.resume();
            assertEquals(RunSummary.Status.COMPLETED, s.status());
            assertEquals(8, s.globalSteps());
            TinyRuns.assertSameTensors(a.model(), job.model().stateDict(), "model");
            TinyRuns.assertSameTensors(a.optimizer(), t.optimizer().state(), "optimizer");
            TinyRuns.assertSameTensors(a.extra(), job.extraState(), "queue");
        }
    }

    @Test
    void anotherSeedEndsElsewhere(@TempDir Path tmp) throws Exception {
        Result a = straight(tmp.resolve("a"), 7);
        Result c = straight(tmp.resolve("c"), 8);
        assertThrows(AssertionError.class, () -> TinyRuns.assertSameTensors(a.model(), c.model(), "model"));
    }

    @Test
    void resumeRefusesAChangedConfigAndFreshFitRefusesAUsedDirectory(@TempDir Path tmp) throws Exception {
        straight(tmp, 7);
        try (DistillJob job = new DistillJob(TinyRuns.distill(7))) {
            Trainer t = new Trainer(job, TinyRuns.trainer(2), tmp, null);
            IllegalStateException e = assertThrows(IllegalStateException.class, t::fit);
            assertTrue(e.getMessage().contains("already holds checkpoints"), e.getMessage());
        }
        try (DistillJob job = new DistillJob(TinyRuns.distill(7))) {
            Trainer t = new Trainer(job, TinyRuns.trainer(2).withOptimizer(TrainerConfig.OptimizerKind.LAMB, 0.1),
                    tmp, null);
            ConfigMismatchException e = assertThrows(ConfigMismatchException.class, t::resume);
            assertTrue(e.getMessage().contains("trainer.baseLr"), e.getMessage());
        }
        try (DistillJob job = new DistillJob(TinyRuns.distill(7))) {
            // the run is complete: resuming it again has nothing to do
            Trainer t = new Trainer(job, TinyRuns.trainer(2), tmp, null);
            IllegalStateException e = assertThrows(IllegalStateException.class, t::resume);
            assertTrue(e.getMessage().contains("nothing left to train"), e.getMessage());
        }
    }

    @Test
    void gradientAccumulationCountsOptimizerStepsAndResumesExactly(@TempDir Path tmp) throws Exception {
        TrainerConfig accum = TinyRuns.trainer(2).withAccumSteps(2);
        Map<String, INDArray> straightModel;
        Map<String, INDArray> straightOpt;
        java.util.List<io.hgkd.train.loop.StepEvent> steps = new java.util.ArrayList<>();
        try (DistillJob job = new DistillJob(TinyRuns.distill(7))) {
            Trainer t = new Trainer(job, accum, tmp.resolve("a"), new TrainingListener() {
                @Override
                public void onStepEnd(io.hgkd.train.loop.StepEvent s) {
                    steps.add(s);
                }
            });
            assertEquals(16, t.effectiveBatchSize());
            assertEquals(2, t.stepsPerEpoch());
            RunSummary s = t.fit();
            assertEquals(4, s.globalSteps());
            assertEquals(4, t.optimizer().stepCount());
            straightModel = job.model().stateDict();
            straightOpt = t.optimizer().state();
        }
        assertEquals(4, steps.size());
        assertEquals(16, steps.get(0).images());
        assertEquals(java.util.List.of(0L, 1L, 2L, 3L), steps.stream().map(e -> e.globalStep()).toList());
        // accumulation really changes the run: 2 epochs of 4 plain steps end elsewhere
        Result plain = straight(tmp.resolve("plain"), 7);
        assertThrows(AssertionError.class, () -> TinyRuns.assertSameTensors(plain.model(), straightModel, "m"));

        Path b = tmp.resolve("b");
        try (DistillJob job = new DistillJob(TinyRuns.distill(7))) {
            TinyRuns.fitFirstEpoch(job, accum, b);
        }
        try (DistillJob job = new DistillJob(TinyRuns.distill(7))) {
            Trainer t = new Trainer(job, accum, b, null);
            t.resume();
            TinyRuns.assertSameTensors(straightModel, job.model().stateDict(), "model");
            TinyRuns.assertSameTensors(straightOpt, t.optimizer().state(), "optimizer");
        }
    }
}
