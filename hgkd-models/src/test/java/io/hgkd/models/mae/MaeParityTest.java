package io.hgkd.models.mae;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hgkd.core.nn.LoadReport;
import io.hgkd.core.testing.Fixtures;
import io.hgkd.core.testing.Parity;
import io.hgkd.core.testing.TestData;
import io.hgkd.models.vit.ModelFixtures;
import io.hgkd.models.vit.VisionTransformer;
import io.hgkd.models.vit.VitConfig;
import java.util.ArrayList;
import java.util.List;
import org.apache.commons.math3.random.MersenneTwister;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * MAE against a plain-PyTorch {@code models_mae.MaskedAutoencoderViT} (tools/reference/make_vit_fixtures.py) with
 * explicit noise: loss, pred, mask, ids_restore, the image gradient and the gradient of every parameter; plus the
 * masking semantics, the key names and the encoder hand-off to a VisionTransformer.
 */
class MaeParityTest {

    static MaeConfig tinyNormPix() {
        VitConfig enc = VitConfig.vitTinyPatch16().withImgSize(32).withPatchSize(4).withEmbedDim(64, 4).withDepth(2);
        return MaeConfig.of(enc).withDecoder(32, 1, 4);
    }

    static MaeConfig tinyRawPix() {
        VitConfig enc = VitConfig.vitTinyPatch16().withImgSize(32).withPatchSize(8).withInChans(1).withEmbedDim(32, 2)
                .withDepth(1);
        return MaeConfig.of(enc).withDecoder(16, 2, 2).withMaskRatio(0.6).withNormPixLoss(false);
    }

    private static void check(String name, MaeConfig cfg) {
        Fixtures.Case c = ModelFixtures.load(name);
        MaskedAutoencoderViT mae = new MaskedAutoencoderViT(cfg);
        ModelFixtures.detInit(mae, c);
        mae.zeroGrad();
        MaeOutput out = mae.forwardMae(c.get("x"), c.get("noise"));
        Parity.exact(name, "ids_restore", c.get("ids_restore"), out.idsRestore());
        Parity.exact(name, "mask", c.get("mask"), out.mask());
        Parity.forward(name, "pred", c.get("pred"), out.pred());
        Parity.forward(name, "loss", c.get("loss"), Nd4j.createFromArray((float) out.loss()));
        Parity.gradient(name, "gx", c.get("gx"), mae.backward());
        ModelFixtures.compareGrads(mae, c);
    }

    /** {@link MaskedAutoencoderViT#backwardParameters} (no image gradient) against PyTorch's parameter gradients. */
    private static void checkParametersOnly(String name, MaeConfig cfg) {
        Fixtures.Case c = ModelFixtures.load(name);
        MaskedAutoencoderViT mae = new MaskedAutoencoderViT(cfg);
        ModelFixtures.detInit(mae, c);
        mae.zeroGrad();
        MaeOutput out = mae.forwardMae(c.get("x"), c.get("noise"));
        Parity.forward(name, "loss", c.get("loss"), Nd4j.createFromArray((float) out.loss()));
        mae.backwardParameters(1.0);
        ModelFixtures.compareGrads(mae, c);
    }

    @Test
    void tinyWithNormPixLoss() {
        check("mae_tiny_normpix", tinyNormPix());
    }

    @Test
    void parametersOnlyBackward() {
        checkParametersOnly("mae_tiny_normpix", tinyNormPix());
        checkParametersOnly("mae_tiny_rawpix", tinyRawPix());
    }

    @Test
    void tinyWithRawPixelsOneChannelDeeperDecoder() {
        check("mae_tiny_rawpix", tinyRawPix());
    }

    @Test
    void maskingFollowsMae() {
        // noise order: patch 2 smallest, then 0, 3, 1 -> keep int(4 * 0.5) = 2 patches: 2 and 0
        INDArray noise = Nd4j.createFromArray(new float[][] {{0.3f, 0.9f, 0.1f, 0.5f}});
        RandomMasking m = RandomMasking.fromNoise(noise, 0.5);
        assertEquals(2, m.lenKeep());
        assertEquals(List.of(2, 0, 3, 1), java.util.Arrays.stream(m.idsShuffle()[0]).boxed().toList());
        assertEquals(List.of(1, 3, 0, 2), java.util.Arrays.stream(m.idsRestore()[0]).boxed().toList());
        assertEquals(Nd4j.createFromArray(new float[][] {{0, 1, 0, 1}}), m.mask(DataType.FLOAT));
        // len_keep = int(L * (1 - r)) truncates: 196 * 0.25 = 49, 10 * 0.25 = 2.5 -> 2
        assertEquals(49, MaeConfig.lenKeep(196, 0.75));
        assertEquals(2, MaeConfig.lenKeep(10, 0.75));
        RandomMasking r = RandomMasking.random(3, 196, 0.75, new MersenneTwister(1));
        for (int b = 0; b < 3; b++) {
            int masked = 0;
            for (int l = 0; l < 196; l++) {
                masked += r.isMasked(b, l) ? 1 : 0;
            }
            assertEquals(147, masked);
        }
    }

    @Test
    void keyNamesAreMaesAndTheEncoderLoadsIntoAVit() {
        MaeConfig cfg = tinyNormPix();
        MaskedAutoencoderViT mae = new MaskedAutoencoderViT(cfg);
        List<String> expected = new ArrayList<>(List.of("cls_token", "pos_embed", "mask_token", "decoder_pos_embed",
                "patch_embed.proj.weight", "patch_embed.proj.bias"));
        for (int i = 0; i < 2; i++) {
            expected.addAll(blockKeys("blocks." + i));
        }
        expected.addAll(List.of("norm.weight", "norm.bias", "decoder_embed.weight", "decoder_embed.bias"));
        expected.addAll(blockKeys("decoder_blocks.0"));
        expected.addAll(List.of("decoder_norm.weight", "decoder_norm.bias", "decoder_pred.weight",
                "decoder_pred.bias"));
        assertEquals(expected, new ArrayList<>(mae.stateDict().keySet()));
        assertEquals(List.of(1L, 65L, 64L), java.util.Arrays.stream(mae.stateDict().get("pos_embed").shape())
                .boxed().toList());
        assertEquals(List.of(48L, 32L), java.util.Arrays.stream(mae.stateDict().get("decoder_pred.weight").shape())
                .boxed().toList());

        // the encoder's keys are exactly a head-less ViT's, and the loaded ViT computes the MAE encoder on a full image
        VisionTransformer vit = new VisionTransformer(cfg.encoder());
        LoadReport report = vit.loadStateDict(mae.encoderStateDict(), true);
        assertTrue(report.isClean(), report.toString());
        assertEquals(vit.stateDict().keySet(), mae.encoderStateDict().keySet());
        assertEquals(mae.stateDict().get("blocks.1.mlp.fc2.weight"), vit.stateDict().get("blocks.1.mlp.fc2.weight"));
    }

    @Test
    void seededNoiseAndValidation() {
        MaeConfig cfg = tinyRawPix();
        MaskedAutoencoderViT a = new MaskedAutoencoderViT(cfg);
        MaskedAutoencoderViT b = new MaskedAutoencoderViT(cfg);
        INDArray x = TestData.randn(3, 2, 1, 32, 32).castTo(DataType.FLOAT);
        MaeOutput oa = a.forwardMae(x);
        MaeOutput ob = b.forwardMae(x);
        assertEquals(oa.loss(), ob.loss(), 0.0, "same seed, same noise and weights");
        assertEquals(oa.idsRestore(), ob.idsRestore());
        assertTrue(Double.isFinite(oa.loss()) && oa.loss() > 0);
        MaeOutput oa2 = a.forwardMae(x);
        assertTrue(!oa2.idsRestore().equals(oa.idsRestore()), "the generator advances between steps");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> a.forwardMae(x, Nd4j.rand(DataType.FLOAT, 2, 15)));
        assertTrue(e.getMessage().contains("(2, 16)"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> cfg.withMaskRatio(1e-17));
        assertTrue(e.getMessage().contains("masks no patch"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> cfg.withMaskRatio(0));
        assertTrue(e.getMessage().contains("maskRatio"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> cfg.withDecoder(30, 1, 4));
        assertTrue(e.getMessage().contains("decoderEmbedDim"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> cfg.withEncoder(cfg.encoder().withPosEmbed(VitConfig.PosEmbedType.LEARNED)));
        assertTrue(e.getMessage().contains("encoder.posEmbed"), e.getMessage());
        assertThrows(IllegalStateException.class, () -> new MaskedAutoencoderViT(cfg).backward());
        assertEquals(MaeConfig.named("mae_vit_base_patch16").encoder().embedDim(), 768);
    }

    static List<String> blockKeys(String p) {
        List<String> out = new ArrayList<>();
        for (String s : List.of("norm1", "attn.qkv", "attn.proj", "norm2", "mlp.fc1", "mlp.fc2")) {
            out.add(p + "." + s + ".weight");
            out.add(p + "." + s + ".bias");
        }
        return out;
    }
}
