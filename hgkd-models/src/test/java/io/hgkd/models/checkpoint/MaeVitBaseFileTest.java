package io.hgkd.models.checkpoint;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hgkd.core.nn.LoadReport;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * A full-size ViT-B/16 checkpoint in MAE's release layout ({@code {'model': 150 tensors}}), written by
 * {@code tools/reference/make_ckpt_fixtures.py --mae-vit-base DIR} and converted by the tool. It is 344 MB, so it is
 * not committed; run with {@code -Dhgkd.maeVitBase=DIR/mae_pretrain_vit_base.safetensors} (or a real MAE file
 * converted the same way).
 */
@EnabledIfSystemProperty(named = "hgkd.maeVitBase", matches = ".+")
class MaeVitBaseFileTest {
    @Test
    void loadsAll150EncoderKeysStrictly() throws Exception {
        Path file = Path.of(System.getProperty("hgkd.maeVitBase"));
        CheckpointInfo info = Checkpoints.inspect(file);
        ArchitectureGuess g = info.guess();
        assertEquals("vit_base_patch16_224", g.architecture().name(), g.summary());
        assertEquals("model.", g.wrapperPrefix());

        Map<String, TensorSpec> table = KeyTables.vit(768, 12, 16, 224, 0);
        ShapeModule encoder = ShapeModule.of(KeyTables.shapes(table));
        Map<String, INDArray> source = Checkpoints.read(file);
        LoadReport r = LoadPlan.vitEncoder().loadInto(encoder, source, true);
        assertTrue(r.isClean(), r.toString());
        assertEquals(new ArrayList<>(table.keySet()), new ArrayList<>(encoder.stateDict().keySet()));
        assertEquals(source.get("model.blocks.11.mlp.fc2.weight"), encoder.stateDict().get("blocks.11.mlp.fc2.weight"));
        assertInstanceOf(ArchitectureGuess.Vit.class, ArchitectureGuess.ofTensors(encoder.stateDict()).architecture());
    }
}
