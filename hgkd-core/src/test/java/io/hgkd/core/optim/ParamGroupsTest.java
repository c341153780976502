package io.hgkd.core.optim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.factory.Nd4j;
import io.hgkd.core.nn.Parameter;

/** SparK's grouping rules: no-decay membership, layer-decay scales, frozen parameters, order, validation. */
class ParamGroupsTest {

    private static Parameter param(long... shape) {
        return new Parameter(Nd4j.zeros(DataType.FLOAT, shape), false);
    }

    /** A ResNet/ViT-like set of names covering every no-decay rule, in model order. */
    private static Map<String, Parameter> model() {
        Map<String, Parameter> m = new LinkedHashMap<>();
        m.put("conv1.weight", param(8, 3, 7, 7)); // decay
        m.put("bn1.weight", param(8)); // 1-D
        m.put("bn1.bias", param(8)); // 1-D and .bias
        m.put("cls_token", param(1, 1, 8)); // key
        m.put("pos_embed", param(1, 5, 8)); // key
        m.put("mask_tokens.0", param(1, 8, 1, 1)); // contains "mask_token"
        m.put("layer1.0.conv1.weight", param(8, 8, 3, 3)); // decay
        m.put("blocks.0.ls1.gamma", param(8)); // key (and 1-D)
        m.put("blocks.0.gamma_2d", param(2, 8)); // key "gamma", 2-D
        m.put("proj.bias2d", param(2, 8)); // not ".bias": decay
        m.put("proj.flagged", new Parameter(Nd4j.zeros(DataType.FLOAT, 4, 4), true)); // noWeightDecay flag
        m.put("logit_scale", new Parameter(Nd4j.scalar(1f), false)); // 0-D
        m.put("fc.weight", param(10, 8)); // decay
        m.put("fc.bias", param(10)); // no decay
        return m;
    }

    private static List<String> names(ParamGroup g) {
        return new ArrayList<>(g.params().keySet());
    }

    @Test
    void sparkRuleSplitsDecayAndNoDecayInModelOrder() {
        List<ParamGroup> groups = ParamGroups.spark(model());
        assertEquals(2, groups.size());
        ParamGroup decay = groups.get(0);
        ParamGroup noDecay = groups.get(1);
        assertEquals("decay", decay.name());
        assertEquals("no_decay", noDecay.name());
        assertEquals(List.of("conv1.weight", "layer1.0.conv1.weight", "proj.bias2d", "fc.weight"), names(decay));
        assertEquals(List.of("bn1.weight", "bn1.bias", "cls_token", "pos_embed", "mask_tokens.0",
                "blocks.0.ls1.gamma", "blocks.0.gamma_2d", "proj.flagged", "logit_scale", "fc.bias"), names(noDecay));
        assertEquals(1.0, decay.weightDecayScale());
        assertEquals(0.0, noDecay.weightDecayScale());
        assertEquals(1.0, decay.lrScale());
        assertEquals(1.0, noDecay.lrScale());
    }

    @Test
    void groupOrderFollowsFirstAppearance() {
        Map<String, Parameter> m = new LinkedHashMap<>();
        m.put("norm.weight", param(4));
        m.put("fc.weight", param(4, 4));
        List<ParamGroup> groups = ParamGroups.spark(m);
        assertEquals(List.of("no_decay", "decay"), groups.stream().map(ParamGroup::name).toList());
    }

    @Test
    void customNoDecayKeys() {
        Map<String, Parameter> m = new LinkedHashMap<>();
        m.put("rel_pos_table", param(4, 4));
        m.put("pos_embed", param(1, 4, 4));
        List<ParamGroup> groups = ParamGroups.build(m, List.of("rel_pos"), null);
        assertEquals(List.of("rel_pos_table"), names(groups.get(0)));
        assertEquals("no_decay", groups.get(0).name());
        assertEquals(List.of("pos_embed"), names(groups.get(1)));
        assertEquals("decay", groups.get(1).name());
    }

    @Test
    void frozenParametersAreExcluded() {
        Map<String, Parameter> m = model();
        m.get("conv1.weight").setRequiresGrad(false);
        m.get("bn1.bias").setRequiresGrad(false);
        List<ParamGroup> groups = ParamGroups.spark(m);
        for (ParamGroup g : groups) {
            assertFalse(g.params().containsKey("conv1.weight"));
            assertFalse(g.params().containsKey("bn1.bias"));
        }
        assertEquals(m.size() - 2, groups.stream().mapToInt(g -> g.params().size()).sum());
        assertEquals(List.of("all"), ParamGroups.single(m).stream().map(ParamGroup::name).toList());
        assertEquals(m.size() - 2, ParamGroups.single(m).get(0).params().size());

        Map<String, Parameter> allFrozen = new LinkedHashMap<>();
        allFrozen.put("w", param(2, 2));
        allFrozen.get("w").setRequiresGrad(false);
        assertThrows(IllegalArgumentException.class, () -> ParamGroups.spark(allFrozen));
    }

    /** ResNet-50's SparK layer ids (stem 0, layer1 1, layer2 2-3, layer3 4-5, layer4 6, fc 7; N = 6). */
    private static int resnet50LayerId(String n) {
        if (n.startsWith("layer1.")) {
            return 1;
        }
        if (n.startsWith("layer2.")) {
            return Integer.parseInt(n.split("\\.")[1]) < 2 ? 2 : 3;
        }
        if (n.startsWith("layer3.")) {
            return Integer.parseInt(n.split("\\.")[1]) < 3 ? 4 : 5;
        }
        if (n.startsWith("layer4.")) {
            return 6;
        }
        if (n.startsWith("fc.")) {
            return 7;
        }
        return 0;
    }

    @Test
    void layerDecayScalesAndNames() {
        Map<String, Parameter> m = new LinkedHashMap<>();
        m.put("conv1.weight", param(8, 3, 7, 7));
        m.put("bn1.weight", param(8));
        m.put("layer2.1.conv1.weight", param(8, 8, 1, 1));
        m.put("layer2.3.conv1.weight", param(8, 8, 1, 1));
        m.put("layer3.5.bn1.bias", param(8));
        m.put("layer4.0.conv1.weight", param(8, 8, 1, 1));
        m.put("fc.weight", param(10, 8));
        m.put("fc.bias", param(10));
        ParamGroups.LayerDecay ld = new ParamGroups.LayerDecay(0.7, 6, ParamGroupsTest::resnet50LayerId);
        List<ParamGroup> groups = ParamGroups.spark(m, ld);
        assertEquals(List.of("layer0_decay", "layer0_no_decay", "layer2_decay", "layer3_decay", "layer5_no_decay",
                "layer6_decay", "layer7_decay", "layer7_no_decay"), groups.stream().map(ParamGroup::name).toList());
        Map<String, Double> expected = Map.of("layer0_decay", Math.pow(0.7, 7), "layer0_no_decay", Math.pow(0.7, 7),
                "layer2_decay", Math.pow(0.7, 5), "layer3_decay", Math.pow(0.7, 4), "layer5_no_decay", 0.7 * 0.7,
                "layer6_decay", 0.7, "layer7_decay", 1.0, "layer7_no_decay", 1.0);
        for (ParamGroup g : groups) {
            assertEquals(expected.get(g.name()), g.lrScale(), 1e-15, g.name());
            assertEquals(g.name().endsWith("no_decay") ? 0.0 : 1.0, g.weightDecayScale(), g.name());
        }
        assertEquals(0.082354, groups.get(0).lrScale(), 1e-6, "stem lr is 0.7^7 of the peak (method.md 3.9)");

        // decay 1 disables the split, as SparK only uses layer decay for 0 < lr_scale < 1
        List<ParamGroup> flat = ParamGroups.spark(m, new ParamGroups.LayerDecay(1.0, 6,
                ParamGroupsTest::resnet50LayerId));
        assertEquals(List.of("decay", "no_decay"), flat.stream().map(ParamGroup::name).toList());
    }

    @Test
    void layerDecayValidation() {
        assertThrows(IllegalArgumentException.class, () -> new ParamGroups.LayerDecay(0, 6, n -> 0));
        assertThrows(IllegalArgumentException.class, () -> new ParamGroups.LayerDecay(1.5, 6, n -> 0));
        assertThrows(IllegalArgumentException.class, () -> new ParamGroups.LayerDecay(0.7, -1, n -> 0));
        Map<String, Parameter> m = new LinkedHashMap<>();
        m.put("head.weight", param(2, 2));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ParamGroups.spark(m, new ParamGroups.LayerDecay(0.7, 1, n -> 3)));
        assertTrue(e.getMessage().contains("head.weight") && e.getMessage().contains("[0, 2]"), e.getMessage());
    }

    @Test
    void paramGroupValidationAndImmutability() {
        Map<String, Parameter> ps = new LinkedHashMap<>();
        ps.put("w", param(2, 2));
        assertThrows(IllegalArgumentException.class, () -> new ParamGroup("", ps, 1, 1));
        assertThrows(IllegalArgumentException.class, () -> new ParamGroup("a.b", ps, 1, 1));
        assertThrows(IllegalArgumentException.class, () -> new ParamGroup("g", Map.of(), 1, 1));
        assertThrows(IllegalArgumentException.class, () -> new ParamGroup("g", ps, -1, 1));
        assertThrows(IllegalArgumentException.class, () -> new ParamGroup("g", ps, 1, Double.NaN));
        ParamGroup g = ParamGroup.of("g", ps);
        ps.put("v", param(3));
        assertEquals(1, g.params().size(), "the group keeps its own copy");
        assertThrows(UnsupportedOperationException.class, () -> g.params().put("x", param(1)));
        assertEquals(4, g.numElements());
    }

    @Test
    void optimizerRejectsOverlappingGroups() {
        Parameter shared = param(2, 2);
        Map<String, Parameter> a = Map.of("a.weight", shared);
        Map<String, Parameter> b = Map.of("b.weight", shared);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new AdamW(List.of(ParamGroup.of("a", a), ParamGroup.of("b", b)), AdamW.Config.torchDefaults()));
        assertTrue(e.getMessage().contains("a.weight") && e.getMessage().contains("b.weight"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new AdamW(List.of(ParamGroup.of("a", a),
                ParamGroup.of("a", Map.of("c", param(1)))), AdamW.Config.torchDefaults()));
        assertThrows(IllegalArgumentException.class, () -> new Sgd(List.of(), Sgd.Config.of(0.1)));
    }

    @Test
    void optimizerAppliesGroupScalesToBaseValues() {
        Map<String, Parameter> m = new LinkedHashMap<>();
        m.put("stem.weight", param(2, 2));
        m.put("head.weight", param(2, 2));
        m.put("head.bias", param(2));
        List<ParamGroup> groups = ParamGroups.spark(m, new ParamGroups.LayerDecay(0.5, 0,
                n -> n.startsWith("head") ? 1 : 0));
        Lamb lamb = new Lamb(groups, Lamb.Config.sparkFinetune(1e-3, 0.05));
        assertEquals(List.of("layer0_decay", "layer1_decay", "layer1_no_decay"),
                lamb.groups().stream().map(ParamGroup::name).toList());
        assertEquals(0.5e-3, lamb.lr(0));
        assertEquals(1e-3, lamb.lr(1));
        assertEquals(0.05, lamb.weightDecay(0));
        assertEquals(0.0, lamb.weightDecay(2));
        lamb.setLr(2.0);
        lamb.setWeightDecay(0.2);
        assertEquals(1.0, lamb.lr(0));
        assertEquals(2.0, lamb.lr(2));
        assertEquals(0.2, lamb.weightDecay(1));
        assertEquals(0.0, lamb.weightDecay(2));
        assertThrows(IllegalArgumentException.class, () -> lamb.setLr(Double.NaN));
        assertThrows(IllegalArgumentException.class, () -> lamb.setWeightDecay(-1));
    }
}
