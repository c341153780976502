package io.hgkd.core.optim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import io.hgkd.core.nn.Parameter;

/**
 * The fused FLOAT loops (blocked through work arrays, split into parallel chunks) against the ND4J op chain they
 * replace, on parameters long enough to span several chunks and blocks with a ragged end: the ND4J chain runs when a
 * parameter is a non-dense view. Both must agree bit for bit. LAMB runs without weight decay, so that its trust
 * ratio is 1 on both sides: with it, the ratio's norms come from ND4J's float32 norm2 on one side and from double sums
 * on the other (a few 1e-6 apart on 78K elements, before and after the blocking); the parity fixtures cover it.
 */
class FusedPathTest {
    private static final int N = 2 * Fused.CHUNK + 3 * Fused.BLOCK + 37;

    /** The same values as a dense array and as a strided (non-dense) view. */
    private static Parameter[] twins(long seed, boolean noDecay) {
        Random r = new Random(seed);
        float[] v = new float[N];
        for (int i = 0; i < N; i++) {
            v[i] = (float) (r.nextGaussian() * 0.1);
        }
        INDArray dense = Nd4j.create(v, new long[] {N}, DataType.FLOAT);
        INDArray view = Nd4j.create(DataType.FLOAT, N, 2).getColumn(0);
        view.assign(dense);
        assertTrue(Fused.floats(dense) != null && Fused.floats(view) == null, "one fused, one ND4J");
        return new Parameter[] {new Parameter(dense, noDecay), new Parameter(view, noDecay)};
    }

    private static float[] values(INDArray a) {
        return a.dup('c').data().asFloat();
    }

    private static void compare(Function<List<ParamGroup>, Optimizer> make) {
        Parameter[] w = twins(1, false);
        Parameter[] b = twins(2, true);
        Optimizer fused = make.apply(List.of(ParamGroup.of("g", Map.of("w", w[0], "b", b[0]))));
        Optimizer nd4j = make.apply(List.of(ParamGroup.of("g", Map.of("w", w[1], "b", b[1]))));
        Random r = new Random(3);
        for (int step = 0; step < 3; step++) {
            for (Parameter[] p : new Parameter[][] {w, b}) {
                float[] g = new float[N];
                for (int i = 0; i < N; i++) {
                    // global norm below LAMB's clip at 5, whose factor would come from either side's norm too
                    g[i] = (float) (r.nextGaussian() * 0.003 * (step + 1));
                }
                INDArray ga = Nd4j.create(g, new long[] {N}, DataType.FLOAT);
                p[0].grad().assign(ga);
                p[1].grad().assign(ga);
            }
            fused.step();
            nd4j.step();
            assertArrayEquals(values(w[1].data()), values(w[0].data()), "weight, step " + step);
            assertArrayEquals(values(b[1].data()), values(b[0].data()), "bias, step " + step);
        }
    }

    @Test
    void adamwFusedIsBitIdenticalToNd4j() {
        compare(g -> new AdamW(g, AdamW.Config.torchDefaults().withLr(1e-2).withWeightDecay(0.05)));
    }

    @Test
    void lambFusedWithoutTrustRatioIsBitIdenticalToNd4j() {
        compare(g -> new Lamb(g, Lamb.Config.sparkPretrain(0.02, 0.0)));
    }
}
