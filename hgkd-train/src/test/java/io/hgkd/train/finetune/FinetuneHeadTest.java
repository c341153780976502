package io.hgkd.train.finetune;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hgkd.core.io.SafeTensors;
import io.hgkd.models.resnet.ResNet;
import io.hgkd.models.resnet.ResNetConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;

class FinetuneHeadTest {
    private static final ResNetConfig ENCODER = ResNetConfig.resnet18().withBaseWidth(4).withNumClasses(0)
            .withStem(ResNetConfig.Stem.SMALL).withSeed(11);

    private static Map<String, INDArray> encoderWeights() {
        Map<String, INDArray> out = new LinkedHashMap<>();
        new ResNet(ENCODER).stateDict().forEach((k, v) -> out.put(k, v.dup()));
        return out;
    }

    @Test
    void loadsTheEncoderAndReportsOnlyTheNewHeadMissing(@TempDir Path dir) throws Exception {
        Map<String, INDArray> enc = encoderWeights();
        Path file = dir.resolve("encoder.safetensors");
        SafeTensors.write(file, enc);
        FinetuneHead.Result r = FinetuneHead.build(ENCODER.withNumClasses(7).withSeed(3), file);
        assertEquals(List.of("fc.weight", "fc.bias"), r.report().missing());
        assertTrue(r.report().unexpected().isEmpty() && r.report().wrongShape().isEmpty());
        assertTrue(r.dropped().isEmpty());
        Map<String, INDArray> s = r.model().stateDict();
        enc.forEach((k, v) -> assertEquals(v, s.get(k), k));
        assertEquals(7, s.get("fc.weight").size(0));
        assertTrue(r.model().isTraining());
    }

    @Test
    void dropsAnOldClassifierHead() {
        Map<String, INDArray> withHead = new LinkedHashMap<>();
        new ResNet(ENCODER.withNumClasses(10)).stateDict().forEach((k, v) -> withHead.put(k, v.dup()));
        FinetuneHead.Result r = FinetuneHead.build(ENCODER.withNumClasses(10), withHead);
        assertEquals(List.of("fc.weight", "fc.bias"), r.dropped());
        assertEquals(List.of("fc.weight", "fc.bias"), r.report().missing());
    }

    @Test
    void rejectsWeightsOfAnotherArchitecture() {
        Map<String, INDArray> enc = encoderWeights();
        // a different width: wrong shapes
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> FinetuneHead.build(ENCODER.withBaseWidth(8).withNumClasses(3), enc));
        assertTrue(e.getMessage().contains("wrong shape"), e.getMessage());
        // a missing encoder tensor
        Map<String, INDArray> partial = new LinkedHashMap<>(enc);
        partial.remove("layer2.0.conv1.weight");
        e = assertThrows(IllegalArgumentException.class,
                () -> FinetuneHead.build(ENCODER.withNumClasses(3), partial));
        assertTrue(e.getMessage().contains("layer2.0.conv1.weight"), e.getMessage());
        // an extra (e.g. decoder) tensor
        Map<String, INDArray> extra = new LinkedHashMap<>(enc);
        extra.put("decoder.conv.weight", enc.get("conv1.weight"));
        assertThrows(IllegalArgumentException.class, () -> FinetuneHead.build(ENCODER.withNumClasses(3), extra));
        // no head
        assertThrows(IllegalArgumentException.class, () -> FinetuneHead.build(ENCODER, enc));
    }

    @Test
    void toleratesAbsentBatchCounters() {
        Map<String, INDArray> enc = encoderWeights();
        enc.keySet().removeIf(k -> k.endsWith("num_batches_tracked"));
        FinetuneHead.Result r = FinetuneHead.build(ENCODER.withNumClasses(3), enc);
        assertTrue(r.report().missing().contains("fc.weight"));
        assertTrue(r.report().missing().stream().allMatch(k -> k.startsWith("fc.")
                || k.endsWith("num_batches_tracked")));
    }
}
