package io.hgkd.core.optim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import io.hgkd.core.nn.Parameter;
import io.hgkd.core.testing.Fixtures;
import io.hgkd.core.testing.Parity;

/** Gradient clipping against {@code torch.nn.utils.clip_grad_norm_}, and gradient accumulation. */
class GradientsTest {

    @Test
    void clipGradNormMatchesTorch() {
        Fixtures.Case f = new Fixtures.Case("clip_grad_norm", Fixtures.load("optim/clip_grad_norm.npz"));
        for (String tag : new String[] {"above", "below"}) {
            List<Parameter> ps = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                INDArray g = f.get(tag + ".grad_in." + i);
                Parameter p = new Parameter(Nd4j.zeros(g.dataType(), g.shape()), false);
                p.accumulate(g);
                ps.add(p);
            }
            Parameter noGrad = new Parameter(Nd4j.ones(DataType.FLOAT, 3), false); // ignored: no gradient
            ps.add(noGrad);
            double total = Gradients.clipGradNorm(ps, 1.0);
            double expected = f.get(tag + ".total_norm").getDouble(0);
            assertEquals(expected, total, 1e-6 * expected, tag + ": total norm");
            for (int i = 0; i < 3; i++) {
                Parity.assertClose("clip_grad_norm", tag + ".grad_out." + i, f.get(tag + ".grad_out." + i),
                        ps.get(i).grad(), OptimFixture.RTOL, OptimFixture.ATOL);
            }
            assertFalse(noGrad.hasGrad());
        }
        assertTrue(f.get("above.total_norm").getDouble(0) > 1 && f.get("below.total_norm").getDouble(0) < 1,
                "fixture covers both sides of max_norm");
    }

    @Test
    void clipIgnoresFrozenAndValidates() {
        Parameter a = new Parameter(Nd4j.zeros(DataType.FLOAT, 2), false);
        a.accumulate(Nd4j.createFromArray(3f, 4f));
        Parameter frozen = new Parameter(Nd4j.zeros(DataType.FLOAT, 1), false);
        frozen.accumulate(Nd4j.createFromArray(100f));
        frozen.setRequiresGrad(false);
        assertEquals(5.0, Gradients.clipGradNorm(List.of(a, frozen), 1.0), 1e-6);
        assertEquals(100f, frozen.grad().getFloat(0), "frozen gradient untouched");
        assertEquals(1.0, Gradients.globalNorm(List.of(a)), 1e-6);
        assertEquals(0.0, Gradients.clipGradNorm(List.of(), 1.0));
        assertThrows(IllegalArgumentException.class, () -> Gradients.clipGradNorm(List.of(a), 0));
        assertThrows(IllegalArgumentException.class, () -> Gradients.clipGradNorm(List.of(a), Double.NaN));
    }

    /**
     * Two half-batch backward passes through the accumulator give the same AdamW step as the full-batch mean
     * gradient (to float rounding: the sum is formed in another order).
     */
    @Test
    void accumulationEqualsTheFullBatchStep() {
        INDArray g1 = Nd4j.createFromArray(new float[][] {{0.3f, -1.2f}, {0.5f, 2.0f}});
        INDArray g2 = Nd4j.createFromArray(new float[][] {{-0.1f, 0.4f}, {1.5f, -0.6f}});
        INDArray init = Nd4j.createFromArray(new float[][] {{1f, 2f}, {3f, 4f}});

        Map<String, Parameter> full = Map.of("w", new Parameter(init.dup(), false));
        AdamW fullOpt = new AdamW(List.of(ParamGroup.of("all", full)), AdamW.Config.torchDefaults());
        full.get("w").accumulate(g1.add(g2).divi(2));
        fullOpt.step();

        Map<String, Parameter> acc = new LinkedHashMap<>(Map.of("w", new Parameter(init.dup(), false)));
        AdamW accOpt = new AdamW(List.of(ParamGroup.of("all", acc)), AdamW.Config.torchDefaults());
        GradientAccumulator accumulator = new GradientAccumulator(accOpt.parameters(), 2);
        acc.get("w").accumulate(g1);
        assertFalse(accumulator.microBatchDone());
        assertEquals(1, accumulator.pending());
        acc.get("w").accumulate(g2);
        assertTrue(accumulator.microBatchDone());
        assertEquals(0, accumulator.pending());
        Parity.assertClose("accumulate", "mean grad", g1.add(g2).divi(2), acc.get("w").grad(), 1e-7, 0);
        accOpt.step();
        accOpt.zeroGrad();
        Parity.assertClose("accumulate", "w", full.get("w").data(), acc.get("w").data(), 1e-7, 1e-8);
        assertEquals(0.0, acc.get("w").grad().norm1Number().doubleValue());

        // and the next group starts from zero again
        acc.get("w").accumulate(g1);
        assertFalse(accumulator.microBatchDone());
        acc.get("w").accumulate(g1);
        assertTrue(accumulator.microBatchDone());
        Parity.assertClose("accumulate", "second mean", g1, acc.get("w").grad(), 1e-7, 0);

        GradientAccumulator one = new GradientAccumulator(accOpt.parameters(), 1);
        assertTrue(one.microBatchDone());
        assertThrows(IllegalArgumentException.class, () -> new GradientAccumulator(List.of(), 0));
    }
}
