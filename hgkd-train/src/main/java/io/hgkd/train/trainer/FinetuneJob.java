package io.hgkd.train.trainer;

import io.hgkd.core.loss.CrossEntropy;
import io.hgkd.core.nn.Module;
import io.hgkd.core.optim.ParamGroup;
import io.hgkd.core.optim.ParamGroups;
import io.hgkd.models.resnet.ConvWeightScale;
import io.hgkd.models.resnet.ResNet;
import io.hgkd.train.checkpoint.CheckpointManager;
import io.hgkd.train.data.Batch;
import io.hgkd.train.data.Dataset;
import io.hgkd.train.data.Loader;
import io.hgkd.train.finetune.BatchMixup;
import io.hgkd.train.finetune.ClassificationMetrics;
import io.hgkd.train.finetune.Evaluator;
import io.hgkd.train.finetune.FinetuneHead;
import io.hgkd.train.finetune.ModelEma;
import io.hgkd.train.finetune.ResNetLayerIds;
import io.hgkd.train.loop.StepEvent;
import java.io.IOException;
import java.nio.file.Path;
import java.util.DoubleSummaryStatistics;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Fine-tuning as a {@link TrainingJob}: a dense {@link ResNet} classifier (from pretrained encoder weights via
 * {@link FinetuneHead}, or from scratch), cross-entropy with label smoothing (optionally on mixup/cutmix batches), SparK's parameter groups with optional
 * layer-wise lr decay, and after every epoch an evaluation on the held-out split with {@code top1}, {@code top5}
 * and {@code eval_loss} (the best checkpoint is the one with the highest {@code top1}); optionally an EMA of the
 * weights ({@code ema_top1}, {@code ema_top5}; {@code ema.safetensors} in the checkpoint).
 *
 * <p>Resume is exact when the model's {@code dropPathRate} is 0: the drop-path generator inside the ResNet is a
 * stream whose position is not checkpointed.
 */
public final class FinetuneJob implements TrainingJob {
    /** The job kind in checkpoints. */
    public static final String KIND = "finetune";

    private static final Logger LOG = LoggerFactory.getLogger(FinetuneJob.class);

    private final FinetuneJobConfig config;
    private final ResNet model;
    private final CrossEntropy loss;
    private final CrossEntropy softLoss = new CrossEntropy();
    private final Loader train;
    private final Loader eval;
    private final List<ParamGroup> groups;
    private ClassificationMetrics lastMetrics;
    private ModelEma ema;
    private final ResNet emaModel;

    /**
     * Builds the model (loading the encoder weights if configured) and the loaders.
     *
     * @throws IOException if the weights or the data cannot be read
     */
    public FinetuneJob(FinetuneJobConfig config) throws IOException {
        this.config = config;
        model = config.encoderWeights() == null ? new ResNet(config.model())
                : FinetuneHead.build(config.model(), Path.of(config.encoderWeights())).model();
        if (config.encoderWeights() != null && config.convScale() == FinetuneJobConfig.ConvScale.INIT) {
            List<ConvWeightScale.Entry> before = ConvWeightScale.resetToInit(model);
            DoubleSummaryStatistics r = before.stream().mapToDouble(ConvWeightScale.Entry::ratio).summaryStatistics();
            LOG.info(String.format(Locale.ROOT, "convScale INIT: the %d conv weights of %s were at %.3f of their init"
                            + " norm (median; %.3f-%.3f), scaled to it with their BatchNorms' running statistics",
                    before.size(), config.encoderWeights(), ConvWeightScale.medianRatio(before), r.getMin(),
                    r.getMax()));
        }
        model.train(true);
        ema = config.emaDecay() > 0 ? new ModelEma(model, config.emaDecay()) : null;
        emaModel = ema == null ? null : new ResNet(config.model());
        loss = new CrossEntropy(config.labelSmoothing());
        groups = config.layerDecay() < 1
                ? ParamGroups.spark(model.namedParameters(),
                        ResNetLayerIds.forConfig(config.model()).layerDecay(config.layerDecay()))
                : ParamGroups.spark(model.namedParameters());
        Dataset trainSet = config.data().train();
        train = config.data().loader(trainSet, Seeds.derive(config.seed(), "data", 0), true);
        eval = config.data().loader(config.data().eval(), Seeds.derive(config.seed(), "eval", 0), false);
    }

    @Override
    public String kind() {
        return KIND;
    }

    /** {@code job.convScale}: it acts on the encoder's weights, which a resume replaces with the checkpoint's. */
    @Override
    public List<String> resumableChanges() {
        return List.of("job.convScale");
    }

    @Override
    public FinetuneJobConfig config() {
        return config;
    }

    @Override
    public Module model() {
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
        double l;
        if (config.mixup() == null) {
            l = loss.forward(model.forward(batch.images()), batch.labels());
            model.backward(loss.backward());
        } else {
            // a generator per batch, seeded from (seed, micro step): resume needs no mixup state
            BatchMixup.Result r = new BatchMixup(config.mixup(), Seeds.derive(config.seed(), "mixup", microStep))
                    .apply(batch.images(), batch.labels());
            // the mixed targets already carry the label smoothing
            l = softLoss.forwardSoft(model.forward(r.images()), r.targets());
            model.backward(softLoss.backward());
        }
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
        if (ema != null) {
            ema.copyTo(emaModel);
            ClassificationMetrics e = Evaluator.evaluate(emaModel, eval.epoch(0), config.data().classes(), true);
            m.put("ema_top1", e.top1());
            m.put("ema_top5", e.top5());
        }
        return m;
    }

    /** Updates the EMA (if on) with the new weights. */
    @Override
    public void afterOptimizerStep(long globalStep) {
        if (ema != null) {
            ema.update(model);
        }
    }

    /** The EMA's state dict as module {@code ema}, when the EMA is on. */
    @Override
    public Map<String, Map<String, INDArray>> extraModules() {
        return ema == null ? Map.of() : Map.of("ema", ema.stateDict());
    }

    @Override
    public void loadExtraModule(String name, Map<String, INDArray> stateDict) {
        if (ema == null || !name.equals("ema")) {
            TrainingJob.super.loadExtraModule(name, stateDict);
        }
        ema = new ModelEma(stateDict, config.emaDecay());
    }

    /** The EMA of the weights, or null when off. */
    public ModelEma ema() {
        return ema;
    }

    /** The full metrics (confusion matrix, per-class accuracy) of the last evaluation, or null before one. */
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
