package io.hgkd.models.checkpoint;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hgkd.core.nn.LoadReport;
import io.hgkd.core.testing.Fixtures;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The tiny MAE checkpoint made by tools/reference/make_ckpt_fixtures.py: a {@code {'model': ...}} .pth with encoder
 * and decoder keys, some F16/BF16, converted by tools/pth_to_safetensors.py. Loading it for a ViT encoder must unwrap
 * {@code model.}, drop the decoder and widen F16/BF16 to exactly the float32 values PyTorch computes.
 */
class MaeFixtureTest {
    private static final Path FILE = Fixtures.file("checkpoints/mae_tiny.safetensors").toPath();

    private static Map<String, INDArray> expected() {
        return Fixtures.load("checkpoints/mae_tiny_expected.npz");
    }

    @Test
    void readsWrappedKeysAsFloat() throws Exception {
        Map<String, INDArray> raw = Checkpoints.read(FILE);
        assertEquals(50, raw.size());
        assertEquals("model.cls_token", raw.keySet().iterator().next());
        for (Map.Entry<String, INDArray> e : raw.entrySet()) {
            assertTrue(e.getKey().startsWith("model."), e.getKey());
            assertEquals(DataType.FLOAT, e.getValue().dataType(), e.getKey());
        }
    }

    @Test
    void vitEncoderPlanUnwrapsDropsDecoderAndWidensExactly() throws Exception {
        Map<String, INDArray> want = expected();
        assertEquals(30, want.size(), "4 + 12 * depth 2 + 2 encoder tensors");
        LoadPlan.Prepared p = LoadPlan.vitEncoder().prepare(Checkpoints.read(FILE));

        assertEquals("model.", p.removedPrefix());
        assertEquals(new ArrayList<>(want.keySet()), new ArrayList<>(p.state().keySet()), "keys and their order");
        assertEquals(20, p.dropped().size());
        for (String k : p.dropped()) {
            assertTrue(StateDicts.isMaeDecoderKey(k.substring("model.".length())), k);
        }
        for (Map.Entry<String, INDArray> e : want.entrySet()) {
            INDArray got = p.state().get(e.getKey());
            assertEquals(DataType.FLOAT, got.dataType(), e.getKey());
            assertArrayEquals(e.getValue().shape(), got.shape(), e.getKey());
            // Bit-exact: F16 and BF16 widen to float32 without rounding.
            assertArrayEquals(e.getValue().dup('c').data().asFloat(), got.dup('c').data().asFloat(), 0f, e.getKey());
        }
        LoadReport r = LoadReports.compare(StateDicts.shapes(want), p.shapes());
        assertTrue(r.isClean(), "0 missing, 0 unexpected, 0 wrong-shape: " + r);
    }

    @Test
    void loadsStrictlyIntoAModuleWithTheEncoderKeys() throws Exception {
        Map<String, INDArray> want = expected();
        ShapeModule encoder = ShapeModule.of(StateDicts.shapes(want));
        LoadReport r = LoadPlan.vitEncoder().loadInto(encoder, FILE, true);
        assertTrue(r.isClean(), r.toString());
        Map<String, INDArray> loaded = encoder.stateDict();
        for (Map.Entry<String, INDArray> e : want.entrySet()) {
            assertArrayEquals(e.getValue().dup('c').data().asFloat(), loaded.get(e.getKey()).dup('c').data().asFloat(),
                    0f, e.getKey());
        }
    }

    @Test
    void withoutDroppingTheDecoderAStrictLoadNamesEveryDecoderKey() throws Exception {
        ShapeModule encoder = ShapeModule.of(StateDicts.shapes(expected()));
        CheckpointMismatchException e = org.junit.jupiter.api.Assertions.assertThrows(CheckpointMismatchException.class,
                () -> LoadPlan.standard().loadInto(encoder, FILE, true));
        assertEquals(20, e.report().unexpected().size());
        assertTrue(e.getMessage().startsWith(FILE + " does not match ShapeModule"), e.getMessage());
        assertTrue(e.getMessage().contains("decoder_pred.weight"), e.getMessage());
        assertTrue(e.getMessage().contains("mask_token"), e.getMessage());
    }

    @Test
    void inspectDescribesHeaderMetadataAndArchitecture() throws Exception {
        CheckpointInfo info = Checkpoints.inspect(FILE);
        assertEquals(Checkpoints.Format.SAFETENSORS, info.format());
        assertEquals(50, info.tensors().size());
        assertEquals("F16", info.tensors().get("model.pos_embed").dtype());
        assertEquals("BF16", info.tensors().get("model.norm.bias").dtype());
        assertEquals(Map.of("BF16", 1, "F16", 14, "F32", 35), info.dtypeCounts());
        assertEquals("799", info.metadata().get("epoch"));
        assertEquals("mae_tiny.pth", info.metadata().get("converted_from"));

        ArchitectureGuess g = info.guess();
        assertEquals("model.", g.wrapperPrefix());
        ArchitectureGuess.Mae mae = assertInstanceOf(ArchitectureGuess.Mae.class, g.architecture());
        assertEquals(8, mae.decoderDim());
        assertEquals(1, mae.decoderDepth());
        assertEquals(4 * 4 * 3, mae.predictsPerPatch());
        ArchitectureGuess.Vit vit = mae.encoder();
        assertEquals(List.of(16, 2, 4, 3, 2, 8, 64, 0), List.of(vit.embedDim(), vit.depth(), vit.patchSize(),
                vit.inChans(), vit.gridSize(), vit.imgSize(), vit.mlpHidden(), vit.numClasses()));
        assertEquals("", vit.timmName(), "no timm variant has D=16");
        assertEquals(info.totalElements(), g.parameterCount(), "no buffers in a ViT");
    }

    @Test
    void theExpectedNpzReadsBackThroughCheckpointsToo() throws Exception {
        Map<String, INDArray> npz = Checkpoints.read(Fixtures.file("checkpoints/mae_tiny_expected.npz").toPath());
        assertEquals(30, npz.size());
        ArchitectureGuess g = ArchitectureGuess.ofTensors(npz);
        ArchitectureGuess.Vit vit = assertInstanceOf(ArchitectureGuess.Vit.class, g.architecture());
        assertEquals(2, vit.depth());
        assertEquals("", g.wrapperPrefix());
    }
}
