package io.hgkd.models.student;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.hgkd.core.nn.Conv2d;
import io.hgkd.core.nn.Init;
import io.hgkd.core.nn.Module;
import io.hgkd.core.nn.Parameter;
import io.hgkd.core.sparse.ActiveMask;
import io.hgkd.core.sparse.SparseBatchNorm2d;
import io.hgkd.core.testing.GradCheck;
import io.hgkd.core.testing.TestData;
import io.hgkd.models.resnet.ResNetConfig;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.commons.math3.random.MersenneTwister;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/** Double-precision finite-difference checks of densify, a UNet block, the decoder and a tiny whole student. */
class SparkStudentGradCheckTest {

    private static void randomize(Module m, long seed) {
        MersenneTwister rng = new MersenneTwister(seed);
        m.namedParameters().forEach((k, p) -> {
            INDArray d = p.data();
            if (d.rank() == 1 && k.endsWith("weight")) {
                Init.uniform(d, 0.5, 1.5, rng);
            } else if (d.rank() == 1) {
                Init.uniform(d, -0.2, 0.2, rng);
            } else if (d.rank() == 4 && d.size(0) == 1 && d.size(2) == 1) {
                Init.uniform(d, -0.5, 0.5, rng); // mask tokens: larger than their ±0.02 init
            }
        });
    }

    private static ActiveMask mask() {
        return ActiveMask.of(new boolean[][] {{true, false, true, true}, {false, true, false, false}}, 2, 2);
    }

    @Test
    void densifyStep() {
        // sparse BN -> mask-token fill -> 3x3 projection, one scale, as SparkStudent wires it
        SparseBatchNorm2d norm = new SparseBatchNorm2d(3);
        MaskTokens tokens = new MaskTokens(new int[] {3}, new MersenneTwister(1));
        Conv2d proj = new Conv2d(3, 4, 3, 1, 1, true);
        Map<String, Parameter> params = new LinkedHashMap<>();
        Map<String, Module> modules = new LinkedHashMap<>();  // ordered, so the report lists the tensors stably
        modules.put("norm", norm);
        modules.put("tokens", tokens);
        modules.put("proj", proj);
        for (Map.Entry<String, Module> e : modules.entrySet()) {
            e.getValue().to(DataType.DOUBLE);
            randomize(e.getValue(), 2);
            e.getValue().namedParameters().forEach((k, p) -> params.put(e.getKey() + "." + k, p));
        }
        ActiveMask m = mask();
        INDArray x = TestData.randn(3, 2, 3, 4, 4).muli(m.at(4, 4, DataType.DOUBLE));
        Map<String, Double> err = GradCheck.check(
                z -> proj.forward(tokens.fill(0, norm.forward(z, m), m)),
                g -> norm.backward(tokens.backwardFill(0, proj.backward(g))),
                params, null, x, 4, 60);
        assertEquals(1 + params.size(), err.size(), err.keySet().toString());
    }

    @Test
    void unetBlock() {
        UNetBlock b = new UNetBlock(3, 2);
        randomize(b, 5);
        b.to(DataType.DOUBLE);
        Map<String, Double> err = GradCheck.check(b::forward, b::backward, b.namedParameters(), b,
                TestData.randn(6, 2, 3, 3, 3), 7, 30);
        assertEquals(1 + b.namedParameters().size(), err.size());
    }

    @Test
    void lightDecoderWithExtraFullResolutionScale() {
        LightDecoder d = new LightDecoder(4, 4, 0); // 2 blocks, 3 scales: the small-stem extension
        d.to(DataType.DOUBLE);
        randomize(d, 8);
        INDArray s0 = TestData.randn(9, 2, 4, 2, 2);
        INDArray s1 = TestData.randn(10, 2, 2, 4, 4);
        INDArray s2 = TestData.randn(11, 2, 1, 8, 8);
        // the gradient of each skip in turn, with the other scales fixed
        Map<String, Double> err = GradCheck.check(z -> d.forward(List.of(s0, z, s2)),
                g -> d.backwardScales(g).get(1), d.namedParameters(), d, s1, 12, 30);
        assertEquals(1 + d.namedParameters().size(), err.size());
        GradCheck.check(z -> d.forward(List.of(z, s1, s2)), g -> d.backwardScales(g).get(0), Map.of(), null, s0, 13,
                30);
        GradCheck.check(z -> d.forward(List.of(s0, s1, z)), g -> d.backwardScales(g).get(2), Map.of(), null, s2, 14,
                30);
    }

    /** Both heads' outputs flattened into one vector. */
    private static Map<String, Double> checkStudent(SparkStudent s, ActiveMask m, INDArray x, long seed) {
        s.to(DataType.DOUBLE);
        long[][] shapes = new long[2][];
        return GradCheck.check(z -> {
            StudentOutput o = s.forward(z, m);
            shapes[0] = o.pixels().shape();
            shapes[1] = o.features().shape();
            return Nd4j.hstack(o.pixels().reshape(1, o.pixels().length()),
                    o.features().reshape(1, o.features().length()));
        }, g -> {
            long np = Nd4j.create(shapes[0]).length();
            INDArray gp = g.get(NDArrayIndex.point(0), NDArrayIndex.interval(0, np)).dup().reshape(shapes[0]);
            INDArray gf = g.get(NDArrayIndex.point(0), NDArrayIndex.interval(np, g.length())).dup()
                    .reshape(shapes[1]);
            return s.backward(gp, gf);
        }, s.namedParameters(), s, x, seed, 2);
    }

    @Test
    void tinyWholeStudentSparse() {
        ResNetConfig enc = new ResNetConfig(ResNetConfig.Block.BASIC, new int[] {1, 1, 1, 1}, 2, 0,
                ResNetConfig.Stem.SMALL, 2, 0.0, false, 3);
        SparkStudent s = new SparkStudent(new StudentConfig(enc, 16, 8, true, 4, 3));
        randomize(s, 12);
        ActiveMask m = mask();
        INDArray x = TestData.randn(13, 2, 2, 16, 16);
        Map<String, Double> err = checkStudent(s, m, x, 14);
        assertEquals(1 + s.namedParameters().size(), err.size());
    }
}
