package io.hgkd.models.vit;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hgkd.core.nn.Module;
import io.hgkd.core.testing.GradCheck;
import io.hgkd.core.testing.TestData;
import io.hgkd.models.vit.VitConfig.GlobalPool;
import io.hgkd.models.vit.VitConfig.PosEmbedType;
import java.util.List;
import java.util.Map;
import org.apache.commons.math3.random.MersenneTwister;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/** Double-precision finite-difference checks of every hand-written ViT backward. */
class VitGradCheckTest {

    /** Every element of tensors up to 200 elements, 200 random ones of larger tensors. */
    private static Map<String, Double> check(Module m, INDArray x, long seed) {
        return check(m, x, seed, 200);
    }

    /**
     * At most {@code maxPerTensor} random elements per tensor: whole models have many tensors and each probe is a
     * full forward, so they are sampled more thinly (every tensor is still probed).
     */
    private static Map<String, Double> check(Module m, INDArray x, long seed, int maxPerTensor) {
        ModelFixtures.randomize(m, seed);
        m.to(DataType.DOUBLE);
        Map<String, Double> errors = GradCheck.check(m::forward, m::backward, m.namedParameters(), m, x, seed,
                maxPerTensor);
        m.namedParameters().forEach((k, p) -> assertTrue(!p.requiresGrad() || errors.containsKey(k),
                "parameter " + k + " was not checked"));
        return errors;
    }

    /** Tiny ViT: 8x8 image, patch 4 (2x2 grid), 2 channels, D 8, 2 heads, depth 2. */
    static VitConfig micro() {
        return VitConfig.vitTinyPatch16().withImgSize(8, 4).withInChans(2).withEmbedDim(8, 2)
                .withDepth(2).withMlpRatio(2.0);
    }

    @Test
    void attention() {
        check(new Attention(8, 2, true, 0, 0, new MersenneTwister(1)), TestData.randn(1, 2, 5, 8), 11);
    }

    @Test
    void attentionThroughGemm() {
        Attention a = new Attention(8, 2, true, 0, 0, new MersenneTwister(1));
        a.javaCoreMaxWork = 0;
        check(a, TestData.randn(1, 2, 5, 8), 11);
    }

    @Test
    void attentionWithDropoutOnProbabilitiesAndOutput() {
        MersenneTwister rng = new MersenneTwister(2);
        Attention a = new Attention(8, 2, false, 0.3, 0.2, rng);
        ModelFixtures.randomize(a, 12);
        a.to(DataType.DOUBLE);
        // reseeding before every forward makes the finite differences see one fixed dropout pattern
        GradCheck.check(x -> {
            rng.setSeed(2);
            return a.forward(x);
        }, a::backward, a.namedParameters(), a, TestData.randn(2, 2, 4, 8), 12, 200);
    }

    @Test
    void mlp() {
        check(new Mlp(8, 16, 0, new MersenneTwister(3)), TestData.randn(3, 2, 3, 8), 13);
    }

    @Test
    void block() {
        // attention and MLP are checked element by element above; here the residual and norm wiring
        check(new Block(8, 2, 16, true, 0, 0, 0, 1e-6, new MersenneTwister(4)), TestData.randn(4, 2, 5, 8), 14, 48);
    }

    @Test
    void blockWithDropPath() {
        MersenneTwister rng = new MersenneTwister(5);
        Block b = new Block(8, 2, 16, true, 0, 0, 0.5, 1e-6, rng);
        ModelFixtures.randomize(b, 15);
        b.to(DataType.DOUBLE);
        GradCheck.check(x -> {
            rng.setSeed(5);
            return b.forward(x);
        }, b::backward, b.namedParameters(), b, TestData.randn(5, 4, 3, 8), 15, 24);
    }

    @Test
    void patchEmbed() {
        check(new PatchEmbed(8, 4, 2, 6), TestData.randn(6, 2, 2, 8, 8), 16);
    }

    @Test
    void wholeVitClassTokenLearnedPosEmbedHead() {
        check(new VisionTransformer(micro().withDepth(1).withNumClasses(3)), TestData.randn(7, 2, 2, 8, 8), 17, 24);
    }

    @Test
    void wholeVitAvgPoolFcNormNoClassTokenSinCos() {
        VitConfig cfg = micro().withNumClasses(0).withGlobalPool(GlobalPool.AVG).withClassToken(false)
                .withPosEmbed(PosEmbedType.SINCOS);
        check(new VisionTransformer(cfg.withDepth(1)), TestData.randn(8, 2, 2, 8, 8), 18, 24);
    }

    @Test
    void tokensAndBlockFeatures() {
        VisionTransformer vit = new VisionTransformer(micro().withNumClasses(0));
        ModelFixtures.randomize(vit, 19);
        vit.to(DataType.DOUBLE);
        // output = [final tokens ; block 0 output] along the token axis, so one check covers both gradients
        GradCheck.check(x -> {
            VitFeatures f = vit.forwardFeatures(x, 0);
            return Nd4j.concat(1, f.tokens(), f.block(0));
        }, g -> {
            long t = g.size(1) / 2;
            INDArray gt = g.get(NDArrayIndex.all(), NDArrayIndex.interval(0, t), NDArrayIndex.all()).dup('c');
            INDArray gb = g.get(NDArrayIndex.all(), NDArrayIndex.interval(t, 2 * t), NDArrayIndex.all()).dup('c');
            return vit.backwardFeatures(gt, List.of(gb));
        }, vit.namedParameters(), vit, TestData.randn(9, 2, 2, 8, 8), 19, 12);
    }
}
