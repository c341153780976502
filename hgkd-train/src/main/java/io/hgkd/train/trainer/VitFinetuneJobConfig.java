package io.hgkd.train.trainer;

import io.hgkd.models.vit.VitConfig;

/**
 * Supervised fine-tuning of a ViT encoder as a classifier on mean-pooled final tokens
 * ({@link io.hgkd.train.finetune.VitClassifier}), besides the {@link TrainerConfig}: the second H-GKD teacher of
 * issue 7, fine-tuned on the labelled subset ({@code data.labels}) only.
 *
 * <p>The canonical constructor overwrites {@code encoder.seed} with {@code Seeds.derive(seed, "init.model", 0)}, so
 * the stored config is what was built.
 *
 * @param seed           the run's seed (init of the head and, without weights, the encoder; data order)
 * @param encoder        the ViT encoder, {@code numClasses} 0, the teacher's config (so the exported weights load
 *                       into {@link DistillJobConfig#teacher()}); its {@code dropPathRate} regularises the
 *                       fine-tune (MAE: 0.1; resume is exact only at 0)
 * @param encoderWeights safetensors with ViT names (e.g. {@code hgkd export} of an MAE run), or null for random init
 * @param labelSmoothing cross-entropy label smoothing in [0, 1) (MAE fine-tuning: 0.1)
 * @param layerDecay     layer-wise lr decay per ViT block in (0, 1] ({@link io.hgkd.train.finetune.VitLayerIds};
 *                       MAE: 0.75 for ViT-B); 1 = none
 * @param data           training (with its labelled subset) and evaluation images
 */
public record VitFinetuneJobConfig(long seed, VitConfig encoder, String encoderWeights, double labelSmoothing,
                                   double layerDecay, DataConfig data) {

    /** Validates the fields and derives the init seed. */
    public VitFinetuneJobConfig {
        if (encoder == null || data == null) {
            throw new IllegalArgumentException("VitFinetuneJobConfig needs an encoder and data");
        }
        if (encoder.numClasses() != 0) {
            throw new IllegalArgumentException("encoder.numClasses must be 0 (the head is added for data.classes()),"
                    + " got " + encoder.numClasses());
        }
        if (!(labelSmoothing >= 0 && labelSmoothing < 1)) {
            throw new IllegalArgumentException("labelSmoothing must be in [0, 1), got " + labelSmoothing);
        }
        if (!(layerDecay > 0 && layerDecay <= 1)) {
            throw new IllegalArgumentException("layerDecay must be in (0, 1] (1 = none), got " + layerDecay);
        }
        if (encoder.inChans() != data.channels() || encoder.imgSize() != data.imageSize()) {
            throw new IllegalArgumentException("encoder takes " + encoder.inChans() + "x" + encoder.imgSize() + "px"
                    + " images, data gives " + data.channels() + "x" + data.imageSize() + "px");
        }
        encoder = encoder.withSeed(Seeds.derive(seed, "init.model", 0));
    }
}
