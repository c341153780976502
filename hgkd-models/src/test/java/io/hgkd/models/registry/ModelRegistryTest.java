package io.hgkd.models.registry;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hgkd.core.nn.Parameter;
import io.hgkd.core.testing.TestData;
import io.hgkd.models.mae.MaskedAutoencoderViT;
import io.hgkd.models.resnet.ResNetConfig;
import io.hgkd.models.vit.VitConfig;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * timm-style every-model test over the registry: each registered name builds (depth-reduced for ViTs so the suite
 * stays fast), runs forward and backward on a tiny input, gives the expected shape, no NaN, and a non-zero gradient to
 * every trainable parameter.
 */
class ModelRegistryTest {
    static List<String> names() {
        return ModelRegistry.names();
    }

    /** Small, fast overrides per family; ResNets without zero-init-last, which would zero block-internal gradients. */
    private static Map<String, String> tiny(String name) {
        Map<String, String> o = new LinkedHashMap<>();
        switch (ModelRegistry.family(name)) {
            case RESNET -> {
                o.put("num_classes", "7");
                o.put("zero_init_last", "false");
                o.put("base_width", "8"); // full widths are covered by ResNetSmokeTest
            }
            case VIT -> {
                o.put("depth", "1");
                o.put("img_size", name.contains("patch14") ? "28" : "32");
                o.put("num_classes", "7");
            }
            case MAE -> {
                o.put("depth", "1");
                o.put("img_size", name.contains("patch14") ? "28" : "32");
                o.put("decoder_depth", "1");
            }
        }
        return o;
    }

    @ParameterizedTest
    @MethodSource("names")
    void everyModelRunsForwardAndBackward(String name) {
        CreatedModel m = ModelRegistry.create(name, tiny(name));
        assertEquals(name, m.name());
        m.model().train(true);
        int size = m.cfg().inputSize()[1] == 224 ? 64 : m.cfg().inputSize()[1];
        long batch = name.equals("resnet101") || name.equals("resnet152") ? 1 : 2;
        INDArray x = TestData.randn(1, batch, 3, size, size).castTo(DataType.FLOAT);
        if (m.model() instanceof MaskedAutoencoderViT mae) {
            double loss = mae.forwardMae(x).loss();
            assertTrue(Double.isFinite(loss) && loss > 0, name + " loss " + loss);
            mae.backward();
        } else {
            INDArray y = m.model().forward(x);
            assertArrayEquals(new long[] {batch, 7}, y.shape(), name);
            assertFalse(y.isNaN().any(), name + " produced NaN");
            m.model().backward(TestData.randn(2, batch, 7).castTo(DataType.FLOAT));
        }
        for (Map.Entry<String, Parameter> e : m.model().namedParameters().entrySet()) {
            Parameter p = e.getValue();
            if (!p.requiresGrad()) {
                continue;
            }
            assertTrue(p.hasGrad() && p.grad().amaxNumber().doubleValue() > 0,
                    name + ": parameter " + e.getKey() + " got no gradient");
            assertFalse(p.grad().isNaN().any(), name + ": NaN gradient in " + e.getKey());
        }
    }

    @Test
    void defaultsAndOverrides() {
        CreatedModel r = ModelRegistry.create("resnet18", Map.of("stem", "small", "in_chans", "1", "num_classes", "10",
                "base_width", "32"));
        ResNetConfig rc = (ResNetConfig) r.config();
        assertEquals(ResNetConfig.Stem.SMALL, rc.stem());
        assertEquals(32, rc.baseWidth());
        assertArrayEquals(new int[] {1, 32, 32}, r.cfg().inputSize());
        assertEquals(1, r.cfg().mean().length);
        CreatedModel v = ModelRegistry.create("vit_small_patch16_224", Map.of("num_classes", "0", "img_size", "32",
                "patch_size", "4", "depth", "2"));
        VitConfig vc = (VitConfig) v.config();
        assertEquals(384, vc.embedDim());
        assertEquals(4, vc.patchSize());
        assertArrayEquals(new int[] {3, 32, 32}, v.cfg().inputSize());
        assertArrayEquals(PretrainedCfg.IMAGENET_MEAN, v.cfg().mean());
        assertEquals(ModelRegistry.Family.MAE, ModelRegistry.family("mae_vit_base_patch16"));
        assertTrue(ModelRegistry.names().containsAll(List.of("resnet50", "vit_base_patch16_224", "vit_huge_patch14_224")));
    }

    @Test
    void badNamesKeysAndValuesAreNamed() {
        IllegalArgumentException a = assertThrows(IllegalArgumentException.class, () -> ModelRegistry.create("resnet51"));
        assertTrue(a.getMessage().contains("unknown model 'resnet51'") && a.getMessage().contains("resnet50"));
        IllegalArgumentException b = assertThrows(IllegalArgumentException.class,
                () -> ModelRegistry.create("resnet18", Map.of("patch_size", "4")));
        assertTrue(b.getMessage().contains("'patch_size' is not an option of resnet18"), b.getMessage());
        IllegalArgumentException c = assertThrows(IllegalArgumentException.class,
                () -> ModelRegistry.create("resnet18", Map.of("stem", "tiny")));
        assertTrue(c.getMessage().contains("stem must be one of [imagenet, small]"), c.getMessage());
        IllegalArgumentException d = assertThrows(IllegalArgumentException.class,
                () -> ModelRegistry.create("vit_tiny_patch16_224", Map.of("num_classes", "ten")));
        assertTrue(d.getMessage().contains("num_classes must be an integer"), d.getMessage());
    }
}
