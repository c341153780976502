package io.hgkd.models.mae;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hgkd.core.nn.Parameter;
import io.hgkd.core.testing.GradCheck;
import io.hgkd.core.testing.TestData;
import io.hgkd.models.vit.ModelFixtures;
import io.hgkd.models.vit.VitConfig;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Double-precision finite differences of the whole MAE loss path (masking, encoder, decoder, mask token, loss) with
 * fixed noise: every parameter and the images (through the encoder and through the target). Each probe is a whole
 * forward, so at most 12 random elements per tensor are probed.
 */
class MaeGradCheckTest {

    private static void check(boolean normPix, long seed) {
        VitConfig enc = VitConfig.vitTinyPatch16().withImgSize(8, 4).withInChans(1).withEmbedDim(8, 2)
                .withDepth(1).withMlpRatio(2.0);
        MaeConfig cfg = MaeConfig.of(enc).withDecoder(8, 1, 2).withMaskRatio(0.5).withNormPixLoss(normPix);
        MaskedAutoencoderViT mae = new MaskedAutoencoderViT(cfg);
        ModelFixtures.randomize(mae, seed);
        mae.to(DataType.DOUBLE);
        INDArray noise = Nd4j.createFromArray(new double[][] {{0.7, 0.1, 0.4, 0.9}, {0.2, 0.8, 0.6, 0.3}});
        Map<String, Double> errors = GradCheck.check(x -> Nd4j.scalar(mae.forwardMae(x, noise).loss()),
                mae::backward, mae.namedParameters(), mae, TestData.randn(seed, 2, 1, 8, 8), seed, 12);
        mae.namedParameters().forEach((k, p) -> assertTrue(!p.requiresGrad() || errors.containsKey(k), k));
    }

    /**
     * {@link MaskedAutoencoderViT#backwardParameters} (the patch embedding's parameters-only GEMM backward) against
     * finite differences of the loss, every parameter.
     */
    @Test
    void parametersOnlyBackward() {
        VitConfig enc = VitConfig.vitTinyPatch16().withImgSize(8, 4).withInChans(2).withEmbedDim(8, 2)
                .withDepth(1).withMlpRatio(2.0);
        MaeConfig cfg = MaeConfig.of(enc).withDecoder(8, 1, 2).withMaskRatio(0.5).withNormPixLoss(true);
        MaskedAutoencoderViT mae = new MaskedAutoencoderViT(cfg);
        ModelFixtures.randomize(mae, 33);
        mae.to(DataType.DOUBLE);
        INDArray noise = Nd4j.createFromArray(new double[][] {{0.7, 0.1, 0.4, 0.9}, {0.2, 0.8, 0.6, 0.3}});
        INDArray x = TestData.randn(33, 2, 2, 8, 8).castTo(DataType.DOUBLE);
        mae.zeroGrad();
        mae.forwardMae(x, noise);
        mae.backwardParameters(1.0);
        int checked = 0;
        for (Map.Entry<String, Parameter> e : mae.namedParameters().entrySet()) {
            Parameter p = e.getValue();
            if (!p.requiresGrad()) {
                continue;
            }
            INDArray analytic = p.grad().dup();
            GradCheck.checkScalar("params_only." + e.getKey(), p.data(), analytic,
                    unused -> mae.forwardMae(x, noise).loss());
            checked++;
        }
        assertTrue(checked > 10, "checked " + checked + " parameters");
    }

    @Test
    void lossPathWithNormPixLoss() {
        check(true, 31);
    }

    @Test
    void lossPathWithRawPixels() {
        check(false, 32);
    }
}
