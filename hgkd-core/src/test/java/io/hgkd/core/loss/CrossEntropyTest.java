package io.hgkd.core.loss;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hgkd.core.testing.Fixtures;
import io.hgkd.core.testing.Parity;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

class CrossEntropyTest {

    private static INDArray scalar(double v) {
        return Nd4j.create(new float[] {(float) v}, new long[] {1});
    }

    @Test
    void labelSmoothingMatchesPyTorch() {
        Fixtures.Case c = Fixtures.parity("ce_label_smoothing");
        CrossEntropy ce = new CrossEntropy(0.1);
        double y = ce.forward(c.get("x"), c.get("labels"));
        Parity.forward("ce_label_smoothing", "y", c.get("y"), scalar(y));
        Parity.gradient("ce_label_smoothing", "gx", c.get("gx"), ce.backward(c.get("gy").getDouble(0)));

        // the int[] overload is the same computation
        int[] labels = new int[(int) c.get("labels").length()];
        for (int i = 0; i < labels.length; i++) {
            labels[i] = c.get("labels").getInt(i);
        }
        CrossEntropy ce2 = new CrossEntropy(0.1);
        assertEquals(y, ce2.forward(c.get("x"), labels));
        assertEquals(ce.backward(), ce2.backward());
    }

    @Test
    void softTargetsMatchPyTorch() {
        Fixtures.Case c = Fixtures.parity("ce_soft_targets");
        CrossEntropy ce = new CrossEntropy();
        double y = ce.forwardSoft(c.get("x"), c.get("targets"));
        Parity.forward("ce_soft_targets", "y", c.get("y"), scalar(y));
        Parity.gradient("ce_soft_targets", "gx", c.get("gx"), ce.backward(c.get("gy").getDouble(0)));
    }

    @Test
    void finiteDifferencesWithLabelSmoothing() {
        Nd4j.getRandom().setSeed(5);
        INDArray x = Nd4j.randn(DataType.DOUBLE, 5, 7).muli(1.5);
        int[] labels = {0, 6, 3, 3, 1};
        CrossEntropy ce = new CrossEntropy(0.2);
        ce.forward(x, labels);
        INDArray g = ce.backward();
        double worst = io.hgkd.core.testing.GradCheck.checkScalar("CrossEntropy(labels).logits", x, g,
                z -> new CrossEntropy(0.2).forward(z, labels));
        assertTrue(worst < io.hgkd.core.testing.GradCheck.MAX_REL_ERROR);
    }

    @Test
    void finiteDifferencesWithSoftTargets() {
        Nd4j.getRandom().setSeed(6);
        INDArray x = Nd4j.randn(DataType.DOUBLE, 4, 6).muli(1.5);
        INDArray e = org.nd4j.linalg.ops.transforms.Transforms.exp(Nd4j.randn(DataType.DOUBLE, 4, 6), false);
        INDArray t = e.diviColumnVector(e.sum(1).reshape(-1, 1));
        for (double eps : new double[] {0.0, 0.1}) {
            CrossEntropy ce = new CrossEntropy(eps);
            ce.forwardSoft(x, t);
            INDArray g = ce.backward();
            double worst = io.hgkd.core.testing.GradCheck.checkScalar("CrossEntropy(soft, eps=" + eps + ").logits", x, g,
                    z -> new CrossEntropy(eps).forwardSoft(z, t));
            assertTrue(worst < io.hgkd.core.testing.GradCheck.MAX_REL_ERROR);
        }
    }

    @Test
    void hardLabelsEqualOneHotSoftTargets() {
        Nd4j.getRandom().setSeed(7);
        INDArray x = Nd4j.randn(DataType.DOUBLE, 3, 4);
        int[] labels = {2, 0, 3};
        INDArray onehot = Nd4j.zeros(DataType.DOUBLE, 3, 4);
        for (int i = 0; i < 3; i++) {
            onehot.putScalar(i, labels[i], 1.0);
        }
        CrossEntropy a = new CrossEntropy(0.3);
        CrossEntropy b = new CrossEntropy(0.3);
        assertEquals(a.forward(x, labels), b.forwardSoft(x, onehot), 1e-14);
        assertEquals(0, a.backward().sub(b.backward()).amaxNumber().doubleValue(), 1e-15);
    }

    @Test
    void stableForHugeLogits() {
        INDArray x = Nd4j.create(new float[] {1000f, 0f, -1000f, 500f, 500f, 500f}, new long[] {2, 3});
        CrossEntropy ce = new CrossEntropy();
        double y = ce.forward(x, new int[] {0, 1});
        // sample 0: log-softmax of the label is ~0; sample 1: three equal logits give log 3
        assertEquals(Math.log(3) / 2, y, 1e-6);
        INDArray g = ce.backward();
        assertTrue(!Double.isNaN(g.sumNumber().doubleValue()));
        assertEquals(0, g.getDouble(0, 0), 1e-7);
    }

    @Test
    void validatesInputs() {
        CrossEntropy ce = new CrossEntropy();
        assertThrows(IllegalStateException.class, ce::backward);
        INDArray x = Nd4j.zeros(DataType.FLOAT, 2, 3);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ce.forward(x, new int[] {0, 3}));
        assertTrue(e.getMessage().contains("3") && e.getMessage().contains("[0, 3)"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> ce.forward(x, new int[] {-1, 0}));
        assertTrue(e.getMessage().contains("-1"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> ce.forward(x, new int[] {0}));
        assertTrue(e.getMessage().contains("1 labels"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> ce.forward(x, Nd4j.create(new double[] {0.5, 1}, new long[] {2})));
        assertTrue(e.getMessage().contains("0.5"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> ce.forward(x, Nd4j.zeros(DataType.FLOAT, 2, 3)));
        assertThrows(IllegalArgumentException.class, () -> ce.forward(Nd4j.zeros(DataType.FLOAT, 6), new int[] {0}));
        e = assertThrows(IllegalArgumentException.class,
                () -> ce.forwardSoft(x, Nd4j.create(new float[] {0.5f, 0.5f, 0.5f, 1f, 0f, 0f}, new long[] {2, 3})));
        assertTrue(e.getMessage().contains("row 0") && e.getMessage().contains("1.5"), e.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> ce.forwardSoft(x, Nd4j.create(new float[] {1.5f, -0.5f, 0f, 1f, 0f, 0f}, new long[] {2, 3})));
        assertThrows(IllegalArgumentException.class, () -> ce.forwardSoft(x, Nd4j.zeros(DataType.FLOAT, 3, 2)));
        e = assertThrows(IllegalArgumentException.class, () -> new CrossEntropy(1.5));
        assertTrue(e.getMessage().contains("1.5"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new CrossEntropy(Double.NaN));
    }
}
