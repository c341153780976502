package io.hgkd.models.vit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hgkd.core.testing.DetRandom;
import io.hgkd.core.testing.Fixtures;
import io.hgkd.core.testing.Parity;
import io.hgkd.core.testing.TestData;
import io.hgkd.models.vit.VitConfig.GlobalPool;
import io.hgkd.models.vit.VitConfig.PosEmbedType;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The ViT against a plain-PyTorch ViT with timm's names (tools/reference/make_vit_fixtures.py): tokens, outputs,
 * input gradient and every parameter gradient, for tiny configs covering patch 4/8, learned and sin-cos position
 * embeddings, token/avg/no pooling, with and without head and class token; the full-depth vit_tiny_patch16_224 at
 * 224 px; and the no-grad (frozen teacher) path against the same references.
 */
class VitParityTest {

    /** img 32, D 64, 4 heads, depth 2: the tiny base of all fixture configs. */
    static VitConfig tiny(int patch) {
        return VitConfig.vitTinyPatch16().withImgSize(32).withPatchSize(patch).withEmbedDim(64, 4).withDepth(2);
    }

    static VisionTransformer build(VitConfig cfg, Fixtures.Case c) {
        VisionTransformer vit = new VisionTransformer(cfg);
        ModelFixtures.detInit(vit, c);
        return vit;
    }

    /** forwardTokens, forward, backward against the fixture; then the no-grad path against the same outputs. */
    private static void logitsCase(String name, VitConfig cfg) {
        Fixtures.Case c = ModelFixtures.load(name);
        VisionTransformer vit = build(cfg, c);
        INDArray x = c.get("x");
        Parity.forward(name, "tokens", c.get("tokens"), vit.forwardTokens(x));
        vit.zeroGrad();
        INDArray y = vit.forward(x);
        Parity.forward(name, "y", c.get("y"), y);
        INDArray gx = vit.backward(c.get("gy"));
        Parity.gradient(name, "gx", c.get("gx"), gx);
        ModelFixtures.compareGrads(vit, c);

        vit.setGradEnabled(false);
        Parity.forward(name, "no-grad tokens", c.get("tokens"), vit.forwardTokens(x));
        Parity.forward(name, "no-grad y", c.get("y"), vit.forward(x));
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> vit.backward(c.get("gy")));
        assertTrue(e.getMessage().contains("disabled"), e.getMessage());
    }

    @Test
    void patch4TokenPoolLearnedPosEmbedHead() {
        logitsCase("vit_p4_token_learned_head", tiny(4).withNumClasses(10));
    }

    @Test
    void patch8AvgPoolSinCosFcNormNoHead() {
        VitConfig cfg = tiny(8).withNumClasses(0).withGlobalPool(GlobalPool.AVG).withPosEmbed(PosEmbedType.SINCOS);
        logitsCase("vit_p8_avg_sincos", cfg);
        VisionTransformer vit = new VisionTransformer(cfg);
        assertTrue(vit.stateDict().containsKey("fc_norm.weight"));
        assertFalse(vit.stateDict().containsKey("norm.weight"));
    }

    @Test
    void patch8NoClassTokenNoPoolOneChannel() {
        logitsCase("vit_p8_nocls_none", tiny(8).withInChans(1).withMlpRatio(2.0).withNumClasses(5)
                .withGlobalPool(GlobalPool.NONE).withClassToken(false));
    }

    @Test
    void teacherTokensAndBlockFeatures() {
        String name = "vit_p4_teacher_features";
        Fixtures.Case c = ModelFixtures.load(name);
        VitConfig cfg = tiny(4).withNumClasses(0).withPosEmbed(PosEmbedType.SINCOS);
        VisionTransformer vit = build(cfg, c);
        vit.zeroGrad();
        VitFeatures f = vit.forwardFeatures(c.get("x"), 0);
        Parity.forward(name, "tokens", c.get("tokens"), f.tokens());
        Parity.forward(name, "block0", c.get("block0"), f.block(0));
        INDArray gx = vit.backwardFeatures(c.get("gtokens"), List.of(c.get("gblock0")));
        Parity.gradient(name, "gx", c.get("gx"), gx);
        ModelFixtures.compareGrads(vit, c);
        assertFalse(vit.posEmbed().hasGrad() && vit.posEmbed().grad().amaxNumber().doubleValue() > 0,
                "the fixed sin-cos pos_embed must not receive a gradient");

        vit.freeze();
        VitFeatures g = vit.forwardFeatures(c.get("x"), 0);
        Parity.forward(name, "no-grad tokens", c.get("tokens"), g.tokens());
        Parity.forward(name, "no-grad block0", c.get("block0"), g.block(0));
    }

    @Test
    void fullDepthVitTinyPatch16At224() {
        String name = "vit_tiny_patch16_224_full";
        Fixtures.Case c = ModelFixtures.load(name);
        VisionTransformer vit = build(VitConfig.named("vit_tiny_patch16_224").withNumClasses(0), c);
        vit.eval();
        INDArray x = DetRandom.uniform("input", c.get("salt").getLong(0), -2, 2, 2, 3, 224, 224);
        Parity.forward(name, "tokens", c.get("tokens"), vit.forwardTokens(x));
        vit.freeze();
        Parity.forward(name, "no-grad tokens", c.get("tokens"), vit.forwardTokens(x));
    }

    @Test
    void backwardMustMatchItsForward() {
        VisionTransformer vit = new VisionTransformer(tiny(8).withDepth(1).withNumClasses(3));
        INDArray x = TestData.randn(1, 1, 3, 32, 32).castTo(DataType.FLOAT);
        INDArray t = vit.forwardTokens(x).dup();
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> vit.backward(t));
        assertTrue(e.getMessage().contains("forwardTokens"), e.getMessage());
        vit.backwardTokens(t);
        // one backward per forward
        assertThrows(IllegalStateException.class, () -> vit.backwardTokens(t));
        IllegalArgumentException bad = assertThrows(IllegalArgumentException.class,
                () -> vit.forwardTokens(TestData.randn(2, 1, 3, 64, 64)));
        assertTrue(bad.getMessage().contains("imgSize 32"), bad.getMessage());
        assertThrows(IllegalArgumentException.class, () -> vit.forwardFeatures(x, 1));
        assertEquals(17, vit.forwardTokens(x).size(1));
    }
}
