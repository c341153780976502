package io.hgkd.train.trainer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hgkd.core.nn.Module;
import io.hgkd.core.optim.ParamGroup;
import io.hgkd.train.data.Batch;
import io.hgkd.train.loop.CompositeListener;
import io.hgkd.train.loop.JsonlMetricsListener;
import io.hgkd.train.loop.NonFiniteLossException;
import io.hgkd.train.loop.NonFiniteLossGuard;
import io.hgkd.train.loop.PlotListener;
import io.hgkd.train.loop.ProgressListener;
import io.hgkd.train.loop.RunSummary;
import io.hgkd.train.loop.TrainingListener;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;

/** The trainer drives the standard listeners, and a non-finite loss stops it before the update. */
class TrainerListenersTest {

    static CompositeListener standard(ByteArrayOutputStream console) {
        return CompositeListener.of(ProgressListener.plain(new PrintStream(console, true), 1, 3600),
                new JsonlMetricsListener(1), new PlotListener(null, 1, false, 300, 200, 100), new NonFiniteLossGuard());
    }

    @Test
    void metricsPlotsAndCheckpointsAppearInTheOutputDirectory(@TempDir Path dir) throws Exception {
        ByteArrayOutputStream console = new ByteArrayOutputStream();
        try (DistillJob job = new DistillJob(TinyRuns.distill(3))) {
            RunSummary s = new Trainer(job, TinyRuns.trainer(2), dir, standard(console)).fit();
            assertEquals(RunSummary.Status.COMPLETED, s.status());
        }
        List<String> steps = Files.readAllLines(dir.resolve("metrics.jsonl"));
        List<String> epochs = Files.readAllLines(dir.resolve("epochs.jsonl"));
        assertEquals(8, steps.size(), steps.toString());
        assertEquals(2, epochs.size(), epochs.toString());
        assertTrue(steps.get(7).contains("\"global_step\":7") && steps.get(7).contains("\"feat\""), steps.get(7));
        for (String png : List.of(PlotListener.LOSS_PNG, PlotListener.LR_PNG)) {
            assertTrue(Files.size(dir.resolve(png)) > 1000, png);
        }
        assertTrue(Files.isDirectory(dir.resolve("checkpoints/checkpoint-000000004")));
        assertTrue(Files.isDirectory(dir.resolve("checkpoints/checkpoint-000000008")));
        assertTrue(console.toString().contains("epoch"), console.toString());
    }

    /** Delegates to a real job but reports a NaN feature loss at one global step. */
    static final class NanAt implements TrainingJob {
        final DistillJob inner;
        final long badStep;
        Map<String, INDArray> paramsBeforeBadStep;

        NanAt(DistillJob inner, long badStep) {
            this.inner = inner;
            this.badStep = badStep;
        }

        public String kind() {
            return inner.kind();
        }

        public Object config() {
            return inner.config();
        }

        public Module model() {
            return inner.model();
        }

        public List<ParamGroup> paramGroups() {
            return inner.paramGroups();
        }

        public int batchSize() {
            return inner.batchSize();
        }

        public int batchesPerEpoch() {
            return inner.batchesPerEpoch();
        }

        public Iterable<Batch> batches(int epoch) {
            return inner.batches(epoch);
        }

        public Map<String, Double> step(Batch batch, long globalStep) {
            Map<String, Double> losses = new LinkedHashMap<>(inner.step(batch, globalStep));
            if (globalStep == badStep) {
                paramsBeforeBadStep = new LinkedHashMap<>();
                inner.model().namedParameters().forEach((k, p) -> paramsBeforeBadStep.put(k, p.data().dup()));
                losses.put("feat", Double.NaN);
            }
            return losses;
        }

        public void close() {
            inner.close();
        }
    }

    @Test
    void nanLossStopsTheRunNamingTheStepAndLeavesTheWeightsUntouched(@TempDir Path dir) throws Exception {
        ByteArrayOutputStream console = new ByteArrayOutputStream();
        RunSummary[] end = new RunSummary[1];
        TrainingListener capture = new TrainingListener() {
            @Override
            public void onRunEnd(RunSummary summary) {
                end[0] = summary;
            }
        };
        try (NanAt job = new NanAt(new DistillJob(TinyRuns.distill(3)), 5)) {
            Trainer t = new Trainer(job, TinyRuns.trainer(2), dir,
                    CompositeListener.of(standard(console), capture));
            NonFiniteLossException e = assertThrows(NonFiniteLossException.class, t::fit);
            assertEquals(5, e.globalStep());
            assertTrue(e.getMessage().contains("global step 5") && e.getMessage().contains("feat=NaN"),
                    e.getMessage());
            Map<String, INDArray> now = new LinkedHashMap<>();
            job.model().namedParameters().forEach((k, p) -> now.put(k, p.data()));
            TinyRuns.assertSameTensors(job.paramsBeforeBadStep, now, "parameters after the NaN step");
        }
        assertEquals(RunSummary.Status.FAILED, end[0].status());
        assertEquals(5, end[0].globalSteps());
        assertTrue(end[0].failure() instanceof NonFiniteLossException);
        // the epoch-1 checkpoint (step 4) exists; nothing after the bad step was written
        assertTrue(Files.isDirectory(dir.resolve("checkpoints/checkpoint-000000004")));
        assertFalse(Files.exists(dir.resolve("checkpoints/checkpoint-000000008")));
        assertEquals(5, Files.readAllLines(dir.resolve("metrics.jsonl")).size());
    }
}
