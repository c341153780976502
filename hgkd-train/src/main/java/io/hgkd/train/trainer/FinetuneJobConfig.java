package io.hgkd.train.trainer;

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
 * @param labelSmoothing cross-entropy label smoothing in [0, 1) (SparK/timm fine-tuning: 0.1)
 * @param layerDecay     layer-wise lr decay factor in (0, 1] with SparK's ResNet layer ids; 1 = none
 * @param emaDecay       decay of an EMA of the weights updated after every step (SparK: 0.9999), evaluated too
 *                       ({@code ema_top1}, {@code ema_top5}) and checkpointed as {@code ema.safetensors}; 0 = off
 * @param mixup          batch mixup/cutmix (SparK: {@code BatchMixup.Config.spark(K)}), null = off; its
 *                       {@code labelSmoothing} and {@code numClasses} must equal this config's and the data's
 * @param data           training and evaluation images (evaluation: the test split, or other synthetic images)
 */
public record FinetuneJobConfig(long seed, ResNetConfig model, String encoderWeights, double labelSmoothing,
                                double layerDecay, double emaDecay, BatchMixup.Config mixup, DataConfig data) {

    /** Validates the fields, derives the init seed and sets the class count. */
    public FinetuneJobConfig {
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
}
