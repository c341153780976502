package io.hgkd.core.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** The Module contract: PyTorch names and order, load reports, modes, gradients, dtype conversion, buffer reuse. */
class ModuleTest {
    static final class Block extends Module {
        final Conv2d conv = registerModule("conv", new Conv2d(2, 3, 3, 1, 1, false));
        final BatchNorm2d bn = registerModule("bn", new BatchNorm2d(3));

        @Override
        public INDArray forward(INDArray x) {
            return bn.forward(conv.forward(x));
        }

        @Override
        public INDArray backward(INDArray g) {
            return conv.backward(bn.backward(g));
        }
    }

    @Test
    void stateDictHasPyTorchNamesAndOrder() {
        Sequential s = new Sequential(new Block(), new ReLU(), new Linear(4, 2));
        assertEquals(List.of("0.conv.weight", "0.bn.weight", "0.bn.bias", "0.bn.running_mean", "0.bn.running_var",
                "0.bn.num_batches_tracked", "2.weight", "2.bias"), List.copyOf(s.stateDict().keySet()));
        assertEquals(List.of("0.conv.weight", "0.bn.weight", "0.bn.bias", "2.weight", "2.bias"),
                List.copyOf(s.namedParameters().keySet()));
        assertTrue(s.namedParameters().get("0.bn.weight").noWeightDecay());
        assertFalse(s.namedParameters().get("0.conv.weight").noWeightDecay());
        assertEquals(DataType.LONG, s.stateDict().get("0.bn.num_batches_tracked").dataType());
        assertEquals(2 * 3 * 9 + 3 + 3 + 4 * 2 + 2, s.numParameters());
    }

    @Test
    void loadReportNamesEveryProblem() {
        Block b = new Block();
        Map<String, INDArray> state = new java.util.LinkedHashMap<>(new Block().stateDict());
        state.remove("bn.bias");
        state.put("bn.extra", Nd4j.zeros(3));
        state.put("conv.weight", Nd4j.zeros(DataType.FLOAT, 3, 2, 5, 5));
        LoadReport r = b.loadStateDict(state, false);
        assertEquals(List.of("bn.bias"), r.missing());
        assertEquals(List.of("bn.extra"), r.unexpected());
        assertEquals(1, r.wrongShape().size());
        assertTrue(r.wrongShape().get(0).contains("conv.weight") && r.wrongShape().get(0).contains("[3, 2, 5, 5]"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> b.loadStateDict(state, true));
        assertTrue(e.getMessage().contains("bn.bias") && e.getMessage().contains("bn.extra"), e.getMessage());
        // a clean load copies values, including integer buffers
        Block src = new Block();
        src.stateDict().get("bn.num_batches_tracked").assign(7);
        assertTrue(b.loadStateDict(src.stateDict(), true).isClean());
        assertEquals(src.conv.weight().data(), b.conv.weight().data());
        assertEquals(7L, b.stateDict().get("bn.num_batches_tracked").getLong(0));
    }

    @Test
    void modesGradientsAndDtype() {
        Block b = new Block();
        b.eval();
        assertFalse(b.bn.isTraining());
        b.train(true);
        assertTrue(b.conv.isTraining());
        INDArray x = Nd4j.rand(DataType.FLOAT, 2, 2, 5, 5);
        b.forward(x);
        b.backward(Nd4j.ones(DataType.FLOAT, 2, 3, 5, 5));
        INDArray g1 = b.conv.weight().grad().dup();
        b.forward(x);
        b.backward(Nd4j.ones(DataType.FLOAT, 2, 3, 5, 5));
        assertEquals(g1.mul(2), b.conv.weight().grad(), "gradients accumulate until zeroGrad");
        b.zeroGrad();
        assertEquals(0.0, b.conv.weight().grad().amaxNumber().doubleValue());
        b.to(DataType.DOUBLE);
        assertEquals(DataType.DOUBLE, b.conv.weight().data().dataType());
        assertEquals(DataType.DOUBLE, b.bn.runningVar().dataType());
        assertEquals(DataType.LONG, b.stateDict().get("bn.num_batches_tracked").dataType());
        assertEquals(DataType.DOUBLE, b.forward(x.castTo(DataType.DOUBLE)).dataType());
        b.conv.weight().setRequiresGrad(false);
        b.zeroGrad();
        b.backward(Nd4j.ones(DataType.DOUBLE, 2, 3, 5, 5));
        assertEquals(0.0, b.conv.weight().grad().amaxNumber().doubleValue(), "frozen parameters get no gradient");
    }

    @Test
    void buffersAreReusedAcrossSteps() {
        Block b = new Block();
        INDArray x = Nd4j.rand(DataType.FLOAT, 2, 2, 5, 5);
        INDArray y1 = b.forward(x);
        INDArray gx1 = b.backward(Nd4j.ones(DataType.FLOAT, 2, 3, 5, 5));
        INDArray y2 = b.forward(x);
        INDArray gx2 = b.backward(Nd4j.ones(DataType.FLOAT, 2, 3, 5, 5));
        assertSame(y1, y2);
        assertSame(gx1, gx2);
        // a new shape gets new buffers
        INDArray y3 = b.forward(Nd4j.rand(DataType.FLOAT, 3, 2, 5, 5));
        assertEquals(3, y3.size(0));
    }

    @Test
    void namesAreValidated() {
        assertThrows(IllegalArgumentException.class, () -> new Module() {
            {
                registerParameter("a.b", Nd4j.zeros(1), false);
            }

            @Override
            public INDArray forward(INDArray x) {
                return x;
            }

            @Override
            public INDArray backward(INDArray g) {
                return g;
            }
        });
    }
}
