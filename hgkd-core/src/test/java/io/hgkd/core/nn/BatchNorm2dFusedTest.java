package io.hgkd.core.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hgkd.core.testing.GradCheck;
import io.hgkd.core.testing.TestData;
import java.util.Map;
import org.apache.commons.math3.random.MersenneTwister;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.junit.jupiter.api.Test;

/**
 * The fused BatchNorm2d forms ({@code act(BN(x) + residual)}, masked or not, train and eval) against the composition
 * of the plain BN, an add and the activation module, in float and double, plus finite differences in double.
 */
class BatchNorm2dFusedTest {

    private static BatchNorm2d bn(int c, DataType dt, long seed) {
        BatchNorm2d bn = new BatchNorm2d(c);
        MersenneTwister rng = new MersenneTwister(seed);
        // gamma around 3 so that BN + residual crosses both ReLU6 kinks (0 and 6)
        Init.uniform(bn.weight().data(), 1.5, 4.5, rng);
        Init.uniform(bn.bias().data(), -0.5, 0.5, rng);
        Init.uniform(bn.runningMean(), -0.3, 0.3, rng);
        Init.uniform(bn.runningVar(), 0.5, 1.5, rng);
        bn.to(dt);
        return bn;
    }

    /** (B, 1, H, W) 0/1 mask with about half the positions active, at least two per sample. */
    private static INDArray mask(long b, long h, long w, DataType dt) {
        INDArray m = TestData.randn(99, b, 1, h, w).gt(0).castTo(dt);
        for (long s = 0; s < b; s++) {
            m.putScalar(new long[] {s, 0, 0, 0}, 1.0);
            m.putScalar(new long[] {s, 0, h - 1, w - 1}, 1.0);
        }
        return m;
    }

    private static void assertClose(String what, INDArray want, INDArray got, double tol) {
        assertEquals(want.dataType(), got.dataType(), what);
        double scale = Math.max(1.0, want.amaxNumber().doubleValue());
        double err = want.sub(got).amaxNumber().doubleValue() / scale;
        assertTrue(err <= tol, what + ": max error " + err + " > " + tol);
    }

    @ParameterizedTest
    @EnumSource(value = DataType.class, names = {"FLOAT", "DOUBLE"})
    void fusedEqualsComposition(DataType dt) {
        double tol = dt == DataType.FLOAT ? 2e-5 : 1e-12;
        long[] shape = {3, 4, 5, 6};
        for (boolean masked : new boolean[] {false, true}) {
            for (boolean training : new boolean[] {true, false}) {
                for (BatchNorm2d.Act act : BatchNorm2d.Act.values()) {
                    for (boolean withResidual : new boolean[] {false, true}) {
                        String what = dt + (masked ? " masked" : " dense") + (training ? " train " : " eval ") + act
                                + (withResidual ? " + residual" : "");
                        INDArray m = masked ? mask(shape[0], shape[2], shape[3], dt) : null;
                        INDArray x = TestData.randn(1, shape).castTo(dt).muli(2).addi(0.5);
                        INDArray r = withResidual ? TestData.randn(2, shape).castTo(dt).muli(3) : null;
                        if (r != null && m != null) {
                            r.muli(m.broadcast(shape)); // a sparse residual is 0 where the mask is
                        }
                        INDArray g = TestData.randn(3, shape).castTo(dt);

                        BatchNorm2d fused = bn(4, dt, 7);
                        BatchNorm2d plain = bn(4, dt, 7);
                        fused.train(training);
                        plain.train(training);
                        Module actModule = act == BatchNorm2d.Act.RELU ? new ReLU()
                                : act == BatchNorm2d.Act.RELU6 ? new ReLU6() : null;

                        INDArray yf = fused.forward(x, m, r, act).dup();
                        INDArray yp = plain.forward(x, m).dup();
                        if (r != null) {
                            yp.addi(r);
                        }
                        if (actModule != null) {
                            yp = actModule.forward(yp).dup();
                        }
                        assertClose(what + " output", yp, yf, tol);
                        assertClose(what + " running_mean", plain.runningMean(), fused.runningMean(), tol);
                        assertClose(what + " running_var", plain.runningVar(), fused.runningVar(), tol);

                        INDArray gxf = fused.backward(g).dup();
                        INDArray ga = actModule == null ? g : actModule.backward(g).dup();
                        INDArray gxp = plain.backward(ga).dup();
                        assertClose(what + " input gradient", gxp, gxf, tol);
                        if (r != null) {
                            INDArray gr = m == null ? ga : ga.mul(m.broadcast(shape));
                            assertClose(what + " residual gradient", gr, fused.residualGradient(), tol);
                        }
                        assertClose(what + " weight gradient", plain.weight().grad(), fused.weight().grad(), tol);
                        assertClose(what + " bias gradient", plain.bias().grad(), fused.bias().grad(), tol);
                    }
                }
            }
        }
    }

    @Test
    void finiteDifferencesOfFusedResidualRelu6() {
        long[] shape = {4, 3, 3, 4};
        for (boolean masked : new boolean[] {false, true}) {
            BatchNorm2d bn = bn(3, DataType.DOUBLE, 11);
            INDArray m = masked ? mask(shape[0], shape[2], shape[3], DataType.DOUBLE) : null;
            INDArray r = TestData.randn(5, shape).muli(3);
            if (m != null) {
                r.muli(m.broadcast(shape));
            }
            Map<String, Double> errors = GradCheck.check(x -> bn.forward(x, m, r, BatchNorm2d.Act.RELU6),
                    bn::backward, bn.namedParameters(), bn, TestData.randn(6, shape).muli(2), 13, 200);
            assertEquals(3, errors.size(), "checked " + errors.keySet());
        }
    }
}
