package io.hgkd.models.checkpoint;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Architecture recognition from names and shapes, on key tables (no tensor data is allocated). */
class ArchitectureGuessTest {

    @Test
    void vitBaseHas150KeysAndIsNamedAsTimm() {
        Map<String, TensorSpec> vitB = KeyTables.vit(768, 12, 16, 224, 0);
        assertEquals(150, vitB.size(), "4 + 12 * 12 + 2");
        ArchitectureGuess g = ArchitectureGuess.of(vitB);
        ArchitectureGuess.Vit v = assertInstanceOf(ArchitectureGuess.Vit.class, g.architecture());
        assertEquals("vit_base_patch16_224", v.name());
        assertEquals(12, v.numHeads());
        assertEquals(14, v.gridSize());
        assertEquals(224, v.imgSize());
        assertEquals(3072, v.mlpHidden());
        assertEquals(0, v.numClasses());
        // MAE's ViT-B encoder: timm's vit_base_patch16_224 (86,567,656) without its 1000-class head (769,000).
        assertEquals(85_798_656L, g.parameterCount());
        assertEquals(Map.of("F32", 150), g.dtypes());
        assertEquals("", g.wrapperPrefix());
        assertTrue(g.summary().startsWith("vit_base_patch16_224: ViT, embed dim 768, depth 12, 12 heads"), g.summary());
        assertTrue(g.summary().contains("85.8M parameters"), g.summary());
    }

    @Test
    void otherViTSizesFollowTheCountFormulaAndHeadRule() {
        Map<String, TensorSpec> large = KeyTables.vit(1024, 24, 16, 224, 0);
        assertEquals(4 + 12 * 24 + 2, large.size());
        assertEquals(294, large.size());
        ArchitectureGuess.Vit l = (ArchitectureGuess.Vit) ArchitectureGuess.of(large).architecture();
        assertEquals("vit_large_patch16_224", l.name());
        assertEquals(16, l.numHeads());

        Map<String, TensorSpec> huge = KeyTables.vit(1280, 32, 14, 224, 0);
        assertEquals(390, huge.size());
        ArchitectureGuess.Vit h = (ArchitectureGuess.Vit) ArchitectureGuess.of(huge).architecture();
        assertEquals("vit_huge_patch14_224", h.name());
        assertEquals(16, h.numHeads(), "ViT-H/14 has 16 heads of dim 80, not 1280/64 = 20");
        assertTrue(h.describe().contains("16 heads (assumed: head dim 80)"), h.describe());
        assertEquals(16, h.gridSize());

        ArchitectureGuess.Vit t = (ArchitectureGuess.Vit) ArchitectureGuess.of(KeyTables.vit(192, 12, 16, 384, 1000))
                .architecture();
        assertEquals("vit_tiny_patch16_384", t.name());
        assertEquals(3, t.numHeads());
        assertEquals(1000, t.numClasses());

        ArchitectureGuess.Vit small = (ArchitectureGuess.Vit) ArchitectureGuess.of(KeyTables.vit(192, 12, 4, 32, 10))
                .architecture();
        assertEquals("", small.timmName(), "timm has no vit_tiny_patch4_32");
        assertEquals(32, small.imgSize());
        assertTrue(small.describe().startsWith("ViT (no timm variant matches): ViT, embed dim 192"), small.describe());
    }

    @Test
    void maeCheckpointWrappedInModelIsRecognisedAndUnwrapsToExactlyTheEncoderKeys() {
        Map<String, TensorSpec> encoder = KeyTables.vit(768, 12, 16, 224, 0);
        Map<String, TensorSpec> mae = KeyTables.mae(768, 12, 16, 224, 512, 8);
        Map<String, TensorSpec> file = StateDicts.addPrefix(mae, "model.");
        assertEquals(150 + 4 + 12 * 8 + 4, file.size());

        ArchitectureGuess g = ArchitectureGuess.of(file);
        assertEquals("model.", g.wrapperPrefix());
        ArchitectureGuess.Mae m = assertInstanceOf(ArchitectureGuess.Mae.class, g.architecture());
        assertEquals("vit_base_patch16_224", m.encoder().name());
        assertEquals(512, m.decoderDim());
        assertEquals(8, m.decoderDepth());
        assertEquals(16 * 16 * 3, m.predictsPerPatch());
        assertTrue(g.summary().startsWith("MAE pretraining checkpoint with decoder: decoder 512-d, 8 blocks"),
                g.summary());

        Map<String, TensorSpec> unwrapped = StateDicts.withoutMaeDecoder(StateDicts.unwrap(file));
        assertEquals(new ArrayList<>(encoder.keySet()), new ArrayList<>(unwrapped.keySet()));
        assertEquals(encoder, unwrapped, "same shapes under the same keys");
        assertTrue(LoadReports.compare(KeyTables.shapes(encoder), KeyTables.shapes(unwrapped)).isClean());
    }

    @Test
    void torchvisionResNetsAreNamedWithTheirParameterCounts() throws Exception {
        for (String arch : List.of("resnet18", "resnet50")) {
            KeyTables.KeyFile f = KeyTables.json(arch + "_keys.json");
            ArchitectureGuess g = ArchitectureGuess.of(f.tensors());
            ArchitectureGuess.ResNet r = assertInstanceOf(ArchitectureGuess.ResNet.class, g.architecture(), arch);
            assertEquals(arch, r.name());
            assertEquals(1000, r.numClasses());
            assertEquals(7, r.stemKernel());
            assertEquals(64, r.stemWidth());
            assertEquals(3, r.inChans());
            assertEquals(f.numParams(), g.parameterCount(), arch + ": parameters without BN buffers");
            assertEquals(f.tensors().size(), g.tensorCount());
        }
        KeyTables.KeyFile r18 = KeyTables.json("resnet18_keys.json");
        ArchitectureGuess.ResNet a = (ArchitectureGuess.ResNet) ArchitectureGuess.of(r18.tensors()).architecture();
        assertEquals(List.of(2, 2, 2, 2), a.layers());
        assertEquals(List.of(64, 128, 256, 512), a.stageChannels());
        assertTrue(!a.bottleneck());
        assertEquals(11_689_512L, r18.numParams(), "torchvision's published resnet18 count");

        KeyTables.KeyFile r50 = KeyTables.json("resnet50_keys.json");
        ArchitectureGuess.ResNet b = (ArchitectureGuess.ResNet) ArchitectureGuess.of(r50.tensors()).architecture();
        assertEquals(List.of(3, 4, 6, 3), b.layers());
        assertEquals(List.of(256, 512, 1024, 2048), b.stageChannels());
        assertTrue(b.bottleneck());
        assertEquals(64, b.baseWidth());
        assertEquals(25_557_032L, r50.numParams(), "torchvision's published resnet50 count");
    }

    @Test
    void aSmallImageStemWithoutClassifierIsStillNamed() throws Exception {
        Map<String, TensorSpec> m = new LinkedHashMap<>(KeyTables.json("resnet18_keys.json").tensors());
        m.put("conv1.weight", new TensorSpec("F32", new long[] {64, 1, 3, 3}));
        m.remove("fc.weight");
        m.remove("fc.bias");
        ArchitectureGuess.ResNet r = (ArchitectureGuess.ResNet) ArchitectureGuess.of(m).architecture();
        assertEquals("resnet18", r.name());
        assertEquals(3, r.stemKernel());
        assertEquals(1, r.inChans());
        assertEquals(0, r.numClasses());
        assertTrue(r.describe().contains("3x3 stem (small-image stem)"), r.describe());
        assertTrue(r.describe().contains("no classifier"), r.describe());
    }

    @Test
    void sparkCheckpointIsRecognisedAndItsEncoderSelectsToTimmResNetKeys() throws Exception {
        KeyTables.KeyFile file = KeyTables.json("spark_resnet50_keys.json");
        Map<String, TensorSpec> spark = file.tensors();
        ArchitectureGuess g = ArchitectureGuess.of(spark);
        ArchitectureGuess.SparK s = assertInstanceOf(ArchitectureGuess.SparK.class, g.architecture());
        assertEquals(file.numParams(), g.parameterCount(), "without BN statistics and imn_m, imn_s, norm_black");
        assertEquals(768, s.decoderWidth());
        assertEquals(5, s.decoderBlocks());
        assertEquals(4, s.densifyScales());
        ArchitectureGuess.ResNet enc = assertInstanceOf(ArchitectureGuess.ResNet.class, s.encoder());
        assertEquals("resnet50", enc.name());
        assertEquals(0, enc.numClasses());
        assertEquals("spark_resnet50", s.name());

        Map<String, TensorSpec> timm = new LinkedHashMap<>(KeyTables.json("resnet50_keys.json").tensors());
        timm.remove("fc.weight");
        timm.remove("fc.bias");
        Map<String, TensorSpec> selected = StateDicts.select(spark, "sparse_encoder.sp_cnn.");
        assertEquals(new ArrayList<>(timm.keySet()), new ArrayList<>(selected.keySet()));
        assertEquals(timm, selected);
    }

    @Test
    void sparkModuleNextToOptimizerStateIsFoundBehindThePartialWrapper() throws Exception {
        Map<String, TensorSpec> spark = KeyTables.json("spark_resnet50_keys.json").tensors();
        Map<String, TensorSpec> file = new LinkedHashMap<>(StateDicts.addPrefix(spark, "module."));
        for (int i = 0; i < 3; i++) {
            file.put("optimizer.state." + i + ".exp_avg", new TensorSpec("F32", new long[] {8}));
        }
        ArchitectureGuess g = ArchitectureGuess.of(file);
        assertInstanceOf(ArchitectureGuess.SparK.class, g.architecture());
        assertEquals("module.", g.wrapperPrefix());
        assertEquals(Map.of("optimizer", 3), g.otherEntries());
        assertEquals(file.size(), g.tensorCount());
        assertTrue(g.summary().contains("other entries: optimizer (3 tensors)"), g.summary());

        String at = StateDicts.locate(file.keySet(), "sparse_encoder.sp_cnn.");
        assertEquals("module.sparse_encoder.sp_cnn.", at);
        assertArrayEquals(new long[] {64, 3, 7, 7}, StateDicts.select(file, at).get("conv1.weight").shape());
    }

    @Test
    void nestedWrappersAreUnwrappedTwice() {
        Map<String, TensorSpec> file = StateDicts.addPrefix(KeyTables.vit(384, 12, 16, 224, 0), "model.module.");
        ArchitectureGuess g = ArchitectureGuess.of(file);
        assertEquals("model.module.", g.wrapperPrefix());
        assertEquals("vit_small_patch16_224", g.architecture().name());
    }

    @Test
    void unknownListsTheTopLevelPrefixes() {
        Map<String, TensorSpec> m = new LinkedHashMap<>();
        m.put("encoder.layers.0.weight", new TensorSpec("F32", new long[] {4, 4}));
        m.put("encoder.layers.1.weight", new TensorSpec("F32", new long[] {4, 4}));
        m.put("classifier.weight", new TensorSpec("F16", new long[] {2, 4}));
        ArchitectureGuess g = ArchitectureGuess.of(m);
        assertInstanceOf(ArchitectureGuess.Unknown.class, g.architecture());
        assertEquals("unknown architecture; top-level prefixes: encoder (2), classifier (1)",
                g.architecture().describe());
        assertEquals(Map.of("F16", 1, "F32", 2), g.dtypes());
        assertEquals(40, g.totalElements());
    }

    @Test
    void humanCounts() {
        assertEquals("12", ArchitectureGuess.humanCount(12));
        assertEquals("1.2K", ArchitectureGuess.humanCount(1234));
        assertEquals("85.8M", ArchitectureGuess.humanCount(85_798_656));
        assertEquals("1.0M", ArchitectureGuess.humanCount(999_999));
        assertEquals("632.0M", ArchitectureGuess.humanCount(632_045_800));
    }
}
