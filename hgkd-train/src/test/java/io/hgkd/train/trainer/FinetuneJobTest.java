package io.hgkd.train.trainer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hgkd.core.io.SafeTensors;
import io.hgkd.models.resnet.ConvWeightScale;
import io.hgkd.models.resnet.ResNet;
import io.hgkd.train.checkpoint.CheckpointManager;
import io.hgkd.train.loop.EpochEvent;
import io.hgkd.train.loop.JsonlMetricsListener;
import io.hgkd.train.loop.PlotListener;
import io.hgkd.train.loop.CompositeListener;
import io.hgkd.train.loop.RunSummary;
import io.hgkd.train.loop.TrainingListener;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** Fine-tuning on a tiny separable task: the loss falls, accuracy is reported, and resume is exact. */
class FinetuneJobTest {

    static FinetuneJobConfig config() {
        return new FinetuneJobConfig(11, TinyRuns.encoder(), null, null, 0.1, 1.0, 0.9, null, DataConfig.synthetic(128, 16, 4, 16));
    }

    static TrainerConfig trainer(int epochs) {
        return new TrainerConfig(epochs, TrainerConfig.OptimizerKind.ADAMW, 0.16, 0.05, 0.05, 0, 0, 1, 2, 1, 1, 1);
    }

    /** A listener that adds every epoch's event to {@code into}. */
    static TrainingListener collecting(List<EpochEvent> into) {
        return new TrainingListener() {
            @Override
            public void onEpochEnd(EpochEvent e) {
                into.add(e);
            }
        };
    }

    @Test
    void lossFallsAndAccuracyIsReported(@TempDir Path dir) throws Exception {
        List<EpochEvent> epochs = new ArrayList<>();
        TrainingListener collect = collecting(epochs);
        RunSummary s;
        try (FinetuneJob job = new FinetuneJob(config())) {
            assertEquals(4, job.config().model().numClasses());
            s = new Trainer(job, trainer(5), dir, CompositeListener.of(collect, new JsonlMetricsListener(1),
                    new PlotListener(null, 1, false, 300, 200, 100))).fit();
            assertEquals(4, job.lastMetrics().confusion().length);
        }
        assertEquals(RunSummary.Status.COMPLETED, s.status());
        double first = epochs.get(0).meanLosses().get("loss");
        double last = epochs.get(4).meanLosses().get("loss");
        assertTrue(last < 0.7 * first, "loss " + first + " -> " + last);
        double top1 = s.finalMetrics().get("top1");
        assertTrue(top1 > 0.6, "top1 " + top1 + " (chance 0.25)");
        assertEquals(1.0, s.finalMetrics().get("top5"), 0.0); // 4 classes: top-5 clips to top-4
        assertTrue(s.finalMetrics().containsKey("ema_top1"), s.finalMetrics().toString());
        assertTrue(Files.isRegularFile(dir.resolve("checkpoints/checkpoint-000000040/ema.safetensors")));
        assertTrue(Files.readString(dir.resolve("epochs.jsonl")).contains("\"top1\""));
        assertTrue(Files.size(dir.resolve(PlotListener.METRICS_PNG)) > 1000);
        // the best checkpoint by top1 is retained and known
        var best = new CheckpointManager(dir.resolve("checkpoints"), 2, CheckpointManager.Goal.MAXIMIZE).best();
        assertTrue(best.isPresent());
    }

    @Test
    void evalEveryEvaluatesOnlyThoseEpochsAndTheLast(@TempDir Path dir) throws Exception {
        List<EpochEvent> epochs = new ArrayList<>();
        TrainingListener collect = collecting(epochs);
        TrainerConfig every2 = new TrainerConfig(3, TrainerConfig.OptimizerKind.ADAMW, 0.16, 0.05, 0.05, 0, 0, 1, 3,
                1, 1, 2);
        RunSummary s;
        try (FinetuneJob job = new FinetuneJob(config())) {
            s = new Trainer(job, every2, dir, collect).fit();
        }
        assertEquals(3, epochs.size());
        assertTrue(epochs.get(0).metrics().isEmpty(), epochs.get(0).metrics().toString());
        assertTrue(epochs.get(1).metrics().containsKey("top1"), epochs.get(1).metrics().toString());
        assertTrue(epochs.get(2).metrics().containsKey("top1"), "the last epoch is always evaluated");
        assertEquals(epochs.get(2).metrics().get("top1"), s.finalMetrics().get("top1"));
        // the unevaluated epoch's checkpoint carries no metric, so the best is one of the evaluated two
        var best = new CheckpointManager(dir.resolve("checkpoints"), 3, CheckpointManager.Goal.MAXIMIZE).best();
        assertTrue(best.isPresent());
        assertTrue(!best.get().getFileName().toString().endsWith("000000008"), best.get().toString());
    }

    @Test
    void resumeIsExact(@TempDir Path tmp) throws Exception {
        DistillResumeTest.Result a;
        try (FinetuneJob job = new FinetuneJob(config())) {
            Trainer t = new Trainer(job, trainer(2), tmp.resolve("a"), null);
            RunSummary s = t.fit();
            a = new DistillResumeTest.Result(job.model().stateDict(), t.optimizer().state(), job.ema().stateDict(), s);
        }
        Path b = tmp.resolve("b");
        try (FinetuneJob job = new FinetuneJob(config())) {
            TinyRuns.fitFirstEpoch(job, trainer(2), b);
        }
        try (FinetuneJob job = new FinetuneJob(config())) {
            Trainer t = new Trainer(job, trainer(2), b, null);
            RunSummary s = t.resume();
            assertEquals(a.summary().finalMetrics(), s.finalMetrics());
            TinyRuns.assertSameTensors(a.model(), job.model().stateDict(), "model");
            TinyRuns.assertSameTensors(a.optimizer(), t.optimizer().state(), "optimizer");
            TinyRuns.assertSameTensors(a.extra(), job.ema().stateDict(), "ema");
        }
    }

    @Test
    void mixupRunsDeterministically(@TempDir Path tmp) throws Exception {
        FinetuneJobConfig base = config();
        FinetuneJobConfig c = new FinetuneJobConfig(base.seed(), base.model(), null, null, 0.1, 1.0, 0,
                io.hgkd.train.finetune.BatchMixup.Config.spark(4), base.data());
        java.util.List<java.util.Map<String, org.nd4j.linalg.api.ndarray.INDArray>> ends = new ArrayList<>();
        for (String run : List.of("a", "b")) {
            try (FinetuneJob job = new FinetuneJob(c)) {
                RunSummary s = new Trainer(job, trainer(2), tmp.resolve(run), null).fit();
                assertTrue(s.finalMetrics().containsKey("top1"));
                ends.add(job.model().stateDict());
            }
        }
        TinyRuns.assertSameTensors(ends.get(0), ends.get(1), "mixup run");
        try (FinetuneJob job = new FinetuneJob(base)) {
            RunSummary s = new Trainer(job, trainer(2), tmp.resolve("plain"), null).fit();
            org.junit.jupiter.api.Assertions.assertThrows(AssertionError.class,
                    () -> TinyRuns.assertSameTensors(ends.get(0), job.model().stateDict(), "plain vs mixup"));
        }
        IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> new FinetuneJobConfig(1, base.model(), null, null, 0.0, 1.0, 0,
                        io.hgkd.train.finetune.BatchMixup.Config.spark(4), base.data()));
        assertTrue(e.getMessage().contains("must agree"), e.getMessage());
    }

    /**
     * convScale INIT: an encoder whose conv weights grew 2x (random BN statistics) starts the fine-tune at the init
     * norm and computes what PRETRAINED computes; a run started with PRETRAINED resumes under
     * INIT (the checkpoint's weights win) and ends exactly where the uninterrupted run ends.
     */
    @Test
    void convScaleInitResetsALoadedEncoderAndAResumeMayChangeIt(@TempDir Path tmp) throws Exception {
        Map<String, INDArray> grown = new ResNet(TinyRuns.encoder()).stateDict();
        for (Map.Entry<String, INDArray> e : grown.entrySet()) {
            INDArray v = e.getValue();
            if (v.rank() == 4) {
                v.muli(2);
            } else if (e.getKey().endsWith("running_mean")) {
                v.assign(Nd4j.rand(DataType.FLOAT, v.shape()).mul(2));
            } else if (e.getKey().endsWith("running_var")) {
                v.assign(Nd4j.rand(DataType.FLOAT, v.shape()).add(1).mul(4));
            }
        }
        Path file = tmp.resolve("grown.safetensors");
        SafeTensors.write(file, grown);
        FinetuneJobConfig asLoaded = new FinetuneJobConfig(11, TinyRuns.encoder(), file.toString(), null, 0.1, 1.0, 0,
                null, DataConfig.synthetic(128, 16, 4, 16));
        assertEquals(FinetuneJobConfig.ConvScale.PRETRAINED, asLoaded.convScale(), "null means PRETRAINED");
        FinetuneJobConfig init = new FinetuneJobConfig(11, TinyRuns.encoder(), file.toString(),
                FinetuneJobConfig.ConvScale.INIT, 0.1, 1.0, 0, null, DataConfig.synthetic(128, 16, 4, 16));
        INDArray x = Nd4j.rand(DataType.FLOAT, 4, 3, 16, 16);
        INDArray yAsLoaded;
        try (FinetuneJob job = new FinetuneJob(asLoaded)) {
            ResNet m = (ResNet) job.model();
            assertEquals(2.0, ConvWeightScale.medianRatio(ConvWeightScale.measure(m))
                    / ConvWeightScale.medianRatio(ConvWeightScale.measure(new ResNet(TinyRuns.encoder()))), 1e-5);
            m.eval();
            yAsLoaded = m.forward(x).dup();
        }
        try (FinetuneJob job = new FinetuneJob(init)) {
            ResNet m = (ResNet) job.model();
            ConvWeightScale.measure(m).forEach(e -> assertEquals(1.0, e.ratio(), 1e-5, e.name()));
            m.eval();
            INDArray y = m.forward(x);
            double rel = y.sub(yAsLoaded).amaxNumber().doubleValue() / yAsLoaded.amaxNumber().doubleValue();
            assertTrue(rel < 1e-4, "INIT changed the function: " + rel);
        }

        Map<String, INDArray> straight;
        try (FinetuneJob job = new FinetuneJob(asLoaded)) {
            new Trainer(job, trainer(2), tmp.resolve("a"), null).fit();
            straight = job.model().stateDict();
        }
        Path b = tmp.resolve("b");
        try (FinetuneJob job = new FinetuneJob(asLoaded)) {
            TinyRuns.fitFirstEpoch(job, trainer(2), b);
        }
        try (FinetuneJob job = new FinetuneJob(init)) {
            Trainer t = new Trainer(job, trainer(2), b, null);
            assertEquals(RunSummary.Status.COMPLETED, t.resume().status());
            TinyRuns.assertSameTensors(straight, job.model().stateDict(), "resumed under INIT");
        }
    }
}
