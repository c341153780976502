package io.hgkd.core.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.apache.commons.math3.random.MersenneTwister;
import org.apache.commons.math3.stat.descriptive.DescriptiveStatistics;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Initialisation schemes against PyTorch's formulas ({@code torch.nn.init}): fans, bounds and standard deviations,
 * checked statistically on tensors large enough that a wrong formula (e.g. fan-in instead of fan-out) fails.
 */
class InitTest {
    private static DescriptiveStatistics stats(INDArray w) {
        DescriptiveStatistics s = new DescriptiveStatistics();
        for (double v : w.castTo(DataType.DOUBLE).data().asDouble()) {
            s.addValue(v);
        }
        return s;
    }

    @Test
    void fansFollowPyTorch() {
        // Conv2d(16, 32, 3): weight [32, 16, 3, 3] -> fan_in 144, fan_out 288
        INDArray conv = Nd4j.create(DataType.FLOAT, 32, 16, 3, 3);
        assertEquals(144, Init.fanIn(conv));
        assertEquals(288, Init.fanOut(conv));
        // Linear(10, 4): weight [4, 10]
        INDArray lin = Nd4j.create(DataType.FLOAT, 4, 10);
        assertEquals(10, Init.fanIn(lin));
        assertEquals(4, Init.fanOut(lin));
        // ConvTranspose2d(8, 6, 4): weight [8, 6, 4, 4] -> PyTorch's fan_in = size(1) * 16, fan_out = size(0) * 16
        INDArray deconv = Nd4j.create(DataType.FLOAT, 8, 6, 4, 4);
        assertEquals(96, Init.fanIn(deconv));
        assertEquals(128, Init.fanOut(deconv));
        assertThrows(IllegalArgumentException.class, () -> Init.fanIn(Nd4j.create(DataType.FLOAT, 5)));
    }

    @Test
    void kaimingNormalFanOutHasTimmStd() {
        INDArray w = Nd4j.create(DataType.FLOAT, 64, 32, 3, 3); // fan_out 576
        Init.kaimingNormalFanOut(w, new MersenneTwister(1));
        DescriptiveStatistics s = stats(w);
        double expected = Math.sqrt(2.0 / 576);
        assertEquals(expected, s.getStandardDeviation(), expected * 0.02);
        assertEquals(0, s.getMean(), expected * 0.02);
        // the fan-in variant differs by sqrt(2) here, far outside the tolerance above
        assertTrue(Math.abs(Math.sqrt(2.0 / 288) - s.getStandardDeviation()) > expected * 0.1);
    }

    @Test
    void pytorchDefaultIsUniformOverOneOverSqrtFanIn() {
        INDArray w = Nd4j.create(DataType.FLOAT, 128, 50);
        Init.pytorchDefault(w, new MersenneTwister(2));
        DescriptiveStatistics s = stats(w);
        double bound = 1.0 / Math.sqrt(50);
        assertTrue(s.getMax() <= bound && s.getMin() >= -bound);
        assertTrue(s.getMax() > 0.98 * bound && s.getMin() < -0.98 * bound);
        assertEquals(bound / Math.sqrt(3), s.getStandardDeviation(), bound * 0.02);
        INDArray b = Nd4j.create(DataType.FLOAT, 4000);
        Init.pytorchDefaultBias(b, 50, new MersenneTwister(3));
        assertTrue(stats(b).getMax() <= bound && stats(b).getMax() > 0.98 * bound);
    }

    @Test
    void xavierUniformBound() {
        INDArray w = Nd4j.create(DataType.FLOAT, 96, 32);
        Init.xavierUniform(w, 1.0, new MersenneTwister(4));
        DescriptiveStatistics s = stats(w);
        double bound = Math.sqrt(6.0 / (96 + 32));
        assertTrue(s.getMax() <= bound && s.getMax() > 0.97 * bound && s.getMin() >= -bound);
    }

    @Test
    void truncNormalRespectsAbsoluteBounds() {
        INDArray tokens = Nd4j.create(DataType.FLOAT, 20000);
        // SparK's mask tokens: trunc_normal(std .02, a=-.02, b=.02), a real ±1 sigma truncation
        Init.truncNormal(tokens, 0, 0.02, -0.02, 0.02, new MersenneTwister(5));
        DescriptiveStatistics s = stats(tokens);
        assertTrue(s.getMax() <= 0.02 && s.getMin() >= -0.02);
        // std of a standard normal truncated to ±1 is 0.5379
        assertEquals(0.02 * 0.5379, s.getStandardDeviation(), 0.02 * 0.02);
        // timm's default bounds ±2 are absolute, so std .02 is effectively untruncated
        INDArray w = Nd4j.create(DataType.FLOAT, 20000);
        Init.truncNormal(w, 0.02, new MersenneTwister(6));
        assertEquals(0.02, stats(w).getStandardDeviation(), 0.02 * 0.03);
        assertThrows(IllegalArgumentException.class, () -> Init.truncNormal(w, 0, 1, 1, -1, new MersenneTwister(7)));
    }

    @Test
    void seedsReproduce() {
        INDArray a = Nd4j.create(DataType.FLOAT, 10, 10);
        INDArray b = Nd4j.create(DataType.FLOAT, 10, 10);
        Init.normal(a, 0, 1, new MersenneTwister(9));
        Init.normal(b, 0, 1, new MersenneTwister(9));
        assertEquals(a, b);
        Init.manualSeed(11);
        Linear l1 = new Linear(6, 5);
        Init.manualSeed(11);
        Linear l2 = new Linear(6, 5);
        assertEquals(l1.weight().data(), l2.weight().data());
        Init.manualSeed(12);
        assertNotEquals(l1.weight().data(), new Linear(6, 5).weight().data());
    }
}
