package io.hgkd.train.trainer;

import io.hgkd.core.nn.Module;
import io.hgkd.core.optim.ParamGroup;
import io.hgkd.train.checkpoint.CheckpointManager;
import io.hgkd.train.data.Batch;
import java.util.List;
import java.util.Map;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * One kind of training run (H-GKD distillation, fine-tuning, ...), as the {@link Trainer} sees it. The job owns its
 * models, data and losses; the trainer owns the optimizer, schedules, listeners and checkpoints.
 *
 * <p><b>Determinism contract.</b> Everything random in a job must derive from its config's seed and from the
 * arguments of the calls below, never from a hidden stream that advances with every call: the batches of epoch
 * {@code e} from (seed, e), the randomness of {@link #step} (masks, ...) from (seed, micro step). Then a run resumed
 * at an epoch boundary replays exactly what the uninterrupted run did. State that cannot be derived (the H-GKD
 * teacher-embedding queue) goes through {@link #extraState()}; named RNG states through {@link #rngState()}.
 */
public interface TrainingJob extends AutoCloseable {

    /** Short name of the job kind, stored in the checkpoint ({@code distill}, {@code finetune}). */
    String kind();

    /**
     * The job's full config, an immutable Jackson-serialisable record. A resume compares it (as JSON) with the
     * checkpoint's and refuses differing fields.
     */
    Object config();

    /** The trained module; its state dict is the checkpoint's {@code model.safetensors}. */
    Module model();

    /** The optimizer's parameter groups (built once; the trainer creates the optimizer from them). */
    List<ParamGroup> paramGroups();

    /** Images per optimizer step. */
    int batchSize();

    /** Batches of one epoch (the trainer makes {@code batchesPerEpoch / accumSteps} optimizer steps of them). */
    int batchesPerEpoch();

    /**
     * The training batches of epoch {@code epoch}, a pure function of (seed, epoch). The trainer closes each batch's
     * images right after {@link #step} has used them, so a batch must own its images and a job must not keep them.
     */
    Iterable<Batch> batches(int epoch);

    /**
     * Forward and backward for one batch: gradients accumulate into the parameters (the trainer zeroes them before
     * and steps the optimizer after). Returns the loss terms in display order, the total first under
     * {@link io.hgkd.train.loop.StepEvent#TOTAL}.
     *
     * @param microStep 0-based index of this batch in the run's sequence of batches that reach {@code step}:
     *                  {@code globalStep * accumSteps + i} for micro-batch {@code i} of optimizer step
     *                  {@code globalStep}; without accumulation it is the global step. Derive per-step randomness
     *                  (masks) from it.
     */
    Map<String, Double> step(Batch batch, long microStep);

    /**
     * Called after every optimizer step (e.g. to update an EMA of the weights).
     *
     * @param globalStep 0-based index of the step just taken
     */
    default void afterOptimizerStep(long globalStep) {
    }

    /**
     * State dicts of further modules to checkpoint next to the model (e.g. {@code ema}), by name (lower case,
     * {@code [a-z0-9_-]}); may be empty.
     */
    default Map<String, Map<String, INDArray>> extraModules() {
        return Map.of();
    }

    /** Restores module {@code name} of {@link #extraModules()} from a checkpoint. */
    default void loadExtraModule(String name, Map<String, INDArray> stateDict) {
        throw new IllegalArgumentException(kind() + " job has no extra module '" + name + "'");
    }

    /** Metrics after an epoch (e.g. {@code top1}, {@code top5}); empty when the job has no evaluation. */
    default Map<String, Double> evaluate() {
        return Map.of();
    }

    /**
     * Name of the value that picks the best checkpoint: a key of {@link #evaluate()}'s metrics, or of the epoch's
     * mean losses; null for no best checkpoint.
     */
    default String metricName() {
        return null;
    }

    /** Whether {@link #metricName()} is better high or low (ignored when it is null). */
    default CheckpointManager.Goal goal() {
        return CheckpointManager.Goal.MINIMIZE;
    }

    /** Tensors besides the model and optimizer that a resume needs (e.g. the H-GKD queue); may be empty. */
    default Map<String, INDArray> extraState() {
        return Map.of();
    }

    /** Restores what {@link #extraState()} returned. */
    default void loadExtraState(Map<String, INDArray> state) {
        if (!state.isEmpty()) {
            throw new IllegalArgumentException(kind() + " job has no extra state, but the checkpoint has "
                    + state.keySet());
        }
    }

    /**
     * Dotted config paths (e.g. {@code job.convScale}) that a resume may find changed: fields that act only when the
     * job builds its model from scratch, which a resume overwrites from the checkpoint; may be empty.
     */
    default List<String> resumableChanges() {
        return List.of();
    }

    /** Named RNG states (longs as decimal strings) to store in the checkpoint; may be empty. */
    default Map<String, String> rngState() {
        return Map.of();
    }

    /** Restores (or checks) what {@link #rngState()} returned. */
    default void loadRngState(Map<String, String> rng) {
    }

    /** Releases loader threads and other resources. */
    @Override
    default void close() {
    }
}
