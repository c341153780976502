package io.hgkd.train.finetune;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hgkd.core.testing.Fixtures;
import io.hgkd.core.testing.Parity;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

class BatchMixupTest {

    private static int[] ints(INDArray a) {
        int[] out = new int[(int) a.length()];
        for (int i = 0; i < out.length; i++) {
            out[i] = a.getInt(i);
        }
        return out;
    }

    private static Fixtures.Case fixture() {
        return new Fixtures.Case("finetune/mixup", Fixtures.load("finetune/mixup.npz"));
    }

    private static BatchMixup sparkMixup(Fixtures.Case c) {
        int k = c.get("K").getInt(0);
        assertEquals(0.1, c.get("smoothing").getDouble(0));
        return new BatchMixup(BatchMixup.Config.spark(k), 0);
    }

    @Test
    void mixupWithGivenLambdaMatchesSpark() {
        Fixtures.Case c = fixture();
        INDArray x = c.get("x");
        INDArray before = x.dup();
        BatchMixup.Result r = sparkMixup(c).mixup(x, ints(c.get("labels")), c.get("mix_lam").getDouble(0));
        Parity.forward("finetune_mixup", "mix_x", c.get("mix_x"), r.images());
        Parity.forward("finetune_mixup", "mix_t", c.get("mix_t"), r.targets());
        assertEquals(6, r.labels().length, "odd batch of 5 gets its first sample prepended");
        assertNull(r.box());
        assertEquals(before, x, "input untouched");
    }

    @Test
    void cutmixWithGivenLambdaAndCentreMatchesSpark() {
        Fixtures.Case c = fixture();
        BatchMixup.Result r = sparkMixup(c).cutmix(c.get("x"), ints(c.get("labels")), c.get("cut_lam").getDouble(0),
                c.get("cut_cy").getInt(0), c.get("cut_cx").getInt(0));
        INDArray box = c.get("cut_box");
        assertEquals(new BatchMixup.CutmixBox(box.getInt(0), box.getInt(1), box.getInt(2), box.getInt(3)), r.box());
        assertEquals(c.get("cut_lam_corrected").getDouble(0), r.lambda(), 1e-15);
        // pasting copies values: exact
        Parity.exact("finetune_mixup", "cut_x", c.get("cut_x"), r.images());
        Parity.forward("finetune_mixup", "cut_t", c.get("cut_t"), r.targets());
    }

    @Test
    void labelSmoothingTargets() {
        Fixtures.Case c = fixture();
        int[] labels = ints(c.get("labels"));
        int[] even = new int[labels.length + 1];
        even[0] = labels[0];
        System.arraycopy(labels, 0, even, 1, labels.length);
        INDArray t = BatchMixup.targets(even, 4, 1.0, 0.1, DataType.FLOAT);
        Parity.forward("finetune_mixup", "smooth_t", c.get("smooth_t"), t);
        // off = 0.1 / 4, on = 0.9 + 0.025, rows sum to 1
        assertEquals(0.925, t.getDouble(0, labels[0]), 1e-7);
        assertEquals(0.025, t.getDouble(0, (labels[0] + 1) % 4), 1e-7);
        assertEquals(6.0, t.sumNumber().doubleValue(), 1e-5);
    }

    @Test
    void cutmixBoxesMatchTimmRandBbox() {
        java.util.Map<String, INDArray> f = Fixtures.load("finetune/bbox.npz");
        INDArray cases = f.get("cases");
        INDArray boxes = f.get("boxes");
        INDArray lams = f.get("lam_corrected");
        assertTrue(cases.size(0) >= 40);
        for (int i = 0; i < cases.size(0); i++) {
            int h = (int) cases.getDouble(i, 0);
            int w = (int) cases.getDouble(i, 1);
            BatchMixup.CutmixBox b = BatchMixup.CutmixBox.of(h, w, cases.getDouble(i, 2), (int) cases.getDouble(i, 3),
                    (int) cases.getDouble(i, 4));
            assertEquals(new BatchMixup.CutmixBox(boxes.getInt(i, 0), boxes.getInt(i, 1), boxes.getInt(i, 2),
                    boxes.getInt(i, 3)), b, "case " + i);
            assertEquals(lams.getDouble(i), b.correctedLambda(h, w), 1e-15, "case " + i);
        }
    }

    @Test
    void randomDrawsAreSeededAndConsistent() {
        Nd4j.getRandom().setSeed(3);
        INDArray x = Nd4j.rand(DataType.FLOAT, 4, 1, 8, 8);
        int[] labels = {0, 1, 2, 1};
        BatchMixup a = new BatchMixup(BatchMixup.Config.spark(3), 42);
        BatchMixup b = new BatchMixup(BatchMixup.Config.spark(3), 42);
        int cutmixCount = 0;
        int n = 200;
        for (int i = 0; i < n; i++) {
            BatchMixup.Result ra = a.apply(x, labels);
            BatchMixup.Result rb = b.apply(x, labels);
            assertEquals(ra.images(), rb.images());
            assertEquals(ra.lambda(), rb.lambda());
            // every result is reproducible from its own lambda (and box)
            INDArray t = BatchMixup.targets(labels, 3, ra.lambda(), 0.1, DataType.FLOAT);
            assertEquals(t, ra.targets());
            if (ra.cutmix()) {
                cutmixCount++;
                assertEquals(ra.box().correctedLambda(8, 8), ra.lambda(), 1e-15);
            } else {
                INDArray expected = x.mul(ra.lambda());
                for (int s = 0; s < 4; s++) {
                    expected.slice(s).addi(x.slice(3 - s).mul(1 - ra.lambda()));
                }
                Parity.forward("finetune_mixup", "random_mixup", expected, ra.images());
            }
        }
        // switch prob 0.5: 200 draws land in [70, 130] with overwhelming probability
        assertTrue(cutmixCount > 70 && cutmixCount < 130, "cutmix chosen " + cutmixCount + " of " + n);
    }

    @Test
    void probZeroLeavesImagesAndSmoothsLabels() {
        INDArray x = Nd4j.rand(DataType.FLOAT, 2, 1, 4, 4);
        BatchMixup m = new BatchMixup(new BatchMixup.Config(0.1, 1.0, 0.0, 0.5, 0.1, 3, true), 1);
        BatchMixup.Result r = m.apply(x, new int[] {2, 0});
        assertEquals(x, r.images());
        assertEquals(1.0, r.lambda());
        assertArrayEquals(new int[] {2, 0}, r.labels());
    }

    @Test
    void rejectsBadInput() {
        BatchMixup m = new BatchMixup(BatchMixup.Config.spark(3), 1);
        INDArray x = Nd4j.rand(DataType.FLOAT, 2, 1, 4, 4);
        assertThrows(IllegalArgumentException.class, () -> m.apply(x, new int[] {0}));
        assertThrows(IllegalArgumentException.class, () -> m.apply(x, new int[] {0, 3}));
        assertThrows(IllegalArgumentException.class, () -> m.mixup(x, new int[] {0, 1}, 1.5));
        assertThrows(IllegalArgumentException.class, () -> m.cutmix(x, new int[] {0, 1}, 0.5, 4, 0));
        assertThrows(IllegalArgumentException.class,
                () -> new BatchMixup.Config(0, 0, 1, 0.5, 0.1, 3, true));
        assertThrows(IllegalArgumentException.class,
                () -> new BatchMixup.Config(0.1, 1, 1, 0.5, 1.0, 3, true));
    }
}
