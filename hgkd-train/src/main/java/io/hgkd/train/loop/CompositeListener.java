package io.hgkd.train.loop;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sends every event to its listeners in registration order.
 *
 * <p>Error policy, chosen so that a broken side effect (a full disk for plots, say) neither kills a long run nor hides
 * the training error:
 * <ul>
 *   <li>Every listener receives every event, even when an earlier listener threw on it.</li>
 *   <li>A {@link StopTrainingException} (such as {@link NonFiniteLossException} from {@link NonFiniteLossGuard}) is
 *       re-thrown once all listeners have seen the event: it is how a listener stops the run on purpose. If several
 *       listeners throw one, the first is thrown and the others are added to it as suppressed.</li>
 *   <li>Any other exception is logged (with its stack trace the first time a listener fails, then one line at its
 *       10th, 100th, 1000th... failure) and recorded; the run goes on.</li>
 *   <li>At {@link #onRunEnd}, after all listeners have seen the summary: if the run itself did not fail and some
 *       listener failed during the run, a {@link ListenerFailureException} is thrown carrying the first failure as
 *       its cause and the rest (up to 20) as suppressed, so a run whose metrics or plots are incomplete does not
 *       end silently green. If the run failed, listener failures are only logged: the loop re-throws the training
 *       error, which must stay the one the user sees.</li>
 * </ul>
 * Not thread-safe: the loop calls it from one thread.
 */
public final class CompositeListener implements TrainingListener {

    private static final Logger LOG = LoggerFactory.getLogger(CompositeListener.class);
    private static final int MAX_KEPT_FAILURES = 20;

    private final List<TrainingListener> listeners;
    private final List<RuntimeException> failures = new ArrayList<>();
    private final Map<TrainingListener, Integer> failuresByListener = new IdentityHashMap<>();
    private int failureCount;

    /** Fans out to {@code listeners} in this order. */
    public CompositeListener(List<? extends TrainingListener> listeners) {
        this.listeners = List.copyOf(listeners);
    }

    /** Fans out to {@code listeners} in this order. */
    public static CompositeListener of(TrainingListener... listeners) {
        return new CompositeListener(List.of(listeners));
    }

    /** The listeners, in calling order. */
    public List<TrainingListener> listeners() {
        return listeners;
    }

    /** Listener failures recorded so far (other than {@link StopTrainingException}), the first 20. */
    public List<RuntimeException> failures() {
        return Collections.unmodifiableList(failures);
    }

    @Override
    public void onRunStart(RunInfo run) {
        fanOut("onRunStart", l -> l.onRunStart(run));
    }

    @Override
    public void onStepEnd(StepEvent step) {
        fanOut("onStepEnd(step " + step.globalStep() + ")", l -> l.onStepEnd(step));
    }

    @Override
    public void onEpochEnd(EpochEvent epoch) {
        fanOut("onEpochEnd(epoch " + epoch.epoch() + ")", l -> l.onEpochEnd(epoch));
    }

    @Override
    public void onCheckpoint(Path dir, long globalStep) {
        fanOut("onCheckpoint(" + dir + ")", l -> l.onCheckpoint(dir, globalStep));
    }

    @Override
    public void onRunEnd(RunSummary summary) {
        fanOut("onRunEnd", l -> l.onRunEnd(summary));
        if (failureCount == 0) {
            return;
        }
        if (summary.failed()) {
            LOG.warn("{} listener failure(s) during a run that failed with: {}", failureCount, summary.failure()
                    .toString());
            return;
        }
        ListenerFailureException e = new ListenerFailureException(failureCount + " listener failure(s) during the "
                + "run (metrics, plots or progress may be incomplete); first: " + failures.get(0), failures.get(0));
        for (int i = 1; i < failures.size(); i++) {
            e.addSuppressed(failures.get(i));
        }
        throw e;
    }

    private void fanOut(String event, Consumer<TrainingListener> call) {
        StopTrainingException stop = null;
        for (TrainingListener listener : listeners) {
            try {
                call.accept(listener);
            } catch (StopTrainingException e) {
                if (stop == null) {
                    stop = e;
                } else {
                    stop.addSuppressed(e);
                }
            } catch (RuntimeException e) {
                record(listener, event, e);
            }
        }
        if (stop != null) {
            throw stop;
        }
    }

    private void record(TrainingListener listener, String event, RuntimeException e) {
        failureCount++;
        if (failures.size() < MAX_KEPT_FAILURES) {
            failures.add(e);
        }
        String name = listener.getClass().getSimpleName();
        int n = failuresByListener.merge(listener, 1, Integer::sum);
        if (n == 1) {
            LOG.warn("Listener {} failed in {}; training continues", name, event, e);
        } else if (Long.toString(n).matches("10*")) {
            // A listener that fails on every step (say its file could not be opened) must not flood the log:
            // report its 10th, 100th, 1000th... failure only.
            LOG.warn("Listener {} has failed {} times, latest in {}: {}", name, n, event, e.toString());
        }
    }

    /** Thrown at run end when listeners failed during a run that otherwise succeeded. */
    public static final class ListenerFailureException extends RuntimeException {

        private static final long serialVersionUID = 1L;

        ListenerFailureException(String message, Throwable cause) {
            super(message, Objects.requireNonNull(cause));
        }
    }
}
