package io.hgkd.train.checkpoint;

import static io.hgkd.train.checkpoint.Fixtures.bitEqual;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.hgkd.core.nn.Init;
import io.hgkd.core.nn.Module;
import io.hgkd.core.optim.AdamW;
import io.hgkd.core.optim.Optimizer;
import io.hgkd.core.optim.ParamGroups;
import io.hgkd.core.optim.WarmupCosine;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Exact resume through a checkpoint directory: k steps, save, restore into fresh objects, m more steps gives the same
 * bits as k + m uninterrupted steps, for parameters and BN running statistics.
 */
class ResumeTest {
    private static final int K = 3;
    private static final int M = 4;
    private static final JsonNode CONFIG = Fixtures.json(
            "{\"seed\":7,\"optim\":{\"name\":\"adamw\",\"lr\":0.01},\"epochs\":2,\"output\":\"/tmp/a\"}");

    private record Run(Module model, Optimizer opt) {
    }

    private static Run fresh(long seed) {
        Init.manualSeed(seed);
        Module m = Fixtures.smallModel();
        Optimizer o = new AdamW(ParamGroups.spark(m.namedParameters()),
                AdamW.Config.torchDefaults().withLr(1e-2).withWeightDecay(0.05));
        return new Run(m, o);
    }

    /** Iterations {@code from} to {@code to - 1}; data and loss gradient depend only on the iteration. */
    private static void train(Run r, int from, int to) {
        WarmupCosine lr = WarmupCosine.spark(0.01, 2, K + M);
        for (int t = from; t < to; t++) {
            r.opt().setLr(lr.valueAt(t));
            r.model().forward(Fixtures.values(1000 + t, 2, 2, 5, 5));
            r.model().backward(Fixtures.values(2000 + t, 2, 4, 5, 5));
            r.opt().step();
            r.opt().zeroGrad();
        }
    }

    @Test
    void resumedRunIsBitIdenticalToStraightRun(@TempDir Path dir) throws Exception {
        Run straight = fresh(1);
        train(straight, 0, K + M);

        Run first = fresh(1);
        train(first, 0, K);
        INDArray queue = Fixtures.values(99, 16, 8);
        CheckpointManager mgr = new CheckpointManager(dir, 2, CheckpointManager.Goal.MAXIMIZE);
        TrainingState st = TrainingState.of("distill", 0, K, K, "val_top1", 0.25, 0.25,
                Map.of("data", Long.toString(Long.MIN_VALUE), "mask", "abc"), 12.5, CONFIG);
        Map<String, INDArray> ema = Fixtures.deterministicState(first.model(), 5);
        Path saved = mgr.save(Snapshot.of(st, first.model(), first.opt()).withModule("ema", ema)
                .withExtra(Map.of("teacher_queue", queue)));
        assertEquals(dir.toAbsolutePath().resolve("checkpoint-000000003"), saved);

        // Fresh objects with another init, so that a restore that silently did nothing would be caught.
        Run resumed = fresh(2);
        assertFalse(bitEqual(straight.model().stateDict(), resumed.model().stateDict()));
        Checkpoint ck = Checkpoint.load(new CheckpointManager(dir, 2, CheckpointManager.Goal.MAXIMIZE).latest()
                .orElseThrow());
        ck.restore(CONFIG, List.of(), resumed.model(), resumed.opt());
        assertEquals(K, resumed.opt().stepCount());
        train(resumed, (int) ck.state().globalStep(), K + M);

        Map<String, INDArray> want = straight.model().stateDict();
        Map<String, INDArray> got = resumed.model().stateDict();
        for (String k : want.keySet()) {
            assertTrue(bitEqual(want.get(k), got.get(k)), k + " differs after resume");
        }
        assertTrue(bitEqual(straight.opt().state(), resumed.opt().state()), "optimizer state differs");

        // The other parts come back exactly.
        assertTrue(bitEqual(ema, ck.module("ema")));
        assertTrue(bitEqual(queue, ck.extra().get("teacher_queue")));
        TrainingState back = ck.state();
        assertEquals("distill", back.jobKind());
        assertEquals(Long.MIN_VALUE, back.rngLong("data"));
        assertEquals("abc", back.rng().get("mask"));
        assertEquals(0.25, back.metric());
        assertEquals(12.5, back.wallTimeSeconds());
        assertEquals(st.savedAt(), back.savedAt());
        assertEquals(BuildInfo.version(), back.hgkdVersion());
        assertFalse(back.hgkdVersion().equals("unknown"), "build.properties was not filtered");
        assertEquals(CONFIG, back.config());
        assertTrue(Files.isRegularFile(saved.resolve("ema.safetensors")));
    }

    /** Without the optimizer state the continuation differs: the test above can fail. */
    @Test
    void restoringOnlyTheModelIsNotEnough(@TempDir Path dir) throws Exception {
        Run straight = fresh(1);
        train(straight, 0, K + M);
        Run first = fresh(1);
        train(first, 0, K);
        CheckpointManager mgr = new CheckpointManager(dir, 1, null);
        mgr.save(Snapshot.of(Fixtures.state(K, null), first.model(), first.opt()));
        Run resumed = fresh(2);
        Checkpoint.load(mgr.latest().orElseThrow()).restoreModule("model", resumed.model());
        train(resumed, K, K + M);
        assertFalse(bitEqual(straight.model().stateDict(), resumed.model().stateDict()));
    }

    @Test
    void strictRestoreNamesTheFileAndKeys(@TempDir Path dir) throws Exception {
        Run first = fresh(1);
        CheckpointManager mgr = new CheckpointManager(dir, 1, null);
        Path p = mgr.save(Snapshot.of(Fixtures.state(1, null), first.model(), first.opt()));
        Checkpoint ck = Checkpoint.load(p);
        Module other = new io.hgkd.core.nn.Sequential(new io.hgkd.core.nn.Conv2d(2, 4, 3, 1, 1, false));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ck.restoreModule("model", other));
        assertTrue(e.getMessage().contains(p.resolve("model.safetensors").toString()), e.getMessage());
        assertTrue(e.getMessage().contains("1.weight"), e.getMessage());

        Optimizer wrongLr = new AdamW(ParamGroups.spark(first.model().namedParameters()),
                AdamW.Config.torchDefaults().withBetas(0.8, 0.999));
        IllegalArgumentException o = assertThrows(IllegalArgumentException.class, () -> ck.restoreOptimizer(wrongLr));
        assertTrue(o.getMessage().contains("optimizer.safetensors") && o.getMessage().contains("beta1"),
                o.getMessage());
        assertNull(ck.state().metric());
    }

    @Test
    void configMismatchRefusesBeforeChangingAnything(@TempDir Path dir) throws Exception {
        Run first = fresh(1);
        train(first, 0, 1);
        CheckpointManager mgr = new CheckpointManager(dir, 1, null);
        TrainingState st = TrainingState.of("distill", 0, 1, 1, null, null, null, Map.of(), 0, CONFIG);
        Checkpoint ck = Checkpoint.load(mgr.save(Snapshot.of(st, first.model(), first.opt())));
        Run target = fresh(2);
        Map<String, INDArray> before = copy(target.model().stateDict());
        JsonNode changed = Fixtures.json(
                "{\"seed\":8,\"optim\":{\"name\":\"adamw\",\"lr\":0.02},\"epochs\":3,\"output\":\"/tmp/b\"}");
        ConfigMismatchException e = assertThrows(ConfigMismatchException.class,
                () -> ck.restore(changed, List.of("epochs", "output"), target.model(), target.opt()));
        assertEquals(List.of("seed", "optim.lr"), e.differences().stream().map(ConfigDiff.Difference::path).toList());
        assertTrue(e.getMessage().contains("state.json"), e.getMessage());
        assertTrue(bitEqual(before, target.model().stateDict()), "a refused resume modified the model");
        assertEquals(0, target.opt().stepCount());
    }

    private static Map<String, INDArray> copy(Map<String, INDArray> m) {
        Map<String, INDArray> out = new java.util.LinkedHashMap<>();
        m.forEach((k, v) -> out.put(k, v.dup()));
        return out;
    }
}
