package io.hgkd.models.checkpoint;

import io.hgkd.core.nn.LoadReport;

/**
 * A strict load found missing, unexpected or wrong-shape keys. Nothing was copied into the module. The message lists
 * the offending keys by name (with both shapes for wrong-shape keys); {@link #report()} has them all.
 */
public class CheckpointMismatchException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;
    private final transient LoadReport report;

    /** A mismatch described by {@code message}, with the full report. */
    public CheckpointMismatchException(String message, LoadReport report) {
        super(message);
        this.report = report;
    }

    /** Every missing, unexpected and wrong-shape key. */
    public LoadReport report() {
        return report;
    }
}
