package io.hgkd.models.resnet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hgkd.core.nn.Init;
import io.hgkd.core.nn.Parameter;
import io.hgkd.core.sparse.ActiveMask;
import io.hgkd.core.testing.GradCheck;
import io.hgkd.core.testing.TestData;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import org.apache.commons.math3.random.MersenneTwister;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/** Double-precision finite-difference checks of the blocks and of tiny ResNets, dense and sparse, in train mode. */
class ResNetGradCheckTest {

    /** Random BN affine parameters, so no gradient path hides behind weight 1 / bias 0. */
    private static void randomizeNorms(io.hgkd.core.nn.Module m, long seed) {
        MersenneTwister rng = new MersenneTwister(seed);
        m.namedParameters().forEach((k, p) -> {
            if (p.data().rank() == 1) {
                Init.uniform(p.data(), k.endsWith("weight") ? 0.5 : -0.2, k.endsWith("weight") ? 1.5 : 0.2, rng);
            }
        });
    }

    /** Elements perturbed per tensor: all of a block's small tensors are sampled densely, whole models sparsely. */
    private static final int PER_TENSOR_BLOCK = 20;
    private static final int PER_TENSOR_MODEL = 2;

    private static Map<String, Double> check(io.hgkd.core.nn.Module m, INDArray x, long seed, int perTensor) {
        m.to(DataType.DOUBLE);
        return GradCheck.check(m::forward, m::backward, m.namedParameters(), m, x, seed, perTensor);
    }

    private static void assertChecked(Map<String, Double> errors, int expectedTensors) {
        assertEquals(expectedTensors, errors.size(), "checked " + errors.keySet());
    }

    @Test
    void basicBlockWithStrideAndDownsample() {
        BasicBlock b = new BasicBlock(3, 4, 2, 0.0, new MersenneTwister(1));
        assertTrue(b.hasDownsample());
        randomizeNorms(b, 2);
        assertChecked(check(b, TestData.randn(3, 2, 3, 6, 6), 4, PER_TENSOR_BLOCK), 1 + b.namedParameters().size());
        BasicBlock identity = new BasicBlock(4, 4, 1, 0.0, new MersenneTwister(1));
        randomizeNorms(identity, 5);
        assertChecked(check(identity, TestData.randn(6, 2, 4, 5, 5), 7, PER_TENSOR_BLOCK), 1 + 6);
    }

    @Test
    void bottleneckWithDownsample() {
        Bottleneck b = new Bottleneck(4, 2, 2, 0.0, new MersenneTwister(1));
        assertTrue(b.hasDownsample());
        randomizeNorms(b, 8);
        // input, conv1..3 + bn1..3 (weight, bias), downsample conv + bn
        assertChecked(check(b, TestData.randn(9, 2, 4, 6, 6), 10, PER_TENSOR_BLOCK), 1 + 3 + 6 + 1 + 2);
    }

    @Test
    void blocksWithActiveDropPathTakeTheUnfusedPath() {
        // drop path 1e-9 in train mode: the add and ReLU run outside the last BN, yet every sample is kept
        BasicBlock b = new BasicBlock(3, 4, 2, 1e-9, new MersenneTwister(1));
        randomizeNorms(b, 2);
        assertChecked(check(b, TestData.randn(3, 2, 3, 6, 6), 4, PER_TENSOR_BLOCK), 1 + b.namedParameters().size());
        Bottleneck n = new Bottleneck(4, 2, 1, 1e-9, new MersenneTwister(1));
        randomizeNorms(n, 8);
        assertChecked(check(n, TestData.randn(9, 2, 4, 6, 6), 10, PER_TENSOR_BLOCK), 1 + n.namedParameters().size());
    }

    private static ResNetConfig tiny(ResNetConfig.Block block, ResNetConfig.Stem stem) {
        return new ResNetConfig(block, new int[] {1, 1, 1, 1}, 2, 3, stem, 2, 0.0, false, 11);
    }

    @Test
    void tinyResNetDenseSmallStem() {
        ResNet m = new ResNet(tiny(ResNetConfig.Block.BASIC, ResNetConfig.Stem.SMALL));
        randomizeNorms(m, 12);
        Map<String, Double> e = check(m, TestData.randn(13, 2, 2, 16, 16), 14, PER_TENSOR_MODEL);
        assertChecked(e, 1 + m.namedParameters().size());
    }

    @Test
    void tinyResNetDenseImagenetStemBottleneck() {
        ResNet m = new ResNet(tiny(ResNetConfig.Block.BOTTLENECK, ResNetConfig.Stem.IMAGENET));
        randomizeNorms(m, 15);
        Map<String, Double> e = check(m, TestData.randn(16, 2, 2, 64, 64), 17, PER_TENSOR_MODEL);
        assertChecked(e, 1 + m.namedParameters().size());
    }

    /** All four stage outputs flattened into one vector, so the check covers every stage gradient. */
    private static Map<String, Double> checkFeatures(ResNet m, ActiveMask mask, INDArray x, long seed) {
        m.to(DataType.DOUBLE);
        List<long[]> shapes = new ArrayList<>();
        UnaryOperator<INDArray> fwd = z -> {
            List<INDArray> f = m.features(z, mask);
            shapes.clear();
            List<INDArray> flat = new ArrayList<>();
            for (INDArray a : f) {
                shapes.add(a.shape());
                flat.add(a.reshape(1, a.length()));
            }
            return Nd4j.hstack(flat.toArray(new INDArray[0]));
        };
        UnaryOperator<INDArray> bwd = g -> {
            List<INDArray> grads = new ArrayList<>();
            long off = 0;
            for (long[] s : shapes) {
                long n = 1;
                for (long d : s) {
                    n *= d;
                }
                grads.add(g.get(NDArrayIndex.point(0), NDArrayIndex.interval(off, off + n)).dup().reshape(s));
                off += n;
            }
            return m.backwardFeatures(grads);
        };
        Map<String, Parameter> params = m.namedParameters();
        return GradCheck.check(fwd, bwd, params, m, x, seed, PER_TENSOR_MODEL);
    }

    private static ActiveMask mask2x2() {
        return ActiveMask.of(new boolean[][] {{true, false, true, true}, {false, true, true, false}}, 2, 2);
    }

    @Test
    void tinyResNetSparseSmallStem() {
        ResNet m = new ResNet(tiny(ResNetConfig.Block.BASIC, ResNetConfig.Stem.SMALL).withNumClasses(0));
        randomizeNorms(m, 18);
        ActiveMask mask = mask2x2();
        Map<String, Double> e = checkFeatures(m, mask, TestData.randn(19, 2, 2, 16, 16), 20);
        assertChecked(e, 1 + m.namedParameters().size());
    }

    /**
     * Through the sparse logits (global pool + fc over the sparse layer4): the scalar stays small, so double-precision
     * round-off in the finite differences stays well below the 1e-5 tolerance, which it does not for the sum over
     * all four 64x64-input stage outputs. Stage-gradient injection is covered by {@link #tinyResNetSparseSmallStem()}.
     */
    @Test
    void tinyResNetSparseImagenetStem() {
        ResNet m = new ResNet(tiny(ResNetConfig.Block.BOTTLENECK, ResNetConfig.Stem.IMAGENET));
        randomizeNorms(m, 21);
        m.to(DataType.DOUBLE);
        ActiveMask mask = mask2x2();
        Map<String, Double> e = GradCheck.check(z -> m.forward(z, mask), m::backward, m.namedParameters(), m,
                TestData.randn(22, 2, 2, 64, 64), 23, PER_TENSOR_MODEL);
        assertChecked(e, 1 + m.namedParameters().size());
    }
}
