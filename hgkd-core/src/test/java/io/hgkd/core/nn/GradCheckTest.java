package io.hgkd.core.nn;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hgkd.core.testing.GradCheck;
import java.util.Map;
import org.apache.commons.math3.random.MersenneTwister;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** Double-precision finite-difference checks of every hand-written backward in {@code io.hgkd.core.nn}. */
class GradCheckTest {
    @BeforeAll
    static void seed() {
        Init.manualSeed(1234);
    }

    static INDArray randn(long seed, long... shape) {
        return io.hgkd.core.testing.TestData.randn(seed, shape);
    }

    static void check(Module m, INDArray x) {
        Map<String, Double> errors = GradCheck.check(m, x, 42);
        assertTrue(errors.containsKey("input"));
        // every parameter was checked (GradCheck fails on the first bad element)
        assertTrue(errors.keySet().containsAll(m.namedParameters().keySet()), errors.keySet().toString());
    }

    @Test
    void conv2d() {
        check(new Conv2d(3, 4, 3, 1, 1, true), randn(1, 2, 3, 6, 6));
    }

    @Test
    void conv2dStridedNoBias() {
        check(new Conv2d(3, 4, 3, 2, 1, false), randn(2, 2, 3, 7, 7));
    }

    @Test
    void conv2dDilatedGrouped() {
        check(new Conv2d(4, 6, 3, 1, 2, 2, 2, true), randn(3, 2, 4, 7, 7));
    }

    @Test
    void conv2d1x1AsGemm() {
        Conv2dPaths.on(Conv2dPaths.Path.PER_IMAGE_GEMM, () -> {
            check(new Conv2d(3, 4, 1, 1, 0, true), randn(8, 2, 3, 5, 4));
            check(new Conv2d(4, 3, 1, 1, 0, false), randn(9, 3, 4, 3, 3));
        });
    }

    @Test
    void stridedConv2d1x1OnSubsampledInput() {
        for (Conv2dPaths.Path path : new Conv2dPaths.Path[] {Conv2dPaths.Path.PER_IMAGE_GEMM,
                Conv2dPaths.Path.BATCHED_GEMM}) {
            Conv2dPaths.on(path, () -> {
                check(new Conv2d(3, 4, 1, 2, 0, true), randn(12, 2, 3, 5, 4));
                check(new Conv2d(4, 3, 1, 3, 0, false), randn(13, 2, 4, 7, 6));
            });
        }
    }

    @Test
    void conv2d1x1AsBatchedGemm() {
        Conv2dPaths.on(Conv2dPaths.Path.BATCHED_GEMM, () -> {
            check(new Conv2d(3, 4, 1, 1, 0, true), randn(10, 2, 3, 5, 4));
            check(new Conv2d(4, 3, 1, 1, 0, false), randn(11, 3, 4, 3, 3));
        });
    }

    @Test
    void convTranspose2d() {
        check(new ConvTranspose2d(4, 3, 4, 2, 1, true), randn(4, 2, 4, 3, 3));
    }

    @Test
    void convTranspose2dK3() {
        check(new ConvTranspose2d(3, 2, 3, 2, 1, false), randn(5, 2, 3, 3, 3));
    }

    @Test
    void batchNormTrain() {
        BatchNorm2d bn = new BatchNorm2d(3);
        Init.normal(bn.weight().data(), 1, 0.2, new MersenneTwister(1));
        Init.normal(bn.bias().data(), 0, 0.2, new MersenneTwister(2));
        check(bn, randn(6, 3, 3, 4, 4));
    }

    @Test
    void batchNormEval() {
        BatchNorm2d bn = new BatchNorm2d(3);
        bn.runningMean().assign(Nd4j.createFromArray(0.1f, -0.2f, 0.3f));
        bn.runningVar().assign(Nd4j.createFromArray(0.5f, 1.5f, 2.0f));
        bn.eval();
        check(bn, randn(7, 2, 3, 4, 4));
    }

    @Test
    void layerNorm() {
        LayerNorm ln = new LayerNorm(6);
        Init.normal(ln.weight().data(), 1, 0.2, new MersenneTwister(3));
        check(ln, randn(8, 2, 3, 6));
    }

    @Test
    void layerNormNoAffine() {
        check(new LayerNorm(5, 1e-6, false), randn(9, 4, 5));
    }

    @Test
    void linear() {
        check(new Linear(5, 4), randn(10, 2, 3, 5));
    }

    @Test
    void linearNoBias() {
        check(new Linear(5, 2, false), randn(11, 3, 5));
    }

    @Test
    void relu() {
        check(new ReLU(), randn(12, 2, 3, 4));
    }

    @Test
    void relu6() {
        check(new ReLU6(), randn(13, 2, 3, 4).muli(5));
    }

    @Test
    void gelu() {
        check(new GELU(), randn(14, 2, 3, 4).muli(2));
    }

    @Test
    void softmax() {
        check(new Softmax(), randn(15, 2, 3, 5));
    }

    @Test
    void maxPool() {
        check(new MaxPool2d(3, 2, 1), randn(16, 2, 2, 7, 7));
    }

    @Test
    void globalAvgPool() {
        check(new GlobalAvgPool2d(), randn(17, 2, 3, 4, 5));
    }

    @Test
    void upsampleNearest() {
        check(new UpsampleNearest2d(2), randn(18, 2, 2, 3, 3));
    }

    @Test
    void sequential() {
        check(new Sequential(new Conv2d(2, 3, 3, 1, 1, true), new BatchNorm2d(3), new ReLU(), new MaxPool2d(2, 2, 0)),
                randn(19, 2, 2, 6, 6));
    }

    @Test
    void dropoutWithFixedDraws() {
        MersenneTwister rng = new MersenneTwister(5);
        Dropout d = new Dropout(0.3, rng);
        // reseeding before every forward makes the finite differences see one fixed dropout mask
        Map<String, Double> e = GradCheck.check(x -> {
            rng.setSeed(5);
            return d.forward(x);
        }, d::backward, d.namedParameters(), d, randn(20, 3, 8), 1, 100);
        assertTrue(e.get("input") < GradCheck.MAX_REL_ERROR);
    }

    @Test
    void dropPathWithFixedDraws() {
        MersenneTwister rng = new MersenneTwister(6);
        DropPath d = new DropPath(0.5, rng);
        Map<String, Double> e = GradCheck.check(x -> {
            rng.setSeed(6);
            return d.forward(x);
        }, d::backward, d.namedParameters(), d, randn(21, 6, 2, 3), 1, 100);
        assertTrue(e.get("input") < GradCheck.MAX_REL_ERROR);
    }
}
