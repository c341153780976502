package io.hgkd.train.loop;

import java.util.Map;
import java.util.Objects;

/**
 * How a run ended, sent once to {@link TrainingListener#onRunEnd}. The loop sends it from a {@code finally} block,
 * so it arrives after failures too.
 *
 * @param status       how the run ended
 * @param epochs       epochs completed by the end of the run (the whole run's count, resumed epochs included)
 * @param globalSteps  steps completed by the end of the run
 * @param seconds      wall-clock seconds of this process's part of the run
 * @param finalMetrics the last epoch's metrics (empty if none)
 * @param failure      the error that ended the run, or {@code null} unless {@code status == FAILED}
 */
public record RunSummary(Status status, int epochs, long globalSteps, double seconds, Map<String, Double> finalMetrics,
        Throwable failure) {

    /** How a run ended. */
    public enum Status {
        /** All epochs ran. */
        COMPLETED,
        /** The user or a time limit stopped it cleanly (a checkpoint was written). */
        STOPPED,
        /** An exception ended it, e.g. {@link NonFiniteLossException}. */
        FAILED
    }

    /** Copies the metrics and checks that {@code failure} is set exactly when the run failed. */
    public RunSummary {
        Objects.requireNonNull(status, "status");
        finalMetrics = Maps.orderedCopy(finalMetrics, "finalMetrics");
        if ((status == Status.FAILED) != (failure != null)) {
            throw new IllegalArgumentException("failure must be given exactly when status is FAILED (status " + status
                    + ", failure " + failure + ")");
        }
    }

    /** True when an exception ended the run. */
    public boolean failed() {
        return status == Status.FAILED;
    }
}
