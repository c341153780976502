package io.hgkd.core.sparse;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hgkd.core.nn.BatchNorm2d;
import io.hgkd.core.nn.Conv2d;
import io.hgkd.core.nn.MaxPool2d;
import io.hgkd.core.nn.Module;
import io.hgkd.core.nn.ReLU;
import io.hgkd.core.testing.Fixtures;
import io.hgkd.core.testing.GradCheck;
import io.hgkd.core.testing.ParityRunner;
import io.hgkd.core.testing.TestData;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Sparse ops against SparK's semantics as written literally in PyTorch (BN1d over gathered active positions,
 * scattered back), finite-difference checks of their backward, and the sparsity invariants.
 */
class SparseParityTest {

    /**
     * Masked input, then conv1 -> bn1 -> relu -> maxpool -> conv2 -> bn2, all sparse, with the fixture's parameter
     * names: a miniature SparK encoder.
     */
    static final class Stack extends Module implements SparseModule {
        final SparseConv2d conv1 = registerModule("conv1", new SparseConv2d(new Conv2d(3, 8, 3, 1, 1, true)));
        final SparseBatchNorm2d bn1 = registerModule("bn1", new SparseBatchNorm2d(8));
        final ReLU relu = new ReLU();
        final SparseMaxPool2d pool = new SparseMaxPool2d(new MaxPool2d(3, 2, 1));
        final SparseConv2d conv2 = registerModule("conv2", new SparseConv2d(new Conv2d(8, 8, 3, 2, 1, false)));
        final SparseBatchNorm2d bn2 = registerModule("bn2", new SparseBatchNorm2d(8));
        ActiveMask mask;
        /** The fixture's x is already masked and is its own leaf, so parity runs without the input mask. */
        boolean maskInput = true;

        @Override
        public INDArray forward(INDArray x) {
            return forward(x, null);
        }

        @Override
        public INDArray forward(INDArray x, ActiveMask m) {
            mask = m;
            INDArray h = conv1.forward(m == null || !maskInput ? x : m.apply(x), m);
            h = bn1.forward(h, m);
            h = relu.forward(h);
            h = pool.forward(h, m);
            h = conv2.forward(h, m);
            return bn2.forward(h, m);
        }

        @Override
        public INDArray backward(INDArray g) {
            g = bn2.backward(g);
            g = conv2.backward(g);
            g = pool.backward(g);
            g = relu.backward(g);
            g = bn1.backward(g);
            g = conv1.backward(g);
            return mask == null || !maskInput ? g : mask.apply(g);
        }
    }

    private static ActiveMask mask(Fixtures.Case c) {
        return ActiveMask.of(c.get("mask"));
    }

    @Test
    void sparseConvStride1() {
        ParityRunner.run("sparse_conv_s1", new SparseConv2d(new Conv2d(4, 6, 3, 1, 1, true)),
                (m, c) -> ((SparseConv2d) m).forward(c.get("x"), mask(c)));
    }

    @Test
    void sparseConvStride2() {
        ParityRunner.run("sparse_conv_s2", new SparseConv2d(new Conv2d(4, 6, 3, 2, 1, true)),
                (m, c) -> ((SparseConv2d) m).forward(c.get("x"), mask(c)));
    }

    @Test
    void sparseBatchNormTrain() {
        ParityRunner.run("sparse_bn_train", new SparseBatchNorm2d(5),
                (m, c) -> ((SparseBatchNorm2d) m).forward(c.get("x"), mask(c)));
    }

    @Test
    void sparseBatchNormEval() {
        SparseBatchNorm2d bn = new SparseBatchNorm2d(5);
        bn.eval();
        ParityRunner.run("sparse_bn_eval", bn, (m, c) -> ((SparseBatchNorm2d) m).forward(c.get("x"), mask(c)));
    }

    @Test
    void sparseMaxPool() {
        ParityRunner.run("sparse_maxpool", new SparseMaxPool2d(3, 2, 1),
                (m, c) -> ((SparseMaxPool2d) m).forward(c.get("x"), mask(c)));
    }

    @Test
    void sparseStack() {
        Stack stack = new Stack();
        stack.maskInput = false;
        ParityRunner.run("sparse_stack", stack, (m, c) -> ((Stack) m).forward(c.get("x"), mask(c)));
    }

    private static ActiveMask checkerMask() {
        // 2 samples on a 4x4 grid, different patterns, each with active and inactive cells
        boolean[][] a = new boolean[2][16];
        for (int i = 0; i < 16; i++) {
            a[0][i] = (i / 4 + i % 4) % 2 == 0;
            a[1][i] = i % 3 != 0;
        }
        return ActiveMask.of(a, 4, 4);
    }

    /** Zeroes the masked cells of x, as SparK's masked input, and makes active values positive (no pooling ties). */
    private static INDArray sparseInput(long seed, ActiveMask m, long... shape) {
        INDArray x = TestData.randn(seed, shape);
        return x.muli(m.at(shape[2], shape[3], DataType.DOUBLE));
    }

    @Test
    void finiteDifferencesSparseConvAndBn() {
        ActiveMask m = checkerMask();
        SparseConv2d conv = new SparseConv2d(new Conv2d(3, 4, 3, 1, 1, true));
        conv.to(DataType.DOUBLE);
        GradCheck.check(x -> conv.forward(x, m), conv::backward, conv.namedParameters(), conv,
                sparseInput(1, m, 2, 3, 8, 8), 3, 200);
        SparseBatchNorm2d bn = new SparseBatchNorm2d(3);
        bn.to(DataType.DOUBLE);
        bn.dense().weight().data().assign(Nd4j.createFromArray(1.2, 0.7, -0.5));
        bn.dense().bias().data().assign(Nd4j.createFromArray(0.1, -0.3, 0.2));
        GradCheck.check(x -> bn.forward(x, m), bn::backward, bn.namedParameters(), bn,
                sparseInput(2, m, 2, 3, 8, 8), 4, 200);
        bn.eval();
        GradCheck.check(x -> bn.forward(x, m), bn::backward, bn.namedParameters(), bn,
                sparseInput(3, m, 2, 3, 8, 8), 5, 200);
    }

    @Test
    void finiteDifferencesSparseStack() {
        ActiveMask m = checkerMask();
        Stack s = new Stack();
        s.to(DataType.DOUBLE);
        // Weights from fixed seeds, not the global RNG: the result must not depend on which tests ran before.
        s.namedParameters().forEach((k, p) -> p.data().assign(TestData.randn(k.hashCode(), p.data().shape()).muli(0.3)));
        // strictly positive active inputs keep every max-pool window away from ties with masked zeros
        INDArray x = Nd4j.math().abs(TestData.randn(4, 2, 3, 16, 16)).addi(0.5)
                .muli(m.at(16, 16, DataType.DOUBLE));
        GradCheck.check(z -> s.forward(z, m), s::backward, s.namedParameters(), s, x, 6, 150);
    }

    @Test
    void maskedPositionsStayZeroAndStatisticsIgnoreThem() {
        ActiveMask m = checkerMask();
        Stack a = new Stack();
        Stack b = new Stack();
        b.loadStateDict(a.stateDict(), true);
        INDArray x = TestData.randn(7, 2, 3, 16, 16).castTo(DataType.FLOAT);
        INDArray inactive = m.at(16, 16).rsub(1.0);
        // same active values, arbitrary garbage at masked positions
        INDArray xGarbage = x.add(TestData.randn(8, 2, 3, 16, 16).castTo(DataType.FLOAT).muli(100).muli(inactive));
        INDArray ya = a.forward(x, m).dup();
        INDArray yb = b.forward(xGarbage, m).dup();
        assertEquals(ya, yb, "garbage at masked input positions changed the output");
        Map<String, INDArray> sa = a.stateDict();
        Map<String, INDArray> sb = b.stateDict();
        for (String k : sa.keySet()) {
            assertEquals(sa.get(k), sb.get(k), "state " + k + " differs: masked positions entered the statistics");
        }
        INDArray outInactive = ya.mul(m.at(4, 4).rsub(1.0));
        assertEquals(0.0, Nd4j.math().abs(outInactive).maxNumber().doubleValue(), "masked outputs must be exactly 0");
        // and gradients flowing back vanish at masked positions (a non-constant upstream gradient: through the last
        // BN's batch statistics a constant one has an exactly zero input gradient, only rounding noise is left)
        INDArray gx = a.backward(TestData.randn(11, 2, 8, 4, 4).castTo(DataType.FLOAT));
        assertEquals(0.0, Nd4j.math().abs(gx.mul(inactive)).maxNumber().doubleValue());
        assertTrue(Nd4j.math().abs(gx).maxNumber().doubleValue() > 0);
    }

    @Test
    void sparseBatchNormIgnoresInactivePositions() {
        ActiveMask m = checkerMask();
        SparseBatchNorm2d a = new SparseBatchNorm2d(3);
        SparseBatchNorm2d b = new SparseBatchNorm2d(3);
        INDArray x = TestData.randn(9, 2, 3, 8, 8).castTo(DataType.FLOAT);
        INDArray garbage = TestData.randn(10, 2, 3, 8, 8).castTo(DataType.FLOAT).muli(50)
                .muli(m.at(8, 8).rsub(1.0));
        assertEquals(a.forward(x, m).dup(), b.forward(x.add(garbage), m).dup());
        assertEquals(a.stateDict(), b.stateDict());
        // while a dense BN on the same input does see them
        BatchNorm2d dense = new BatchNorm2d(3);
        dense.forward(x.add(garbage));
        assertTrue(!dense.runningVar().equals(a.dense().runningVar()));
    }

    @Test
    void sparseTwinSharesWeightsAndNamesWithDense() {
        Conv2d dense = new Conv2d(3, 4, 3, 1, 1, true);
        SparseConv2d sparse = new SparseConv2d(dense);
        assertEquals(dense.stateDict().keySet(), sparse.stateDict().keySet());
        assertTrue(dense.weight() == sparse.namedParameters().get("weight"));
        BatchNorm2d bn = new BatchNorm2d(4);
        SparseBatchNorm2d sbn = new SparseBatchNorm2d(bn);
        assertEquals(bn.stateDict().keySet(), sbn.stateDict().keySet());
        sbn.forward(TestData.randn(1, 2, 4, 4, 4).castTo(DataType.FLOAT), checkerMask());
        assertEquals(1L, bn.namedBuffers().get("num_batches_tracked").getLong(0));
        // a null mask runs dense and an all-active mask equals dense
        INDArray x = TestData.randn(2, 2, 3, 8, 8).castTo(DataType.FLOAT);
        INDArray yDense = dense.forward(x).dup();
        assertEquals(yDense, sparse.forward(x, null).dup());
        assertEquals(yDense, sparse.forward(x, ActiveMask.allActive(2, 4, 4)).dup());
    }

    @Test
    void maskValidation() {
        assertThrows(IllegalArgumentException.class, () -> ActiveMask.of(Nd4j.ones(2, 2, 4, 4)));
        assertThrows(IllegalArgumentException.class, () -> ActiveMask.of(Nd4j.zeros(1, 1, 2, 2)));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> checkerMask().at(6, 6));
        assertTrue(e.getMessage().contains("integer multiple"), e.getMessage());
    }
}
