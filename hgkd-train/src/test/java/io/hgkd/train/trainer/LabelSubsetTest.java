package io.hgkd.train.trainer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.hgkd.train.data.Dataset;
import io.hgkd.train.data.FashionMnist;
import io.hgkd.train.data.IdxDataset;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.random.RandomGenerator;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/** The class-stratified labelled subset of {@link DataConfig#labels()}. */
class LabelSubsetTest {

    private static int[] labels(Dataset d) throws Exception {
        int[] y = new int[d.size()];
        RandomGenerator r = new SplittableRandom(0);
        for (int i = 0; i < y.length; i++) {
            y[i] = d.get(i, r).label();
        }
        return y;
    }

    private static int[] counts(int[] y, int k) {
        int[] c = new int[k];
        for (int v : y) {
            c[v]++;
        }
        return c;
    }

    @Test
    void everyClassKeepsItsShareOfTheEmbeddedFashionMnist() throws Exception {
        int[] all = labels(DataConfig.fashionMnistEmbedded(0, 8).train());
        int[] full = counts(all, 10);
        DataConfig c = DataConfig.fashionMnistEmbedded(0, 8).withLabels(0.1, 3);
        int[] sub = counts(labels(c.train()), 10);
        for (int k = 0; k < 10; k++) {
            assertEquals(Math.round(0.1 * full[k]), sub[k], "class " + k + " of " + Arrays.toString(full));
        }
        assertEquals(IntStream.of(sub).sum(), c.train().size());
        // pretraining and evaluation ignore the subset
        assertEquals(all.length, c.pretrain().size());
        assertEquals(DataConfig.fashionMnistEmbedded(0, 8).eval().size(), c.eval().size());
    }

    @Test
    void balancedLabelsGiveEqualClassCounts() {
        int[] y = new int[600];
        for (int i = 0; i < y.length; i++) {
            y[i] = (i * 7) % 6; // 100 per class, interleaved
        }
        int[] sel = new DataConfig.LabelSubset(0.05, 1).select(y, 6);
        int[] c = counts(Arrays.stream(sel).map(i -> y[i]).toArray(), 6);
        assertArrayEquals(new int[] {5, 5, 5, 5, 5, 5}, c);
    }

    @Test
    void theSubsetDependsOnlyOnFractionAndSeedAndSmallerFractionsNest() {
        SplittableRandom r = new SplittableRandom(5);
        int[] y = IntStream.range(0, 2000).map(i -> r.nextInt(4)).toArray();
        int[] a = new DataConfig.LabelSubset(0.1, 7).select(y, 4);
        assertArrayEquals(a, new DataConfig.LabelSubset(0.1, 7).select(y, 4), "deterministic");
        assertFalse(Arrays.equals(a, new DataConfig.LabelSubset(0.1, 8).select(y, 4)), "the seed matters");
        int[] small = new DataConfig.LabelSubset(0.01, 7).select(y, 4);
        assertTrue(Arrays.stream(small).allMatch(i -> Arrays.binarySearch(a, i) >= 0), "1% inside 10%");
        assertArrayEquals(IntStream.range(0, 2000).toArray(), new DataConfig.LabelSubset(1.0, 7).select(y, 4));
    }

    @Test
    void theTrainingSeedDoesNotChangeTheSubset() throws Exception {
        DataConfig d = DataConfig.synthetic(200, 8, 4, 8).withLabels(0.25, 2);
        FinetuneJobConfig a = new FinetuneJobConfig(1, TinyRuns.encoder(), null, null, 0.1, 1, 0, null, d);
        FinetuneJobConfig b = new FinetuneJobConfig(2, TinyRuns.encoder(), null, null, 0.1, 1, 0, null, d);
        int[] la = labels(a.data().train());
        assertEquals(50, la.length);
        assertArrayEquals(la, labels(b.data().train()));
        assertNotEquals(0, Arrays.stream(la).distinct().count() - 1, "several classes");
    }

    @Test
    void tooSmallAFractionIsRefusedNamingTheClass() {
        DataConfig d = DataConfig.fashionMnistEmbedded(40, 8).withLabels(0.01, 0);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, d::train);
        assertTrue(e.getMessage().contains("data.labels.fraction 0.01") && e.getMessage().contains("class"),
                e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new DataConfig.LabelSubset(0, 1));
        assertTrue(e.getMessage().contains("(0, 1]"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new DataConfig.LabelSubset(1.5, 1));
    }

    @Test
    void jsonWithoutLabelsStillReadsAndAllLabelsAreNotWritten() throws Exception {
        DataConfig all = DataConfig.fashionMnistEmbedded(32, 8);
        JsonNode tree = Trainer.JSON.valueToTree(all);
        assertFalse(tree.has("labels"), tree.toString());
        assertEquals(all, Trainer.JSON.treeToValue(tree, DataConfig.class));
        DataConfig some = all.withLabels(0.5, 9);
        ObjectNode t2 = Trainer.JSON.valueToTree(some);
        assertEquals(0.5, t2.get("labels").get("fraction").asDouble());
        assertEquals(some, Trainer.JSON.treeToValue(t2, DataConfig.class));
        ObjectNode strict = Trainer.JSON.valueToTree(all);
        DataConfig.fillOptionalDefaults(strict);
        assertTrue(strict.get("labels").isNull());
        assertEquals(all, all.withLabels(1.0, 4), "fraction 1 is every label");
    }

    @Test
    void idxLabelsAreReadWithoutDecoding() throws Exception {
        IdxDataset s = FashionMnist.embedded().train();
        DataConfig c = DataConfig.fashionMnistEmbedded(0, 8).withLabels(0.5, 1);
        int[] sel = c.labels().select(IntStream.range(0, s.size()).map(s::label).toArray(), 10);
        assertArrayEquals(IntStream.of(sel).map(s::label).toArray(), labels(c.train()));
    }
}
