package io.hgkd.train.trainer;

import io.hgkd.models.mae.MaeConfig;

/**
 * MAE pretraining of a ViT teacher on the user's own images, besides the {@link TrainerConfig} (which should use
 * {@link TrainerConfig.OptimizerKind#ADAMW_MAE}).
 *
 * <p>The canonical constructor overwrites the encoder's seed with {@code Seeds.derive(seed, "init.mae", 0)}; the
 * masks derive from (seed, step) and the data order from (seed, epoch) in {@link MaePretrainJob}.
 *
 * @param seed the run's seed
 * @param mae  the MAE model (encoder, decoder, 0.75 masking, normalised pixel loss)
 * @param data the images (labels unused)
 */
public record MaePretrainJobConfig(long seed, MaeConfig mae, DataConfig data) {

    /** Validates the combination and derives the init seed. */
    public MaePretrainJobConfig {
        if (mae == null || data == null) {
            throw new IllegalArgumentException("MaePretrainJobConfig needs an MAE config and data");
        }
        if (mae.encoder().imgSize() != data.imageSize() || mae.encoder().inChans() != data.channels()) {
            throw new IllegalArgumentException("data (" + data.channels() + " x " + data.imageSize() + " px) does not"
                    + " match the MAE encoder (" + mae.encoder().inChans() + " x " + mae.encoder().imgSize() + " px)");
        }
        mae = mae.withEncoder(mae.encoder().withSeed(Seeds.derive(seed, "init.mae", 0)));
    }
}
