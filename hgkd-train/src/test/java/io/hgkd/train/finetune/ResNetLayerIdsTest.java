package io.hgkd.train.finetune;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hgkd.core.nn.Parameter;
import io.hgkd.core.optim.ParamGroup;
import io.hgkd.core.optim.ParamGroups;
import io.hgkd.core.testing.Fixtures;
import io.hgkd.models.resnet.ResNet;
import io.hgkd.models.resnet.ResNetConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class ResNetLayerIdsTest {

    /** arch -> (name -> {id, N}) from the oracle's torchvision parameter lists. */
    private static Map<String, Map<String, int[]>> expected() throws IOException {
        Map<String, Map<String, int[]>> out = new LinkedHashMap<>();
        for (String line : Files.readAllLines(Fixtures.file("finetune/layer_ids.txt").toPath())) {
            if (line.isBlank()) {
                continue;
            }
            String[] f = line.trim().split(" ");
            out.computeIfAbsent(f[0], k -> new LinkedHashMap<>())
                    .put(f[1], new int[] {Integer.parseInt(f[2]), Integer.parseInt(f[3])});
        }
        return out;
    }

    private static ResNetLayerIds idsFor(String tag) {
        return switch (tag) {
            case "resnet18", "resnet34" -> ResNetLayerIds.forConfig(ResNetConfig.byName(tag));
            case "resnet34_spark" -> ResNetLayerIds.spark(ResNetConfig.resnet34());
            default -> ResNetLayerIds.forConfig(ResNetConfig.byName(tag));
        };
    }

    @Test
    void everyTorchvisionParameterGetsTheExpectedId() throws IOException {
        Map<String, Map<String, int[]>> exp = expected();
        assertEquals(Set.of("resnet18", "resnet34", "resnet34_spark", "resnet50", "resnet101", "resnet152"),
                exp.keySet());
        for (Map.Entry<String, Map<String, int[]>> arch : exp.entrySet()) {
            ResNetLayerIds ids = idsFor(arch.getKey());
            for (Map.Entry<String, int[]> e : arch.getValue().entrySet()) {
                assertEquals(e.getValue()[0], ids.layerId(e.getKey()), arch.getKey() + " " + e.getKey());
                assertEquals(e.getValue()[1], ids.numLayers(), arch.getKey() + " N");
            }
        }
        // sizes: 62 / 110 / 161 / 314 / 467 parameters in torchvision
        assertEquals(161, exp.get("resnet50").size());
        assertEquals(314, exp.get("resnet101").size());
    }

    @Test
    void sparkResNet50MapByHand() {
        ResNetLayerIds ids = ResNetLayerIds.forConfig(ResNetConfig.resnet50());
        assertEquals(ResNetLayerIds.Rule.SPARK, ids.rule());
        assertEquals(6, ids.numLayers());
        assertEquals(6, ResNetLayerIds.numLayers(ResNetConfig.resnet50()));
        assertEquals(0, ids.layerId("conv1.weight"));
        assertEquals(0, ids.layerId("bn1.running_mean"));
        assertEquals(1, ids.layerId("layer1.2.conv3.weight"));
        int[] layer2 = {2, 2, 3, 3};
        for (int b = 0; b < 4; b++) {
            assertEquals(layer2[b], ids.layerId("layer2." + b + ".conv1.weight"));
        }
        int[] layer3 = {4, 4, 4, 5, 5, 5};
        for (int b = 0; b < 6; b++) {
            assertEquals(layer3[b], ids.layerId("layer3." + b + ".bn2.weight"));
        }
        assertEquals(6, ids.layerId("layer4.0.downsample.0.weight"));
        assertEquals(7, ids.layerId("fc.weight"));
        assertEquals(12, ResNetLayerIds.numLayers(ResNetConfig.resnet101()));
        assertEquals(11, ResNetLayerIds.spark(ResNetConfig.resnet101()).layerId("layer3.22.conv1.weight"));
        assertEquals(13, ResNetLayerIds.numLayers(ResNetConfig.resnet152()));
    }

    @Test
    void stagesRuleForResNet18And34() {
        for (ResNetConfig c : List.of(ResNetConfig.resnet18(), ResNetConfig.resnet34())) {
            ResNetLayerIds ids = ResNetLayerIds.forConfig(c);
            assertEquals(ResNetLayerIds.Rule.STAGES, ids.rule());
            assertEquals(4, ids.numLayers());
            assertEquals(0, ids.layerId("conv1.weight"));
            assertEquals(3, ids.layerId("layer3.1.conv2.weight"));
            assertEquals(4, ids.layerId("layer4.1.bn2.bias"));
            assertEquals(5, ids.layerId("fc.bias"));
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ResNetLayerIds.spark(ResNetConfig.resnet18()));
        assertTrue(e.getMessage().contains("stages()"), e.getMessage());
    }

    @Test
    void rejectsMalformedNames() {
        ResNetLayerIds ids = ResNetLayerIds.forConfig(ResNetConfig.resnet50());
        assertThrows(IllegalArgumentException.class, () -> ids.layerId("layerX.0.conv1.weight"));
        assertThrows(IllegalArgumentException.class, () -> ids.layerId("layer5.0.conv1.weight"));
        assertThrows(IllegalArgumentException.class, () -> ids.layerId("layer2.conv1.weight"));
        assertThrows(IllegalArgumentException.class,
                () -> new ResNetLayerIds(ResNetLayerIds.Rule.STAGES, 2, 3, 2, 2));
    }

    @Test
    void layerDecayScalesThroughParamGroups() {
        // width 8 keeps the model tiny; names and block counts are ResNet-50's
        ResNet r50 = new ResNet(ResNetConfig.resnet50().withBaseWidth(8).withNumClasses(10));
        ResNetLayerIds ids = ResNetLayerIds.forConfig(r50.config());
        Map<String, Parameter> params = r50.namedParameters();
        List<ParamGroup> groups = ParamGroups.spark(params, ids.layerDecay(0.7));
        Map<String, Double> scaleOf = new LinkedHashMap<>();
        for (ParamGroup g : groups) {
            g.params().keySet().forEach(n -> scaleOf.put(n, g.lrScale()));
        }
        assertEquals(params.keySet(), scaleOf.keySet());
        assertEquals(Math.pow(0.7, 7), scaleOf.get("conv1.weight"), 1e-15);
        assertEquals(Math.pow(0.7, 7), scaleOf.get("bn1.bias"), 1e-15);
        assertEquals(Math.pow(0.7, 4), scaleOf.get("layer2.3.conv1.weight"), 1e-15);
        assertEquals(Math.pow(0.7, 2), scaleOf.get("layer3.5.bn3.weight"), 1e-15);
        assertEquals(0.7, scaleOf.get("layer4.2.conv3.weight"), 1e-15);
        assertEquals(1.0, scaleOf.get("fc.weight"), 1e-15);
        for (Map.Entry<String, Double> e : scaleOf.entrySet()) {
            assertEquals(Math.pow(0.7, 7 - ids.layerId(e.getKey())), e.getValue(), 1e-15, e.getKey());
        }
        // 8 layers x {decay, no_decay}
        assertEquals(16, groups.size());

        ResNet r18 = new ResNet(ResNetConfig.resnet18().withBaseWidth(8).withNumClasses(10));
        List<ParamGroup> g18 = ParamGroups.spark(r18.namedParameters(),
                ResNetLayerIds.forConfig(r18.config()).layerDecay(0.7));
        for (ParamGroup g : g18) {
            for (String n : g.params().keySet()) {
                int id = ResNetLayerIds.stages().layerId(n);
                assertEquals(Math.pow(0.7, 5 - id), g.lrScale(), 1e-15, n);
            }
        }
    }

    @Test
    void javaNamesAreTheTorchvisionNames() throws IOException {
        Map<String, Map<String, int[]>> exp = expected();
        ResNet r50 = new ResNet(ResNetConfig.resnet50().withBaseWidth(8));
        assertEquals(exp.get("resnet50").keySet(), r50.namedParameters().keySet());
        ResNet r18 = new ResNet(ResNetConfig.resnet18().withBaseWidth(8));
        assertEquals(exp.get("resnet18").keySet(), r18.namedParameters().keySet());
    }

    @Test
    void everyStateDictKeyOfTheModelKeyListsHasAnIdInRange() throws IOException {
        Map<String, Map<String, int[]>> exp = expected();
        for (String[] arch : new String[][] {{"tv_resnet50_keys.txt", "resnet50"}, {"tv_resnet18_keys.txt",
                "resnet18"}}) {
            ResNetLayerIds ids = ResNetLayerIds.forConfig(ResNetConfig.byName(arch[1]));
            int n = 0;
            for (String line : Files.readAllLines(Fixtures.file("models/" + arch[0]).toPath())) {
                if (line.isBlank()) {
                    continue;
                }
                String name = line.trim().split(" ")[0];
                int id = ids.layerId(name);
                assertTrue(id >= 0 && id <= ids.numLayers() + 1, name + " -> " + id);
                int[] e = exp.get(arch[1]).get(name);
                if (e != null) {
                    assertEquals(e[0], id, name);
                    n++;
                }
            }
            assertEquals(exp.get(arch[1]).size(), n, arch[0] + " covers every parameter");
        }
    }
}
