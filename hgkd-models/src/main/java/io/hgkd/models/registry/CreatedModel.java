package io.hgkd.models.registry;

import io.hgkd.core.nn.LoadReport;
import io.hgkd.core.nn.Module;
import io.hgkd.models.checkpoint.LoadPlan;
import io.hgkd.models.checkpoint.PosEmbedResample;
import io.hgkd.models.vit.PosEmbed;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * A model made by {@link ModelRegistry#create}: the module, its family, the immutable config it was built from and its
 * data defaults.
 *
 * @param name   the registry name (e.g. {@code resnet50})
 * @param family which kind of model {@code model} is
 * @param model  the module ({@code ResNet}, {@code VisionTransformer} or {@code MaskedAutoencoderViT})
 * @param config the config record it was built from ({@code ResNetConfig}, {@code VitConfig} or {@code MaeConfig})
 * @param cfg    input size, normalisation and crop defaults
 */
public record CreatedModel(String name, ModelRegistry.Family family, Module model, Record config, PretrainedCfg cfg) {

    /** The load plan for this family's checkpoints: ViTs unwrap MAE/timm files and resample {@code pos_embed}. */
    public LoadPlan loadPlan() {
        return switch (family) {
            case VIT -> LoadPlan.vitEncoder().withTransform(new PosEmbedResample(PosEmbed::resample));
            case MAE -> LoadPlan.standard().withTransform(new PosEmbedResample(PosEmbed::resample));
            case RESNET -> LoadPlan.standard();
        };
    }

    /**
     * Loads weights from a {@code .safetensors} or {@code .npz} file through {@link #loadPlan()}.
     *
     * @param strict when true, any missing, unexpected or wrong-shape key throws with the full report and nothing is
     *               copied; otherwise matching keys are loaded and the report says what was not
     */
    public LoadReport loadWeights(Path file, boolean strict) throws IOException {
        return loadPlan().loadInto(model, file, strict);
    }

    /** Loads weights from an in-memory state dict through {@link #loadPlan()}. */
    public LoadReport loadWeights(Map<String, INDArray> state, boolean strict) {
        return loadPlan().loadInto(model, state, strict);
    }
}
