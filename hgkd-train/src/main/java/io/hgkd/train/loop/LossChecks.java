package io.hgkd.train.loop;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The non-finite loss check. The loop should call {@link #requireFinite(int, int, long, Map)} on the loss terms
 * before the optimizer update, so a NaN never reaches the weights (and the last checkpoint stays good);
 * {@link NonFiniteLossGuard} does the same from a listener when the loop cannot.
 */
public final class LossChecks {

    private LossChecks() {
    }

    /**
     * Throws if any term is NaN or infinite.
     *
     * @throws NonFiniteLossException naming the step, every term with its value, and which terms are not finite
     */
    public static void requireFinite(int epoch, int step, long globalStep, Map<String, Double> losses) {
        List<String> bad = new ArrayList<>();
        for (Map.Entry<String, Double> e : losses.entrySet()) {
            if (e.getValue() == null || !Double.isFinite(e.getValue())) {
                bad.add(e.getKey());
            }
        }
        if (bad.isEmpty()) {
            return;
        }
        StringBuilder terms = new StringBuilder();
        for (Map.Entry<String, Double> e : losses.entrySet()) {
            if (terms.length() > 0) {
                terms.append(", ");
            }
            terms.append(e.getKey()).append('=').append(e.getValue());
        }
        String message = "Non-finite loss at global step " + globalStep + " (epoch " + epoch + ", step " + step
                + "): " + terms + "; not finite: " + String.join(", ", bad)
                + ". Training stopped; lower the learning rate or check the inputs, then resume from the last "
                + "checkpoint.";
        throw new NonFiniteLossException(message, globalStep, Collections.unmodifiableMap(new LinkedHashMap<>(losses)));
    }

    /** {@link #requireFinite(int, int, long, Map)} on a step event. */
    public static void requireFinite(StepEvent event) {
        requireFinite(event.epoch(), event.step(), event.globalStep(), event.losses());
    }
}
