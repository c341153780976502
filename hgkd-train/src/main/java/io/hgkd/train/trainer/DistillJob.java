package io.hgkd.train.trainer;

import io.hgkd.core.mim.MaskGenerator;
import io.hgkd.core.mim.PatchNorm;
import io.hgkd.core.nn.LoadReport;
import io.hgkd.core.nn.Module;
import io.hgkd.core.optim.ParamGroup;
import io.hgkd.core.optim.ParamGroups;
import io.hgkd.core.sparse.ActiveMask;
import io.hgkd.models.checkpoint.LoadPlan;
import io.hgkd.models.student.SparkStudent;
import io.hgkd.models.student.StudentOutput;
import io.hgkd.models.vit.VisionTransformer;
import io.hgkd.train.checkpoint.CheckpointManager;
import io.hgkd.train.data.Batch;
import io.hgkd.train.data.Dataset;
import io.hgkd.train.data.Loader;
import io.hgkd.train.distill.DistillLoss;
import io.hgkd.train.distill.DistillStep;
import io.hgkd.train.distill.LossTerms;
import io.hgkd.train.loop.StepEvent;
import io.hgkd.train.preview.Preview;
import io.hgkd.train.preview.Previewable;
import io.hgkd.train.preview.Previews;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * H-GKD distillation as a {@link TrainingJob}: a frozen ViT teacher, a SparK student ({@code model.safetensors} holds
 * the student) and the {@link DistillLoss}; with only the pixel loss it is plain SparK pretraining.
 *
 * <p>Per batch the mask is drawn from a {@link MaskGenerator} seeded with
 * {@code Seeds.derive(seed, "mask", microStep)} (the global step without accumulation),
 * so masks are a function of the global step (a resume needs no generator state). The teacher-embedding queue is
 * the extra checkpoint state ({@code queue}, {@code ptr}). The best checkpoint is the one with the lowest epoch-mean
 * {@code loss}.
 *
 * <p>{@link Previewable}: the fixed preview images are the first images of the training data (augmented with a
 * fixed seed), masked with a fixed mask ({@code Seeds.derive(seed, "preview.mask", 0)}); the student runs in
 * evaluation mode for them, so training is unaffected.
 */
public final class DistillJob implements TrainingJob, Previewable {
    /** The job kind in checkpoints. */
    public static final String KIND = "distill";

    private final DistillJobConfig config;
    private final VisionTransformer teacher;
    private final SparkStudent student;
    private final DistillLoss loss;
    private final DistillStep step;
    private final Dataset data;
    private final Loader loader;
    private final List<ParamGroup> groups;

    /**
     * Builds the models (loading the teacher's weights if configured), the loss and the data loader.
     *
     * @throws IOException if the teacher weights or the data cannot be read
     */
    public DistillJob(DistillJobConfig config) throws IOException {
        this.config = config;
        if (config.teacher() != null) {
            VisionTransformer t = new VisionTransformer(config.teacher());
            if (config.teacherWeights() != null) {
                Path file = Path.of(config.teacherWeights());
                // LoadPlan.vitEncoder: also takes MAE .pth conversions ('model.' prefix, decoder keys dropped)
                LoadReport r = LoadPlan.vitEncoder().loadInto(t, file, false);
                if (!r.missing().isEmpty() || !r.wrongShape().isEmpty()) {
                    throw new IllegalArgumentException(file + " does not fit the teacher " + config.teacher()
                            + ": " + r);
                }
            }
            teacher = t.freeze();
        } else {
            teacher = null;
        }
        student = new SparkStudent(config.student());
        student.train(true);
        loss = new DistillLoss(config.loss(), config.student().teacherDim());
        step = new DistillStep(teacher, student, loss, config.teacherChunk());
        groups = ParamGroups.spark(student.namedParameters());
        data = config.data().pretrain();
        loader = config.data().loader(data, Seeds.derive(config.seed(), "data", 0), true);
    }

    @Override
    public String kind() {
        return KIND;
    }

    @Override
    public DistillJobConfig config() {
        return config;
    }

    /** The student. */
    @Override
    public Module model() {
        return student;
    }

    /** The student, typed. */
    public SparkStudent student() {
        return student;
    }

    /** The frozen teacher, or null for plain SparK. */
    public VisionTransformer teacher() {
        return teacher;
    }

    /** The loss (owning the queue). */
    public DistillLoss loss() {
        return loss;
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
        return loader.batchesPerEpoch();
    }

    @Override
    public Iterable<Batch> batches(int epoch) {
        return loader.epoch(epoch);
    }

    /** The mask of micro step {@code microStep} for {@code batch} samples (a pure function of seed and step). */
    public ActiveMask mask(long microStep, int batch) {
        int grid = config.student().maskGrid();
        return new MaskGenerator(config.maskRatio(), Seeds.derive(config.seed(), "mask", microStep))
                .next(batch, grid, grid);
    }

    @Override
    public Map<String, Double> step(Batch batch, long microStep) {
        INDArray images = batch.images();
        LossTerms t = step.run(images, mask(microStep, batch.size()));
        Map<String, Double> out = new LinkedHashMap<>();
        out.put(StepEvent.TOTAL, t.total());
        var c = config.loss();
        if (c.featWeight() > 0) {
            out.put("feat", t.feat());
        }
        if (c.usesSim()) {
            out.put("sim", t.sim());
        }
        if (c.pixWeight() > 0) {
            out.put("pix", t.pix());
        }
        return out;
    }

    @Override
    public INDArray previewImages(int n) {
        return Previews.firstImages(data, n, Seeds.derive(config.seed(), "preview", 0));
    }

    @Override
    public Preview preview(INDArray images) {
        int n = (int) images.size(0);
        int grid = config.student().maskGrid();
        ActiveMask mask = new MaskGenerator(config.maskRatio(), Seeds.derive(config.seed(), "preview.mask", 0))
                .next(n, grid, grid);
        student.train(false);
        try {
            StudentOutput out = student.forward(images, mask);
            INDArray studentFeatures = null;
            INDArray teacherFeatures = null;
            if (teacher != null && out.features() != null) {
                INDArray f = out.features(); // (n, D, G, G), a buffer of the student
                studentFeatures = f.reshape('c', n, f.size(1), f.size(2) * f.size(3)).permute(0, 2, 1).dup('c');
            }
            INDArray rec = out.pixels() == null ? null : Previews.unnormalizePatches(out.pixels(), images,
                    config.student().inputSize() / grid, PatchNorm.DEFAULT_EPS);
            if (studentFeatures != null) {
                teacherFeatures = step.teacherTargets(images).tokens();
            }
            return new Preview(images.dup(), Previews.visible(mask), rec, studentFeatures, teacherFeatures);
        } finally {
            student.train(true);
        }
    }

    @Override
    public String metricName() {
        return StepEvent.TOTAL;
    }

    @Override
    public CheckpointManager.Goal goal() {
        return CheckpointManager.Goal.MINIMIZE;
    }

    @Override
    public Map<String, INDArray> extraState() {
        return loss.queue() == null ? Map.of() : loss.queue().state();
    }

    @Override
    public void loadExtraState(Map<String, INDArray> state) {
        if (loss.queue() == null) {
            TrainingJob.super.loadExtraState(state);
        } else {
            loss.queue().load(state);
        }
    }

    /** Only the seed: every stream of this job is derived from it (see the class comment). */
    @Override
    public Map<String, String> rngState() {
        return Map.of("seed", Long.toString(config.seed()));
    }

    @Override
    public void loadRngState(Map<String, String> rng) {
        String s = rng.get("seed");
        if (s != null && Long.parseLong(s) != config.seed()) {
            throw new IllegalArgumentException("checkpoint seed " + s + " differs from the config's " + config.seed());
        }
    }

    @Override
    public void close() {
        loader.close();
    }
}
