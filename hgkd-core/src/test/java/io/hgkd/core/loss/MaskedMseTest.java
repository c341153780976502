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

class MaskedMseTest {

    @Test
    void matchesPyTorchValueAndGradient() {
        Fixtures.Case c = Fixtures.parity("masked_mse");
        MaskedMse loss = new MaskedMse();
        double y = loss.forward(c.get("x"), c.get("target"), c.get("mask"));
        Parity.forward("masked_mse", "y", c.get("y"), Nd4j.create(new float[] {(float) y}, new long[] {1}));
        INDArray gx = loss.backward(c.get("gy").getDouble(0));
        assertEquals(DataType.FLOAT, gx.dataType());
        Parity.gradient("masked_mse", "gx", c.get("gx"), gx);
    }

    @Test
    void finiteDifferencesInDouble() {
        Nd4j.getRandom().setSeed(11);
        INDArray pred = Nd4j.randn(DataType.DOUBLE, 3, 5, 7);
        INDArray target = Nd4j.randn(DataType.DOUBLE, 3, 5, 7);
        INDArray mask = Nd4j.rand(DataType.DOUBLE, 3, 5).gt(0.5).castTo(DataType.DOUBLE);
        mask.putScalar(0, 0, 1.0);
        mask.putScalar(2, 4, 0.0);
        MaskedMse loss = new MaskedMse();
        loss.forward(pred, target, mask);
        INDArray g = loss.backward();
        double worst = io.hgkd.core.testing.GradCheck.checkScalar("MaskedMse.pred", pred, g, x -> new MaskedMse().forward(x, target, mask));
        assertTrue(worst < io.hgkd.core.testing.GradCheck.MAX_REL_ERROR);
        // unmasked rows get exactly zero gradient
        assertEquals(0.0, g.get(org.nd4j.linalg.indexing.NDArrayIndex.point(2),
                org.nd4j.linalg.indexing.NDArrayIndex.point(4)).amaxNumber().doubleValue());
    }

    @Test
    void upstreamScalesGradient() {
        Nd4j.getRandom().setSeed(3);
        INDArray pred = Nd4j.randn(DataType.DOUBLE, 2, 3, 4);
        INDArray target = Nd4j.randn(DataType.DOUBLE, 2, 3, 4);
        INDArray mask = Nd4j.ones(DataType.DOUBLE, 2, 3);
        MaskedMse loss = new MaskedMse();
        double v = loss.forward(pred, target, mask);
        INDArray d = pred.sub(target);
        // all 6 positions counted: the plain MSE, times 6 / (6 + 1e-8)
        assertEquals(d.mul(d).meanNumber().doubleValue() * 6 / (6 + 1e-8), v, 1e-14);
        assertEquals(0, loss.backward(2.5).sub(loss.backward().mul(2.5)).amaxNumber().doubleValue(), 1e-15);
    }

    @Test
    void allUnmaskedGivesZeroNotNaN() {
        MaskedMse loss = new MaskedMse();
        double v = loss.forward(Nd4j.ones(DataType.FLOAT, 1, 2, 3), Nd4j.zeros(DataType.FLOAT, 1, 2, 3),
                Nd4j.zeros(DataType.FLOAT, 1, 2));
        assertEquals(0.0, v);
        assertEquals(0.0, loss.backward().amaxNumber().doubleValue());
    }

    @Test
    void rejectsBadShapesAndState() {
        MaskedMse loss = new MaskedMse();
        assertThrows(IllegalStateException.class, loss::backward);
        INDArray p = Nd4j.zeros(DataType.FLOAT, 2, 3, 4);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> loss.forward(p, Nd4j.zeros(DataType.FLOAT, 2, 3, 5), Nd4j.zeros(DataType.FLOAT, 2, 3)));
        assertTrue(e.getMessage().contains("[2, 3, 5]"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> loss.forward(p, p, Nd4j.zeros(DataType.FLOAT, 2, 4)));
        assertTrue(e.getMessage().contains("[2, 4]"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new MaskedMse(-1));
        assertThrows(IllegalArgumentException.class, () -> new MaskedMse(Double.NaN));
    }
}
