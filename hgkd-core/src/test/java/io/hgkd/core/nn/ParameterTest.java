package io.hgkd.core.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hgkd.core.testing.TestData;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * {@link Parameter#zeroGrad()} defers the clearing: a gradient read after it is zero, the first accumulation
 * overwrites the stale buffer, and kernels that write with a GEMM beta get 0 exactly once.
 */
class ParameterTest {
    private static double[] flat(INDArray a) {
        return a.dup('c').reshape(a.length()).toDoubleVector();
    }

    @Test
    void zeroedGradientReadsAsZeroAndIsOverwrittenByTheNextAccumulation() {
        Parameter p = new Parameter(Nd4j.zeros(DataType.FLOAT, 2, 3), false);
        INDArray g = TestData.randn(1, 2, 3).castTo(DataType.FLOAT);
        p.accumulate(g);
        p.accumulate(g);
        assertArrayEquals(flat(g.mul(2)), flat(p.grad()), 1e-6);
        p.zeroGrad();
        p.accumulate(g);
        assertArrayEquals(flat(g), flat(p.grad()), 0.0, "the stale sum must not survive zeroGrad");
        p.zeroGrad();
        assertEquals(0.0, p.grad().amaxNumber().doubleValue(), "read after zeroGrad");
        assertTrue(p.hasGrad());
    }

    @Test
    void gradBetaIsZeroOnceAfterZeroGrad() {
        Parameter p = new Parameter(Nd4j.zeros(DataType.FLOAT, 4), false);
        assertEquals(1.0, p.gradBeta(), "a fresh gradient is allocated zeroed: adding is right");
        p.zeroGrad();
        assertEquals(0.0, p.gradBeta());
        assertEquals(1.0, p.gradBeta(), "written since");
        p.zeroGrad();
        p.grad();
        assertEquals(1.0, p.gradBeta(), "grad() cleared it");
    }

    /** A module's gradient after zeroGrad on a buffer full of stale values equals that of a fresh module. */
    private static void staleBufferIsNotRead(Module fresh, Module used, INDArray x, Consumer<Module> beforeStep) {
        used.loadStateDict(fresh.stateDict(), true);
        beforeStep.accept(fresh);
        beforeStep.accept(used);
        INDArray gy = TestData.randn(9, fresh.forward(x).shape()).castTo(DataType.FLOAT);
        fresh.backward(gy);
        for (int i = 0; i < 2; i++) { // stale sums in the buffer
            used.forward(x);
            used.backward(gy.mul(3));
        }
        used.zeroGrad();
        used.forward(x);
        used.backward(gy);
        fresh.namedParameters().forEach((k, p) -> assertArrayEquals(flat(p.grad()),
                flat(used.namedParameters().get(k).grad()), 1e-5, k));
    }

    @Test
    void layersWritingWithGemmBetaOverwriteAfterZeroGrad() {
        INDArray x2 = TestData.randn(2, 5, 6).castTo(DataType.FLOAT);
        staleBufferIsNotRead(new Linear(6, 4, true), new Linear(6, 4, true), x2, m -> { });
        INDArray x4 = TestData.randn(3, 3, 4, 6, 6).castTo(DataType.FLOAT);
        for (Conv2dPaths.Path path : Conv2dPaths.Path.values()) {
            Conv2dPaths.on(path, () -> staleBufferIsNotRead(new Conv2d(4, 5, 1, 1, 0, true),
                    new Conv2d(4, 5, 1, 1, 0, true), x4, m -> { }));
        }
        staleBufferIsNotRead(new Conv2d(4, 5, 3, 1, 1, true), new Conv2d(4, 5, 3, 1, 1, true), x4, m -> { });
    }
}
