package io.hgkd.models.vit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hgkd.core.nn.Parameter;
import io.hgkd.core.testing.TestData;
import io.hgkd.models.vit.VitConfig.GlobalPool;
import io.hgkd.models.vit.VitConfig.InitMode;
import io.hgkd.models.vit.VitConfig.PosEmbedType;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * timm-style checks over the named variants (depth 1, small images): output shape, no NaN, a non-zero gradient for
 * every trainable parameter; the exact ViT-B key set; config validation; both initialisations.
 */
class VitVariantsTest {

    private static void smoke(VitConfig cfg, long seed) {
        VisionTransformer vit = new VisionTransformer(cfg);
        int img = cfg.imgSize();
        INDArray x = TestData.randn(seed, 2, cfg.inChans(), img, img).castTo(DataType.FLOAT);
        INDArray y = vit.forward(x);
        long[] expected = switch (cfg.globalPool()) {
            case NONE -> new long[] {2, cfg.numPrefixTokens() + cfg.numPatches(),
                    cfg.numClasses() > 0 ? cfg.numClasses() : cfg.embedDim()};
            default -> new long[] {2, cfg.numClasses() > 0 ? cfg.numClasses() : cfg.embedDim()};
        };
        String name = cfg.toString();
        assertArrayEquals(expected, y.shape(), name);
        assertFalse(y.isNaN().any() || y.isInfinite().any(), name + ": non-finite output");
        INDArray gx = vit.backward(TestData.randn(seed + 1, y.shape()).castTo(DataType.FLOAT));
        assertFalse(gx.isNaN().any(), name + ": NaN input gradient");
        for (Map.Entry<String, Parameter> e : vit.namedParameters().entrySet()) {
            Parameter p = e.getValue();
            if (!p.requiresGrad()) {
                assertEquals("pos_embed", e.getKey(), "only a sin-cos pos_embed is frozen");
                assertFalse(p.hasGrad() && p.grad().amaxNumber().doubleValue() > 0, "fixed pos_embed got a gradient");
                continue;
            }
            assertTrue(p.hasGrad(), name + ": no gradient for " + e.getKey());
            double g = p.grad().amaxNumber().doubleValue();
            assertTrue(g > 0 && Double.isFinite(g), name + ": gradient of " + e.getKey() + " is " + g);
        }
    }

    @Test
    void everyNamedVariantAtDepthOne() {
        for (String name : VitConfig.VARIANTS) {
            VitConfig base = VitConfig.named(name);
            int p = base.patchSize();
            // depth 1, a 2x2 patch grid, 7 classes: exercises the real widths and head counts cheaply
            smoke(base.withDepth(1).withImgSize(2 * p).withNumClasses(7), name.hashCode());
        }
    }

    @Test
    void optionsOnATinyModel() {
        VitConfig t = VitConfig.vitTinyPatch16().withImgSize(32, 4).withEmbedDim(64, 4).withDepth(2);
        smoke(t.withNumClasses(0), 1);
        smoke(t.withNumClasses(0).withGlobalPool(GlobalPool.AVG).withPosEmbed(PosEmbedType.SINCOS)
                .withInit(InitMode.MAE), 2);
        smoke(t.withGlobalPool(GlobalPool.NONE).withClassToken(false).withInChans(1), 3);
        smoke(t.withImgSize(64, 8).withQkvBias(false).withMlpRatio(3.0).withDropRate(0.1).withAttnDropRate(0.1)
                .withDropPathRate(0.2), 4);
    }

    /** timm / MAE ViT-B keys from method.md §4.4: cls_token, pos_embed, patch_embed, 12 blocks of 12, norm. */
    private static Map<String, long[]> vitBaseKeys() {
        Map<String, long[]> k = new LinkedHashMap<>();
        k.put("cls_token", new long[] {1, 1, 768});
        k.put("pos_embed", new long[] {1, 197, 768});
        k.put("patch_embed.proj.weight", new long[] {768, 3, 16, 16});
        k.put("patch_embed.proj.bias", new long[] {768});
        for (int i = 0; i < 12; i++) {
            String b = "blocks." + i + ".";
            k.put(b + "norm1.weight", new long[] {768});
            k.put(b + "norm1.bias", new long[] {768});
            k.put(b + "attn.qkv.weight", new long[] {2304, 768});
            k.put(b + "attn.qkv.bias", new long[] {2304});
            k.put(b + "attn.proj.weight", new long[] {768, 768});
            k.put(b + "attn.proj.bias", new long[] {768});
            k.put(b + "norm2.weight", new long[] {768});
            k.put(b + "norm2.bias", new long[] {768});
            k.put(b + "mlp.fc1.weight", new long[] {3072, 768});
            k.put(b + "mlp.fc1.bias", new long[] {3072});
            k.put(b + "mlp.fc2.weight", new long[] {768, 3072});
            k.put(b + "mlp.fc2.bias", new long[] {768});
        }
        k.put("norm.weight", new long[] {768});
        k.put("norm.bias", new long[] {768});
        return k;
    }

    @Test
    void vitBaseHasExactlyTheMaeKeys() {
        // MAE init (uniform draws) builds faster than timm's trunc-normal one; the keys do not depend on it
        VisionTransformer vit = new VisionTransformer(VitConfig.named("vit_base_patch16_224").withNumClasses(0)
                .withPosEmbed(PosEmbedType.SINCOS).withInit(InitMode.MAE));
        Map<String, INDArray> sd = vit.stateDict();
        Map<String, long[]> expected = vitBaseKeys();
        assertEquals(150, expected.size());
        assertEquals(new ArrayList<>(expected.keySet()), new ArrayList<>(sd.keySet()));
        expected.forEach((k, shape) -> assertArrayEquals(shape, sd.get(k).shape(), k));
        assertEquals(85_798_656L, vit.numParameters(), "timm vit_base_patch16_224 without head");
        // with the default 1000-class head: two more keys
        VitConfig withHead = VitConfig.vitBasePatch16().withDepth(1);
        List<String> keys = new ArrayList<>(new VisionTransformer(withHead).stateDict().keySet());
        assertEquals(List.of("head.weight", "head.bias"), keys.subList(keys.size() - 2, keys.size()));
    }

    @Test
    void configValidationNamesTheField() {
        VitConfig b = VitConfig.vitSmallPatch16();
        Map<String, Supplier<VitConfig>> bad = new LinkedHashMap<>();
        bad.put("imgSize", () -> b.withImgSize(0));
        bad.put("not divisible by patchSize", () -> b.withImgSize(100));
        bad.put("not divisible by numHeads", () -> b.withEmbedDim(384, 5));
        bad.put("mlpRatio", () -> b.withMlpRatio(0));
        bad.put("numClasses", () -> b.withNumClasses(-1));
        bad.put("classToken", () -> b.withClassToken(false));
        bad.put("posEmbed SINCOS", () -> b.withEmbedDim(390, 6).withPosEmbed(PosEmbedType.SINCOS));
        bad.put("dropRate", () -> b.withDropRate(1.0));
        bad.put("attnDropRate", () -> b.withAttnDropRate(-0.1));
        bad.put("dropPathRate", () -> b.withDropPathRate(1.5));
        bad.put("lnEps", () -> b.withLnEps(0));
        bad.put("depth", () -> b.withDepth(0));
        bad.put("globalPool must be one of", () -> b.withGlobalPool("max"));
        bad.put("unknown ViT variant", () -> VitConfig.named("vit_giant_patch14_224"));
        bad.forEach((field, make) -> {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, make::get, field);
            assertTrue(e.getMessage().contains(field), "message '" + e.getMessage() + "' should name " + field);
        });
        assertEquals(GlobalPool.NONE, VitConfig.GlobalPool.parse(""));
        assertEquals(196, VitConfig.vitBasePatch16().numPatches());
        assertEquals(256, VitConfig.named("vit_huge_patch14_224").numPatches());
        assertEquals(80, VitConfig.named("vit_huge_patch14_224").headDim());
    }

    private static double std(INDArray a) {
        return a.castTo(DataType.DOUBLE).stdNumber().doubleValue();
    }

    @Test
    void maeAndTimmInitialisation() {
        VitConfig cfg = VitConfig.vitSmallPatch16().withImgSize(64).withDepth(1).withNumClasses(0);
        VisionTransformer mae = new VisionTransformer(cfg.withPosEmbed(PosEmbedType.SINCOS).withInit(InitMode.MAE));
        Map<String, INDArray> s = mae.stateDict();
        assertEquals(PosEmbed.sincos2d(384, 4, true).reshape(1, 17, 384), s.get("pos_embed"));
        assertEquals(0.02, std(s.get("cls_token")), 0.004);
        // xavier uniform: qkv [1152, 384] bound sqrt(6 / 1536); patch embed viewed as [384, 768]: sqrt(6 / 1152)
        assertEquals(Math.sqrt(6.0 / 1536) / Math.sqrt(3), std(s.get("blocks.0.attn.qkv.weight")), 2e-3);
        assertTrue(s.get("blocks.0.attn.qkv.weight").amaxNumber().doubleValue() <= Math.sqrt(6.0 / 1536));
        assertEquals(Math.sqrt(6.0 / 1152) / Math.sqrt(3), std(s.get("patch_embed.proj.weight")), 2e-3);
        assertEquals(0.0, s.get("blocks.0.mlp.fc1.bias").amaxNumber().doubleValue());
        assertEquals(1.0, s.get("blocks.0.norm1.weight").minNumber().doubleValue());
        assertFalse(mae.posEmbed().requiresGrad());

        VisionTransformer timm = new VisionTransformer(cfg);
        Map<String, INDArray> t = timm.stateDict();
        assertEquals(0.02, std(t.get("pos_embed")), 1e-3);
        assertEquals(1e-6, std(t.get("cls_token")), 3e-7);
        assertEquals(0.02, std(t.get("blocks.0.mlp.fc2.weight")), 1e-3);
        assertEquals(0.0, t.get("blocks.0.attn.proj.bias").amaxNumber().doubleValue());
        assertTrue(timm.posEmbed().requiresGrad());
        // same seed, same weights; another seed, other weights
        assertEquals(t, new VisionTransformer(cfg).stateDict());
        assertFalse(t.get("blocks.0.mlp.fc2.weight").equals(
                new VisionTransformer(cfg.withSeed(1)).stateDict().get("blocks.0.mlp.fc2.weight")));
    }

    @Test
    void dropPathRisesLinearlyAndNoGradRefusesStochasticTraining() {
        VitConfig cfg = VitConfig.vitTinyPatch16().withImgSize(32).withDepth(5).withDropPathRate(0.2);
        VisionTransformer vit = new VisionTransformer(cfg);
        assertEquals(0.0, vit.blocks().get(0).dropPathRate(), 0);
        assertEquals(0.1, vit.blocks().get(2).dropPathRate(), 1e-12);
        assertEquals(0.2, vit.blocks().get(4).dropPathRate(), 1e-12);
        vit.setGradEnabled(false);
        INDArray x = TestData.randn(1, 1, 3, 32, 32).castTo(DataType.FLOAT);
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> vit.forwardTokens(x));
        assertTrue(e.getMessage().contains("eval()"), e.getMessage());
        vit.eval();
        assertArrayEquals(new long[] {1, 5, 192}, vit.forwardTokens(x).shape());
    }
}
