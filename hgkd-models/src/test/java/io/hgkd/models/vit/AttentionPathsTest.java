package io.hgkd.models.vit;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.hgkd.core.nn.Parameter;
import io.hgkd.core.testing.Parity;
import io.hgkd.core.testing.TestData;
import java.util.Map;
import org.apache.commons.math3.random.MersenneTwister;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The two attention cores (Java loops in {@link AttentionKernel}, GEMM per (sample, head)) agree in float32 on the
 * same weights: output, probabilities, input and parameter gradients. The batch is large enough that the Java core
 * splits its (sample, head) pairs over threads.
 */
class AttentionPathsTest {
    private static final double RTOL = 1e-5;
    private static final double ATOL = 1e-6;

    @Test
    void javaCoreMatchesGemmCore() {
        Attention java = new Attention(48, 3, true, 0, 0, new MersenneTwister(1));
        Attention gemm = new Attention(48, 3, true, 0, 0, new MersenneTwister(1));
        ModelFixtures.randomize(java, 21);
        ModelFixtures.randomize(gemm, 21);
        java.javaCoreMaxWork = Long.MAX_VALUE;
        gemm.javaCoreMaxWork = 0;
        INDArray x = TestData.randn(22, 64, 9, 48).castTo(org.nd4j.linalg.api.buffer.DataType.FLOAT);
        INDArray gy = TestData.randn(23, 64, 9, 48).castTo(org.nd4j.linalg.api.buffer.DataType.FLOAT);
        for (int rep = 0; rep < 2; rep++) {   // the second pass reuses every buffer
            java.zeroGrad();
            gemm.zeroGrad();
            INDArray yj = java.forward(x).dup();
            INDArray yg = gemm.forward(x).dup();
            Parity.assertClose("attention", "out", yg, yj, RTOL, ATOL);
            Parity.assertClose("attention", "probs", gemm.lastAttention(), java.lastAttention(), RTOL, ATOL);
            INDArray gj = java.backward(gy).dup();
            INDArray gg = gemm.backward(gy).dup();
            Parity.assertClose("attention", "grad_x", gg, gj, RTOL, ATOL);
            Map<String, Parameter> pj = java.namedParameters();
            Map<String, Parameter> pg = gemm.namedParameters();
            assertEquals(pg.keySet(), pj.keySet());
            for (String k : pj.keySet()) {
                Parity.assertClose("attention", "grad_" + k, pg.get(k).grad(), pj.get(k).grad(), 1e-4, 1e-5);
            }
        }
    }
}
