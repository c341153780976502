package io.hgkd.train.loop;

import java.nio.file.Path;

/**
 * Receives the training loop's events on the loop's thread, in this order: {@link #onRunStart} once; per epoch, one
 * {@link #onStepEnd} per optimizer step then {@link #onEpochEnd}; {@link #onCheckpoint} after each checkpoint is
 * complete on disk; {@link #onRunEnd} once, also after a failure. Every method does nothing by default.
 *
 * <p>Listeners should be quick: they run between steps. A listener that throws {@link StopTrainingException} asks
 * the loop to stop (the loop must let it propagate); for how other listener failures are handled see
 * {@link CompositeListener}.
 */
public interface TrainingListener {

    /** Before the first step of this process (after loading a checkpoint when resuming). */
    default void onRunStart(RunInfo run) {
    }

    /** After each optimizer step's update. */
    default void onStepEnd(StepEvent step) {
    }

    /** After each epoch's last step and its evaluation, before its checkpoint. */
    default void onEpochEnd(EpochEvent epoch) {
    }

    /**
     * After a checkpoint directory has been written and renamed into place.
     *
     * @param dir        the checkpoint directory
     * @param globalStep steps completed when it was taken (a resume from it starts at this step)
     */
    default void onCheckpoint(Path dir, long globalStep) {
    }

    /** Once at the end, whether the run completed, stopped or failed. Release files here. */
    default void onRunEnd(RunSummary summary) {
    }
}
