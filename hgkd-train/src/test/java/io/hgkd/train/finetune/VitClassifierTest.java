package io.hgkd.train.finetune;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hgkd.core.nn.Parameter;
import io.hgkd.core.testing.GradCheck;
import io.hgkd.core.testing.TestData;
import io.hgkd.models.vit.VisionTransformer;
import io.hgkd.models.vit.VitConfig;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.NDArrayIndex;

/** The ViT classifier on mean-pooled final tokens: gradients, pooling, teacher-layout keys, MAE layer ids. */
class VitClassifierTest {

    /** 8x8 images, patch 4 (4 tokens + class token), 2 channels, D 8, depth 2. */
    static VitConfig micro() {
        return VitConfig.vitTinyPatch16().withImgSize(8, 4).withInChans(2).withEmbedDim(8, 2).withDepth(2)
                .withMlpRatio(2.0).withNumClasses(0);
    }

    @Test
    void backwardMatchesFiniteDifferences() {
        // one block: the ViT's own backward is checked in VitGradCheckTest; this checks the pooling and head
        VitClassifier m = new VitClassifier(micro().withDepth(1), 3, 5);
        Random r = new Random(3);
        for (Parameter p : m.parameters()) {
            if (p.requiresGrad()) {
                p.data().assign(TestData.randn(r.nextLong(), p.data().shape()).muli(0.3));
            }
        }
        m.to(DataType.DOUBLE);
        Map<String, Double> errors = GradCheck.check(m::forward, m::backward, m.namedParameters(), m,
                TestData.randn(7, 2, 2, 8, 8), 9, 16);
        errors.forEach((k, v) -> assertTrue(v < GradCheck.MAX_REL_ERROR, k + ": " + v));
        m.namedParameters().forEach((k, p) -> assertTrue(!p.requiresGrad() || errors.containsKey(k), k));
    }

    @Test
    void logitsAreTheHeadOfTheMeanOfTheNormalisedPatchTokens() {
        VitClassifier m = new VitClassifier(micro(), 3, 5);
        m.eval();
        INDArray x = TestData.randn(4, 2, 2, 8, 8).castTo(DataType.FLOAT);
        VisionTransformer plain = new VisionTransformer(micro());
        plain.loadStateDict(m.encoderStateDict(), true);
        plain.eval();
        INDArray t = plain.forwardTokens(x).dup();
        INDArray manual = t.get(NDArrayIndex.all(), NDArrayIndex.interval(1, 5), NDArrayIndex.all()).sum(1).div(4)
                .mmul(m.head().weight().data().transpose()).addRowVector(m.head().bias().data());
        assertTrue(manual.equalsWithEps(m.forward(x), 1e-5), "class token excluded, final norm included");
    }

    @Test
    void encoderKeysAreTheTeachersLayout() {
        VitClassifier m = new VitClassifier(micro(), 3, 5);
        assertEquals(new VisionTransformer(micro()).stateDict().keySet(), m.encoderStateDict().keySet());
        assertTrue(m.stateDict().containsKey("head.weight"));
        assertTrue(m.stateDict().containsKey("encoder.blocks.1.mlp.fc2.weight"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> m.loadEncoder(Map.of("cls_token", m.encoderStateDict().get("cls_token")), "partial.safetensors"));
        assertTrue(e.getMessage().contains("partial.safetensors") && e.getMessage().contains("pos_embed"),
                e.getMessage());
    }

    @Test
    void layerIdsFollowMae() {
        VitLayerIds ids = new VitLayerIds(2, VitClassifier.ENCODER_PREFIX);
        assertEquals(0, ids.layerId("encoder.cls_token"));
        assertEquals(0, ids.layerId("encoder.pos_embed"));
        assertEquals(0, ids.layerId("encoder.patch_embed.proj.weight"));
        assertEquals(1, ids.layerId("encoder.blocks.0.attn.qkv.weight"));
        assertEquals(2, ids.layerId("encoder.blocks.1.norm2.bias"));
        assertEquals(3, ids.layerId("encoder.norm.weight"));
        assertEquals(3, ids.layerId("head.weight"));
        assertThrows(IllegalArgumentException.class, () -> ids.layerId("encoder.blocks.2.norm1.weight"));
        // MAE: scale = 0.75^(num_layers - id) with num_layers = depth + 1 = 3
        var ld = ids.layerDecay(0.75);
        assertEquals(Math.pow(0.75, 3), ld.scaleOf(ld.idOf("encoder.patch_embed.proj.weight")), 1e-12);
        assertEquals(Math.pow(0.75, 1), ld.scaleOf(ld.idOf("encoder.blocks.1.mlp.fc1.weight")), 1e-12);
        assertEquals(1.0, ld.scaleOf(ld.idOf("head.bias")), 0.0);
        List<String> names = List.copyOf(new VitClassifier(micro(), 3, 5).namedParameters().keySet());
        names.forEach(ld::idOf); // every parameter has an id in range
    }
}
