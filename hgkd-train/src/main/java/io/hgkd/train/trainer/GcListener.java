package io.hgkd.train.trainer;

import io.hgkd.train.loop.EpochEvent;
import io.hgkd.train.loop.StepEvent;
import io.hgkd.train.loop.TrainingListener;

/**
 * Calls {@link System#gc()} every {@code everySteps} optimizer steps and after each epoch's end-of-epoch work.
 *
 * <p>Why: ND4J's off-heap buffers are released only when their Java wrappers are collected. A training step makes
 * many short-lived arrays but little heap garbage, so with a large heap the collector seldom runs and the process
 * RSS climbs (measured by {@code SoakTest} on the tiny H-GKD run: 0.5 GB at step 25 to 2.6 GB at step 300 without
 * this listener) until JavaCPP's {@code maxbytes} limit forces a collection. With a collection every 25 steps the
 * RSS stayed at 0.50-0.55 GB over 300 steps. A collection of a small heap costs milliseconds; the numbers of the
 * run do not change.
 *
 * <p>At an epoch's end the evaluation and the preview run the model on other batch sizes, so every module replaces
 * its reused buffers, and the first step of the next epoch replaces them again. Collecting there (put this listener
 * after the preview) frees the training-size buffers before the next step allocates new ones, so the allocator can
 * hand the same memory back instead of mapping more.
 */
public final class GcListener implements TrainingListener {
    private final int everySteps;

    /** @param everySteps steps between collections, &gt;= 1 */
    public GcListener(int everySteps) {
        if (everySteps < 1) {
            throw new IllegalArgumentException("everySteps must be >= 1, got " + everySteps);
        }
        this.everySteps = everySteps;
    }

    @Override
    public void onStepEnd(StepEvent step) {
        if ((step.globalStep() + 1) % everySteps == 0) {
            System.gc();
        }
    }

    /** Collects after the epoch's evaluation (and after the listeners placed before this one, such as previews). */
    @Override
    public void onEpochEnd(EpochEvent epoch) {
        System.gc();
    }
}
