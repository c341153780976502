package io.hgkd.train.loop;

import java.util.Map;

/**
 * One finished epoch (training and, if the job evaluates, evaluation), sent to {@link TrainingListener#onEpochEnd}.
 *
 * @param epoch      0-based epoch
 * @param globalStep steps completed at the end of this epoch (the step a checkpoint taken now would carry)
 * @param meanLosses each loss term averaged over the epoch's steps, in the job's order
 * @param metrics    evaluation or other per-epoch metrics in the job's order, e.g. {@code top1}, {@code top5} in
 *                   percent; empty when the job has none
 * @param images     training images seen in the epoch
 * @param seconds    wall-clock seconds of the epoch, evaluation included
 */
public record EpochEvent(int epoch, long globalStep, Map<String, Double> meanLosses, Map<String, Double> metrics,
        long images, double seconds) {

    /** Copies the maps in order. */
    public EpochEvent {
        meanLosses = Maps.orderedCopy(meanLosses, "meanLosses");
        metrics = Maps.orderedCopy(metrics, "metrics");
        if (epoch < 0 || globalStep < 0 || images < 0 || !(seconds >= 0)) {
            throw new IllegalArgumentException("epoch, globalStep, images and seconds must be >= 0, got " + epoch
                    + ", " + globalStep + ", " + images + ", " + seconds);
        }
    }

    /** Training images per second over the epoch, 0 when no time elapsed. */
    public double imagesPerSecond() {
        return seconds > 0 ? images / seconds : 0;
    }
}
