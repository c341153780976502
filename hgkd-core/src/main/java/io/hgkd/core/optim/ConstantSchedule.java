package io.hgkd.core.optim;

/**
 * The same value at every iteration (SparK's fine-tuning weight decay).
 *
 * @param value finite and &gt;= 0
 */
public record ConstantSchedule(double value) implements Schedule {
    /** Validates the value. */
    public ConstantSchedule {
        Checks.nonNegative("value", value);
    }

    /** {@inheritDoc} */
    @Override
    public double valueAt(long step) {
        if (step < 0) {
            throw new IllegalArgumentException("step must be >= 0, got " + step);
        }
        return value;
    }
}
