package io.hgkd.core.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.apache.commons.math3.random.MersenneTwister;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Dropout and DropPath semantics as PyTorch/timm define them (their random streams cannot match PyTorch's, so the
 * behaviour is checked statistically; the backward is checked by finite differences in GradCheckTest).
 */
class DropoutTest {
    @Test
    void dropoutZeroesAboutPAndScalesTheRest() {
        Dropout d = new Dropout(0.3, new MersenneTwister(1));
        INDArray x = Nd4j.ones(DataType.FLOAT, 200, 500);
        INDArray y = d.forward(x);
        double zeros = y.eq(0).castTo(DataType.DOUBLE).meanNumber().doubleValue();
        assertEquals(0.3, zeros, 0.005); // 100k draws: standard error 0.0015
        assertEquals(1 / 0.7, y.maxNumber().doubleValue(), 1e-6);
        assertEquals(1.0, y.meanNumber().doubleValue(), 0.01, "expectation preserved");
        d.eval();
        assertSame(x, d.forward(x), "identity in evaluation");
        assertThrows(IllegalArgumentException.class, () -> new Dropout(1.0));
    }

    @Test
    void dropPathDropsWholeSamples() {
        DropPath d = new DropPath(0.25, new MersenneTwister(2));
        INDArray x = Nd4j.ones(DataType.FLOAT, 4000, 3, 2, 2);
        INDArray y = d.forward(x);
        INDArray perSampleMax = y.max(1, 2, 3);
        INDArray perSampleMin = y.min(1, 2, 3);
        assertEquals(perSampleMax, perSampleMin, "a sample is kept or dropped as a whole");
        double dropped = perSampleMax.eq(0).castTo(DataType.DOUBLE).meanNumber().doubleValue();
        assertEquals(0.25, dropped, 0.025); // 4000 draws: standard error 0.007
        assertEquals(1 / 0.75, y.maxNumber().doubleValue(), 1e-6);
        assertSame(x, new DropPath(0.0).forward(x));
    }
}
