package io.hgkd.core.optim;

import java.util.Objects;

/**
 * Per-iteration linear warmup followed by a half-cycle cosine, in two styles ({@code t} = iteration,
 * {@code W} = warmupSteps, {@code T} = totalSteps, steps 0 to T - 1):
 * <ul>
 *   <li>{@link Style#SPARK} ({@code lr_wd_annealing} in SparK's {@code pretrain/utils/lr_control.py} and
 *       {@code downstream_imagenet/lr_decay.py}): {@code peak * (0.005 + 0.995 t / W)} for {@code t < W}, then
 *       {@code peak * (0.001 + 0.999 (0.5 + 0.5 cos(pi (t - W) / (T - 1 - W))))}, which ends exactly at
 *       {@code 0.001 peak} on the last step. {@code minValue} is that floor, {@code 0.001 * peak}.</li>
 *   <li>{@link Style#MAE} ({@code adjust_learning_rate} in MAE's {@code util/lr_sched.py}): {@code peak t / W} for
 *       {@code t < W}, then {@code minValue + (peak - minValue) * 0.5 * (1 + cos(pi (t - W) / (T - W)))}. MAE calls
 *       it with a fractional epoch ({@code it / iters_per_epoch + epoch}); in iterations this is the same formula up
 *       to the rounding of that fraction.</li>
 * </ul>
 * Both evaluate the Python expressions in the same order, with {@link StrictMath#cos}, so the values equal the
 * Python ones to the last bit or within one ulp of the cosine.
 *
 * @param style       SPARK or MAE
 * @param peak        the value reached at the end of warmup, finite and &gt;= 0
 * @param warmupSteps W &gt;= 0 (0: start at the peak)
 * @param totalSteps  T; SPARK needs T &gt;= W + 2 (its cosine divides by T - 1 - W), MAE needs T &gt;= W + 1
 * @param minValue    SPARK: must be {@code 0.001 * peak}; MAE: the final value, in [0, peak]
 */
public record WarmupCosine(Style style, double peak, long warmupSteps, long totalSteps, double minValue)
        implements Schedule {

    /** Which reference formula to follow. */
    public enum Style {
        /** SparK: warmup from 0.005 x peak, cosine to 0.001 x peak at the last step. */
        SPARK,
        /** MAE: warmup from 0, cosine towards {@code minValue}. */
        MAE
    }

    /** Validates the values. */
    public WarmupCosine {
        Objects.requireNonNull(style, "style");
        Checks.nonNegative("peak", peak);
        if (warmupSteps < 0) {
            throw new IllegalArgumentException("warmupSteps must be >= 0, got " + warmupSteps);
        }
        if (style == Style.SPARK) {
            if (totalSteps < warmupSteps + 2) {
                throw new IllegalArgumentException("SparK's schedule needs totalSteps >= warmupSteps + 2 (its cosine"
                        + " divides by totalSteps - 1 - warmupSteps), got warmupSteps " + warmupSteps + ", totalSteps "
                        + totalSteps);
            }
            if (Double.compare(minValue, 0.001 * peak) != 0) {
                throw new IllegalArgumentException("SparK's schedule ends at 0.001 * peak = " + 0.001 * peak
                        + ", got minValue " + minValue + " (use style MAE for another floor)");
            }
        } else {
            if (totalSteps < warmupSteps + 1) {
                throw new IllegalArgumentException("MAE's schedule needs totalSteps > warmupSteps, got warmupSteps "
                        + warmupSteps + ", totalSteps " + totalSteps);
            }
            Checks.nonNegative("minValue", minValue);
            if (minValue > peak) {
                throw new IllegalArgumentException("minValue " + minValue + " exceeds peak " + peak);
            }
        }
    }

    /** SparK's schedule: {@code peak} after {@code warmupSteps}, 0.001 x peak at step {@code totalSteps - 1}. */
    public static WarmupCosine spark(double peak, long warmupSteps, long totalSteps) {
        return new WarmupCosine(Style.SPARK, peak, warmupSteps, totalSteps, 0.001 * peak);
    }

    /** MAE's schedule: 0 to {@code peak} over {@code warmupSteps}, then cosine towards {@code minValue}. */
    public static WarmupCosine mae(double peak, double minValue, long warmupSteps, long totalSteps) {
        return new WarmupCosine(Style.MAE, peak, warmupSteps, totalSteps, minValue);
    }

    /** {@inheritDoc} */
    @Override
    public double valueAt(long step) {
        checkStep(step, totalSteps);
        long t = step;
        long w = warmupSteps;
        long n = totalSteps;
        if (style == Style.SPARK) {
            if (t < w) {
                return 0.005 * peak + 0.995 * peak * t / w;
            }
            double ratio = (double) (t - w) / (n - 1 - w);
            return 0.001 * peak + 0.999 * peak * (0.5 + 0.5 * StrictMath.cos(Math.PI * ratio));
        }
        if (t < w) {
            return peak * t / w;
        }
        return minValue + (peak - minValue) * 0.5 * (1.0 + StrictMath.cos(Math.PI * (t - w) / (n - w)));
    }

    static void checkStep(long step, long totalSteps) {
        if (step < 0 || step >= totalSteps) {
            throw new IllegalArgumentException("step " + step + " is outside the schedule [0, " + totalSteps + ")");
        }
    }
}
