package io.hgkd.train.trainer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.hgkd.train.checkpoint.ConfigDiff;
import io.hgkd.train.distill.DistillConfig;
import org.junit.jupiter.api.Test;

/** Job configs survive JSON (what checkpoints store and ConfigDiff compares), and one seed drives the nested ones. */
class ConfigJsonTest {

    @Test
    void distillConfigRoundTripsThroughJson() throws Exception {
        DistillJobConfig c = TinyRuns.distill(5);
        JsonNode tree = Trainer.JSON.valueToTree(c);
        DistillJobConfig back = Trainer.JSON.treeToValue(tree, DistillJobConfig.class);
        assertEquals(tree, Trainer.JSON.valueToTree(back));
        assertEquals(c.student(), back.student());
        assertEquals(c.loss(), back.loss());
        assertEquals(c.teacher(), back.teacher());
    }

    @Test
    void finetuneAndTrainerConfigsRoundTrip() throws Exception {
        FinetuneJobConfig f = FinetuneJobTest.config();
        JsonNode tree = Trainer.JSON.valueToTree(f);
        assertEquals(tree, Trainer.JSON.valueToTree(Trainer.JSON.treeToValue(tree, FinetuneJobConfig.class)));
        TrainerConfig t = TinyRuns.trainer(3);
        assertEquals(t, Trainer.JSON.treeToValue(Trainer.JSON.valueToTree(t), TrainerConfig.class));
    }

    @Test
    void theRunSeedOverridesNestedSeedsAndDiffersBetweenRuns() {
        DistillJobConfig a = TinyRuns.distill(5);
        DistillJobConfig b = TinyRuns.distill(6);
        assertEquals(Seeds.derive(5, "init.student", 0), a.student().encoder().seed());
        assertEquals(Seeds.derive(5, "queue", 0), a.loss().queueSeed());
        assertNotEquals(a.teacher().seed(), b.teacher().seed());
        var diff = ConfigDiff.compare(Trainer.JSON.valueToTree(a), Trainer.JSON.valueToTree(b));
        assertTrue(diff.stream().anyMatch(d -> d.path().equals("seed")), diff.toString());
    }

    @Test
    void invalidCombinationsAreRefusedWithTheReason() {
        DistillJobConfig c = TinyRuns.distill(5);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new DistillJobConfig(1, null,
                null, c.student(), c.loss(), 0.6, 0, c.data()));
        assertTrue(e.getMessage().contains("no teacher"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new DistillJobConfig(1, c.teacher(), null,
                c.student(), DistillConfig.sparkOnly(), 0.6, 0, c.data()));
        assertTrue(e.getMessage().contains("plain SparK"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new DistillJobConfig(1, c.teacher(), null,
                c.student(), c.loss(), 0.6, 0, DataConfig.synthetic(16, 16, 2, 4)));
        assertTrue(e.getMessage().contains("does not match the student"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new TrainerConfig(2, TrainerConfig.OptimizerKind.LAMB,
                1e-3, 0.04, 0.2, 2, 0, 1, 1, 1, 1, 1));
        assertTrue(e.getMessage().contains("warmupEpochs"), e.getMessage());
    }
}
