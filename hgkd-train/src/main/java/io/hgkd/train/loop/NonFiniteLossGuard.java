package io.hgkd.train.loop;

/**
 * Stops the run at the first step with a non-finite loss term by throwing {@link NonFiniteLossException} from
 * {@link #onStepEnd}. Register it last in a {@link CompositeListener}, so the metrics file and the progress line
 * still record the bad step before the run stops. Prefer {@link LossChecks} in the loop itself, before the update;
 * this listener is the backstop.
 */
public final class NonFiniteLossGuard implements TrainingListener {

    @Override
    public void onStepEnd(StepEvent step) {
        LossChecks.requireFinite(step);
    }
}
