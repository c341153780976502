package io.hgkd.train.trainer;

import io.hgkd.models.vit.VitConfig;

/**
 * A linear probe of a frozen ViT encoder ({@link VitProbe}): features are the mean of the patch tokens after the
 * final norm (the class token left out; {@link io.hgkd.train.finetune.VitClassifier#meanPatchTokens}), extracted
 * once without augmentation from the labelled training subset ({@code data.labels}) and from the evaluation split;
 * the probe is MAE's head ({@link io.hgkd.train.finetune.LinearProbe}: affine-free BatchNorm, Linear) trained with
 * momentum-0.9 SGD without weight decay at {@code lr = baseLr * batchSize / 256}, set per epoch by MAE's
 * warmup-cosine schedule (its value at the middle of the epoch) (MAE's linear probe: LARS, base lr 0.1, 90 epochs, 10 of warmup; LARS is not available).
 *
 * <p>The canonical constructor derives {@code encoder.seed} from {@code seed} ({@code Seeds.derive(seed,
 * "init.model", 0)}): with {@code encoderWeights} null that is the random ViT of the teacher's shape that the MAE
 * teacher must beat.
 *
 * @param seed           the run's seed (random encoder init, probe init, probe data order)
 * @param encoder        the ViT (numClasses 0), e.g. the teacher's config
 * @param encoderWeights safetensors with ViT names ({@code hgkd export} of an MAE or finetune-vit run), or null for
 *                       a random encoder
 * @param epochs         probe training epochs over the features (&gt;= 1)
 * @param warmupEpochs   linear warmup epochs, in [0, epochs)
 * @param baseLr         learning rate per 256 samples
 * @param batchSize      probe batch size (&gt;= 2, BN needs two); {@code data.batchSize} is the extraction batch
 * @param batchNorm      affine-free BN before the Linear (MAE's probe head)
 * @param data           images; the probe trains on {@code data.trainForFeatures()} and is evaluated on
 *                       {@code data.eval()}
 */
public record VitProbeConfig(long seed, VitConfig encoder, String encoderWeights, int epochs, int warmupEpochs,
                             double baseLr, int batchSize, boolean batchNorm, DataConfig data) {

    /** Validates and derives the encoder seed. */
    public VitProbeConfig {
        if (encoder == null || data == null) {
            throw new IllegalArgumentException("VitProbeConfig needs an encoder and data");
        }
        if (encoder.numClasses() != 0) {
            throw new IllegalArgumentException("encoder.numClasses must be 0 (features, not logits), got "
                    + encoder.numClasses());
        }
        if (epochs < 1 || warmupEpochs < 0 || warmupEpochs >= epochs) {
            throw new IllegalArgumentException("probe needs epochs >= 1 and 0 <= warmupEpochs < epochs, got " + epochs
                    + ", " + warmupEpochs);
        }
        if (!(baseLr > 0) || batchSize < 2) {
            throw new IllegalArgumentException("probe needs baseLr > 0 and batchSize >= 2, got " + baseLr + ", "
                    + batchSize);
        }
        if (encoder.inChans() != data.channels() || encoder.imgSize() != data.imageSize()) {
            throw new IllegalArgumentException("encoder takes " + encoder.inChans() + "x" + encoder.imgSize() + "px"
                    + " images, data gives " + data.channels() + "x" + data.imageSize() + "px");
        }
        encoder = encoder.withSeed(Seeds.derive(seed, "init.model", 0));
    }
}
