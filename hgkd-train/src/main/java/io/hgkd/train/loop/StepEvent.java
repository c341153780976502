package io.hgkd.train.loop;

import java.util.Map;

/**
 * One optimizer step, sent to {@link TrainingListener#onStepEnd} after the update.
 *
 * @param epoch      0-based epoch
 * @param step       0-based step within the epoch
 * @param globalStep 0-based step within the run (see the package documentation for resume)
 * @param losses     loss terms in the job's order, e.g. {@code loss}, {@code feat}, {@code sim}, {@code pix}; by
 *                   convention the key {@value #TOTAL} holds the weighted total when the job has several terms.
 *                   Values may be non-finite: the listeners report them, {@link LossChecks} rejects them
 * @param lr         learning rate used for this step (the largest group's, before layer-wise decay)
 * @param wd         weight decay used for this step
 * @param gradNorm   global gradient norm before clipping, or {@code NaN} when the job does not compute it
 * @param images     images that contributed to this step (the effective batch; fewer in a last partial batch)
 * @param seconds    wall-clock seconds since the previous step ended, data loading included, so rates and ETAs
 *                   match what the user waits for
 */
public record StepEvent(int epoch, int step, long globalStep, Map<String, Double> losses, double lr, double wd,
        double gradNorm, int images, double seconds) {

    /** The conventional name of the total loss in {@link #losses}. */
    public static final String TOTAL = "loss";

    /** Copies the losses in order and checks the indices. */
    public StepEvent {
        losses = Maps.orderedCopy(losses, "losses");
        if (losses.isEmpty()) {
            throw new IllegalArgumentException("a step needs at least one loss term");
        }
        if (epoch < 0 || step < 0 || globalStep < 0 || images < 0 || !(seconds >= 0)) {
            throw new IllegalArgumentException("epoch, step, globalStep, images and seconds must be >= 0, got "
                    + epoch + ", " + step + ", " + globalStep + ", " + images + ", " + seconds);
        }
    }

    /** The total loss: the {@value #TOTAL} term if present, else the sum of the terms. */
    public double loss() {
        Double total = losses.get(TOTAL);
        if (total != null) {
            return total;
        }
        double sum = 0;
        for (double v : losses.values()) {
            sum += v;
        }
        return sum;
    }
}
