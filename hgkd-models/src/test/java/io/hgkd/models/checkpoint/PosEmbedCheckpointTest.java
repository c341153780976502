package io.hgkd.models.checkpoint;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hgkd.core.testing.Parity;
import io.hgkd.models.vit.PosEmbed;
import io.hgkd.models.vit.VisionTransformer;
import io.hgkd.models.vit.VitConfig;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;

/** A ViT checkpoint made for another grid loads through the plan with ViT's bicubic resampling. */
class PosEmbedCheckpointTest {
    @Test
    void checkpointForAnotherGridIsResampledOnLoad() {
        VitConfig small = VitConfig.vitTinyPatch16().withDepth(1).withNumClasses(0).withImgSize(32, 8); // 4x4 grid
        VitConfig large = small.withImgSize(56, 8); // 7x7 grid
        VisionTransformer src = new VisionTransformer(small);
        VisionTransformer dst = new VisionTransformer(large);
        Map<String, INDArray> sd = new LinkedHashMap<>();
        src.stateDict().forEach((k, v) -> sd.put("model." + k, v.dup()));
        LoadPlan plan = LoadPlan.vitEncoder().withTransform(new PosEmbedResample(PosEmbed::resample));
        assertTrue(plan.loadInto(dst, sd, true).isClean());
        INDArray expected = PosEmbed.resample(src.posEmbed().data(), 1, new int[] {4, 4}, new int[] {7, 7});
        Parity.exact("checkpoint", "pos_embed 4x4->7x7", expected, dst.posEmbed().data());
    }
}
