package io.hgkd.train.trainer;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.hgkd.models.resnet.ConvWeightScale;
import io.hgkd.models.resnet.ResNetConfig;
import io.hgkd.train.finetune.BatchMixup;

/**
 * A fine-tuning (or from-scratch supervised) run of a dense ResNet classifier, besides the {@link TrainerConfig}.
 *
 * <p>The canonical constructor overwrites {@code model.seed} with {@code Seeds.derive(seed, "init.model", 0)} (the
 * init of the new head and, without encoder weights, of everything) and sets {@code model.numClasses} to the data's
 * class count, so the stored config is what was built.
 *
 * @param seed           the run's seed (init, data order)
 * @param model          the classifier's architecture
 * @param encoderWeights safetensors file of pretrained encoder weights (e.g. exported from a distillation run), or
 *                       null to train from scratch
 * @param convScale      the scale of the loaded encoder's conv weights at the start: {@link ConvScale#PRETRAINED}
 *                       (as loaded; null means this) or {@link ConvScale#INIT} (see there); ignored without
 *                       {@code encoderWeights}
 * @param labelSmoothing cross-entropy label smoothing in [0, 1) (SparK/timm fine-tuning: 0.1)
 * @param layerDecay     layer-wise lr decay factor in (0, 1] with SparK's ResNet layer ids; 1 = none
 * @param emaDecay       decay of an EMA of the weights updated after every step (SparK: 0.9999), evaluated too
 *                       ({@code ema_top1}, {@code ema_top5}) and checkpointed as {@code ema.safetensors}; 0 = off
 * @param mixup          batch mixup/cutmix (SparK: {@code BatchMixup.Config.spark(K)}), null = off; its
 *                       {@code labelSmoothing} and {@code numClasses} must equal this config's and the data's
 * @param data           training and evaluation images (evaluation: the test split, or other synthetic images)
 */
public record FinetuneJobConfig(long seed, ResNetConfig model, String encoderWeights, ConvScale convScale,
                                double labelSmoothing, double layerDecay, double emaDecay, BatchMixup.Config mixup,
                                DataConfig data) {

    /** The scale of a pretrained encoder's conv weights when fine-tuning starts. */
    public enum ConvScale {
        /** As in the encoder file. */
        PRETRAINED,
        /**
         * Every conv weight scaled to the expected norm of its kaiming initialisation, the running statistics of the
         * BatchNorm it feeds adjusted so that the network computes the same function ({@link ConvWeightScale}).
         * LAMB pretraining can grow the conv weights (about 2x on Fashion-MNIST at 3.2e-2 per 256); BatchNorm makes
         * that scale invisible to the forward pass, but AdamW's fixed-size steps then turn those weights more slowly
         * and the fine-tune runs at a fraction of its nominal learning rate. A no-op for a scratch-scale encoder.
         */
        INIT
    }

    /** Validates the fields, derives the init seed and sets the class count. */
    public FinetuneJobConfig {
        convScale = convScale == null ? ConvScale.PRETRAINED : convScale;
        if (model == null || data == null) {
            throw new IllegalArgumentException("FinetuneJobConfig needs a model and data");
        }
        if (!(labelSmoothing >= 0 && labelSmoothing < 1)) {
            throw new IllegalArgumentException("labelSmoothing must be in [0, 1), got " + labelSmoothing);
        }
        if (!(layerDecay > 0 && layerDecay <= 1)) {
            throw new IllegalArgumentException("layerDecay must be in (0, 1] (1 = none), got " + layerDecay);
        }
        if (!(emaDecay >= 0 && emaDecay < 1)) {
            throw new IllegalArgumentException("emaDecay must be in [0, 1) (0 = no EMA), got " + emaDecay);
        }
        if (mixup != null && (mixup.numClasses() != data.classes()
                || Double.compare(mixup.labelSmoothing(), labelSmoothing) != 0)) {
            throw new IllegalArgumentException("mixup has " + mixup.numClasses() + " classes and label smoothing "
                    + mixup.labelSmoothing() + ", but the data has " + data.classes() + " classes and labelSmoothing is "
                    + labelSmoothing + ": they must agree");
        }
        if (model.inChans() != data.channels()) {
            throw new IllegalArgumentException("model has " + model.inChans() + " input channels, data "
                    + data.channels());
        }
        model = model.withNumClasses(data.classes()).withSeed(Seeds.derive(seed, "init.model", 0));
    }

    /** This config with another {@code encoderWeights} (null: from scratch). */
    public FinetuneJobConfig withEncoderWeights(String path) {
        return new FinetuneJobConfig(seed, model, path, convScale, labelSmoothing, layerDecay, emaDecay, mixup, data);
    }

    /**
     * Fills the optional fields absent from a JSON {@code job} object with their defaults ({@code convScale}:
     * {@code PRETRAINED}; the data's, {@link DataConfig#fillOptionalDefaults}), for readers that refuse missing
     * creator properties (the CLI): configs and checkpoints written before a field existed then still load.
     */
    public static void fillOptionalDefaults(ObjectNode job) {
        if (!job.has("convScale")) {
            job.put("convScale", ConvScale.PRETRAINED.name());
        }
        if (job.get("data") instanceof ObjectNode data) {
            DataConfig.fillOptionalDefaults(data);
        }
    }
}
