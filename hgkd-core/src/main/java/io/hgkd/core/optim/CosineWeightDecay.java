package io.hgkd.core.optim;

/**
 * SparK's weight-decay schedule ({@code lr_wd_annealing} in {@code pretrain/utils/lr_control.py}): a half cosine
 * from {@code start} at iteration 0 to {@code end} at iteration {@code totalSteps - 1},
 * {@code wd(t) = end + (start - end) * (0.5 + 0.5 * cos(pi * t / (totalSteps - 1)))}. SparK pretraining rises from
 * 0.04 to 0.2.
 *
 * @param start      value at step 0, finite and &gt;= 0
 * @param end        value at the last step, finite and &gt;= 0
 * @param totalSteps number of iterations T &gt;= 2; steps run from 0 to T - 1
 */
public record CosineWeightDecay(double start, double end, long totalSteps) implements Schedule {
    /** Validates the values. */
    public CosineWeightDecay {
        Checks.nonNegative("start", start);
        Checks.nonNegative("end", end);
        if (totalSteps < 2) {
            throw new IllegalArgumentException("totalSteps must be >= 2 (the cosine divides by totalSteps - 1), got "
                    + totalSteps);
        }
    }

    /** {@inheritDoc} */
    @Override
    public double valueAt(long step) {
        WarmupCosine.checkStep(step, totalSteps);
        double ratio = (double) step / (totalSteps - 1);
        // same operation order as SparK's Python, and StrictMath for the same cos on every JVM
        return end + (start - end) * (0.5 + 0.5 * StrictMath.cos(Math.PI * ratio));
    }
}
