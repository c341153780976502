package io.hgkd.train.trainer;

import io.hgkd.core.loss.CrossEntropy;
import io.hgkd.core.nn.Module;
import io.hgkd.core.optim.ParamGroup;
import io.hgkd.core.optim.ParamGroups;
import io.hgkd.models.checkpoint.Checkpoints;
import io.hgkd.train.checkpoint.CheckpointManager;
import io.hgkd.train.data.Batch;
import io.hgkd.train.data.Loader;
import io.hgkd.train.finetune.ClassificationMetrics;
import io.hgkd.train.finetune.Evaluator;
import io.hgkd.train.finetune.VitClassifier;
import io.hgkd.train.finetune.VitLayerIds;
import io.hgkd.train.loop.StepEvent;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * ViT fine-tuning as a {@link TrainingJob}: a {@link VitClassifier} (encoder from {@code encoderWeights} or random,
 * new head), cross-entropy with label smoothing, SparK/MAE parameter groups (no weight decay on 1-d parameters,
 * {@code cls_token}, {@code pos_embed}) with MAE's per-block layer decay ({@link VitLayerIds}); after every epoch
 * {@code top1}, {@code top5}, {@code eval_loss} on the evaluation split (best checkpoint: highest {@code top1}). The
 * optimizer and warmup-cosine schedule come from the {@link TrainerConfig} (MAE: AdamW 0.9/0.999). No mixup and no
 * EMA (MAE's fine-tune uses both at ImageNet scale; not needed to compare teachers here).
 * {@link Exports#vitEncoder} writes the fine-tuned encoder in the teacher's layout.
 */
public final class VitFinetuneJob implements TrainingJob {
    /** The job kind in checkpoints. */
    public static final String KIND = "finetune-vit";

    private final VitFinetuneJobConfig config;
    private final VitClassifier model;
    private final CrossEntropy loss;
    private final Loader train;
    private final Loader eval;
    private final List<ParamGroup> groups;
    private ClassificationMetrics lastMetrics;

    /**
     * Builds the model (loading the encoder weights if configured) and the loaders.
     *
     * @throws IOException if the weights or the data cannot be read
     */
    public VitFinetuneJob(VitFinetuneJobConfig config) throws IOException {
        this.config = config;
        model = new VitClassifier(config.encoder(), config.data().classes(), Seeds.derive(config.seed(), "init.head",
                0));
        if (config.encoderWeights() != null) {
            Path file = Path.of(config.encoderWeights());
            model.loadEncoder(Checkpoints.read(file), file.toString());
        }
        model.train(true);
        loss = new CrossEntropy(config.labelSmoothing());
        groups = config.layerDecay() < 1
                ? ParamGroups.spark(model.namedParameters(), new VitLayerIds(config.encoder().depth(),
                        VitClassifier.ENCODER_PREFIX).layerDecay(config.layerDecay()))
                : ParamGroups.spark(model.namedParameters());
        train = config.data().loader(config.data().train(), Seeds.derive(config.seed(), "data", 0), true);
        eval = config.data().loader(config.data().eval(), Seeds.derive(config.seed(), "eval", 0), false);
    }

    @Override
    public String kind() {
        return KIND;
    }

    @Override
    public VitFinetuneJobConfig config() {
        return config;
    }

    @Override
    public Module model() {
        return model;
    }

    /** The classifier (encoder + head). */
    public VitClassifier classifier() {
        return model;
    }

    @Override
    public List<ParamGroup> paramGroups() {
        return groups;
    }

    @Override
    public int batchSize() {
        return config.data().batchSize();
    }

    @Override
    public int batchesPerEpoch() {
        return train.batchesPerEpoch();
    }

    @Override
    public Iterable<Batch> batches(int epoch) {
        return train.epoch(epoch);
    }

    @Override
    public Map<String, Double> step(Batch batch, long microStep) {
        model.train(true);
        double l = loss.forward(model.forward(batch.images()), batch.labels());
        model.backward(loss.backward());
        return Map.of(StepEvent.TOTAL, l);
    }

    /** Top-1, top-5 (k clipped to the class count) and mean loss on the evaluation split, in eval mode. */
    @Override
    public Map<String, Double> evaluate() {
        lastMetrics = Evaluator.evaluate(model, eval.epoch(0), config.data().classes(), true);
        Map<String, Double> m = new LinkedHashMap<>();
        m.put("top1", lastMetrics.top1());
        m.put("top5", lastMetrics.top5());
        m.put("eval_loss", lastMetrics.meanLoss());
        return m;
    }

    /** The full metrics of the last evaluation, or null before one. */
    public ClassificationMetrics lastMetrics() {
        return lastMetrics;
    }

    @Override
    public String metricName() {
        return "top1";
    }

    @Override
    public CheckpointManager.Goal goal() {
        return CheckpointManager.Goal.MAXIMIZE;
    }

    @Override
    public Map<String, String> rngState() {
        return Map.of("seed", Long.toString(config.seed()));
    }

    @Override
    public void close() {
        train.close();
        eval.close();
    }
}
