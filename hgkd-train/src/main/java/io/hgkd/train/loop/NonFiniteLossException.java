package io.hgkd.train.loop;

import java.util.Map;

/** A loss term was NaN or infinite; the message names the step and every term with its value. */
public class NonFiniteLossException extends StopTrainingException {

    private static final long serialVersionUID = 1L;

    private final long globalStep;
    private final transient Map<String, Double> losses;

    /** Built by {@link LossChecks}. */
    NonFiniteLossException(String message, long globalStep, Map<String, Double> losses) {
        super(message);
        this.globalStep = globalStep;
        this.losses = losses;
    }

    /** The 0-based global step whose loss was not finite. */
    public long globalStep() {
        return globalStep;
    }

    /** All loss terms of that step, in order. */
    public Map<String, Double> losses() {
        return losses;
    }
}
