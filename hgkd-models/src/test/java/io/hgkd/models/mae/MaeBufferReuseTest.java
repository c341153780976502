package io.hgkd.models.mae;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.hgkd.core.nn.Parameter;
import io.hgkd.core.testing.TestData;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The MAE's step buffers are reused across steps: a step after other steps (of the same and of a different batch
 * size) gives exactly what the same step gives on a fresh model.
 */
class MaeBufferReuseTest {

    private record Step(double loss, INDArray pred, INDArray gImg, Map<String, INDArray> grads) {
    }

    private static Step step(MaskedAutoencoderViT mae, INDArray x, INDArray noise) {
        mae.zeroGrad();
        MaeOutput out = mae.forwardMae(x, noise);
        INDArray pred = out.pred().dup();
        INDArray gImg = mae.backward().dup();
        Map<String, INDArray> grads = new java.util.LinkedHashMap<>();
        for (Map.Entry<String, Parameter> e : mae.namedParameters().entrySet()) {
            if (e.getValue().grad() != null) {
                grads.put(e.getKey(), e.getValue().grad().dup());
            }
        }
        return new Step(out.loss(), pred, gImg, grads);
    }

    private static void reusedEqualsFresh(MaeConfig cfg) {
        INDArray x1 = TestData.randn(1, 3, cfg.encoder().inChans(), 32, 32).castTo(DataType.FLOAT);
        INDArray x2 = TestData.randn(2, 2, cfg.encoder().inChans(), 32, 32).castTo(DataType.FLOAT);
        INDArray x3 = TestData.randn(3, 3, cfg.encoder().inChans(), 32, 32).castTo(DataType.FLOAT);
        int l = cfg.encoder().numPatches();
        INDArray n1 = TestData.randn(4, 3, l).castTo(DataType.FLOAT);
        INDArray n2 = TestData.randn(5, 2, l).castTo(DataType.FLOAT);
        INDArray n3 = TestData.randn(6, 3, l).castTo(DataType.FLOAT);

        MaskedAutoencoderViT used = new MaskedAutoencoderViT(cfg);
        step(used, x2, n2);
        step(used, x1, n1);   // another batch size: the buffers are replaced
        Step reused = step(used, x3, n3);   // the same batch size: the buffers are reused
        Step fresh = step(new MaskedAutoencoderViT(cfg), x3, n3);

        assertEquals(fresh.loss(), reused.loss(), 0.0);
        assertEquals(fresh.pred(), reused.pred());
        assertEquals(fresh.gImg(), reused.gImg());
        assertEquals(fresh.grads().keySet(), reused.grads().keySet());
        fresh.grads().forEach((k, g) -> assertEquals(g, reused.grads().get(k), k));
    }

    @Test
    void normPixLoss() {
        reusedEqualsFresh(MaeParityTest.tinyNormPix());
    }

    @Test
    void rawPixels() {
        reusedEqualsFresh(MaeParityTest.tinyRawPix());
    }
}
