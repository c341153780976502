package io.hgkd.train.loop;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class CompositeListenerTest {

    private final List<String> calls = new ArrayList<>();

    /** Records each call as name:event. */
    private final class Recorder implements TrainingListener {
        private final String name;

        Recorder(String name) {
            this.name = name;
        }

        @Override
        public void onRunStart(RunInfo run) {
            calls.add(name + ":start");
        }

        @Override
        public void onStepEnd(StepEvent step) {
            calls.add(name + ":step" + step.globalStep());
        }

        @Override
        public void onEpochEnd(EpochEvent epoch) {
            calls.add(name + ":epoch" + epoch.epoch());
        }

        @Override
        public void onCheckpoint(Path dir, long globalStep) {
            calls.add(name + ":ckpt" + globalStep);
        }

        @Override
        public void onRunEnd(RunSummary summary) {
            calls.add(name + ":end");
        }
    }

    /** Fails on every step. */
    private static final class Broken implements TrainingListener {
        @Override
        public void onStepEnd(StepEvent step) {
            throw new IllegalStateException("disk full at " + step.globalStep());
        }
    }

    @Test
    void fansOutEveryEventInRegistrationOrder() {
        CompositeListener c = CompositeListener.of(new Recorder("a"), new Recorder("b"));
        c.onRunStart(Events.run(Path.of("o"), 1, 1));
        c.onStepEnd(Events.step(0, 1, 1));
        c.onEpochEnd(Events.epoch(0, 1, Map.of()));
        c.onCheckpoint(Path.of("o/c"), 1);
        c.onRunEnd(Events.completed(1, 1));
        assertEquals(List.of("a:start", "b:start", "a:step0", "b:step0", "a:epoch0", "b:epoch0", "a:ckpt1", "b:ckpt1",
                "a:end", "b:end"), calls);
    }

    @Test
    void aFailingListenerDoesNotStopTheOthersOrTheRunButFailsItsEnd() {
        CompositeListener c = CompositeListener.of(new Broken(), new Recorder("b"));
        c.onRunStart(Events.run(Path.of("o"), 1, 3));
        for (long g = 0; g < 3; g++) {
            assertDoesNotThrow(() -> c.onStepEnd(Events.step(0, 3, 1)));
        }
        assertEquals(List.of("b:start", "b:step0", "b:step0", "b:step0"), calls);
        assertEquals(3, c.failures().size());
        CompositeListener.ListenerFailureException e = assertThrows(
                CompositeListener.ListenerFailureException.class, () -> c.onRunEnd(Events.completed(1, 3)));
        assertTrue(calls.contains("b:end"), "the run end reached every listener before the throw");
        assertTrue(e.getMessage().startsWith("3 listener failure(s)"), e.getMessage());
        assertTrue(e.getCause().getMessage().contains("disk full"), e.getCause().getMessage());
        assertEquals(2, e.getSuppressed().length);
    }

    @Test
    void listenerFailuresNeverReplaceTheTrainingError() {
        CompositeListener c = CompositeListener.of(new Broken(), new Recorder("b"));
        c.onRunStart(Events.run(Path.of("o"), 1, 3));
        c.onStepEnd(Events.step(0, 3, 1));
        RuntimeException trainingError = new IllegalStateException("CUDA out of memory");
        assertDoesNotThrow(() -> c.onRunEnd(new RunSummary(RunSummary.Status.FAILED, 0, 1, 1, Map.of(),
                trainingError)));
        assertTrue(calls.contains("b:end"));
    }

    @Test
    void stopRequestsPropagateAfterEveryListenerSawTheStep() {
        CompositeListener c = CompositeListener.of(new Recorder("metrics"), new NonFiniteLossGuard(),
                new Recorder("after"));
        StepEvent bad = new StepEvent(0, 7, 7, Events.losses(Double.NaN, 1, 1), 1e-3, 0, 0, 8, 1);
        NonFiniteLossException e = assertThrows(NonFiniteLossException.class, () -> c.onStepEnd(bad));
        assertEquals(List.of("metrics:step7", "after:step7"), calls);
        assertEquals(7, e.globalStep());
        assertTrue(c.failures().isEmpty(), "a stop request is not a listener failure");

        CompositeListener two = CompositeListener.of(new NonFiniteLossGuard(), new NonFiniteLossGuard());
        NonFiniteLossException first = assertThrows(NonFiniteLossException.class, () -> two.onStepEnd(bad));
        assertEquals(1, first.getSuppressed().length);
        assertSame(NonFiniteLossException.class, first.getSuppressed()[0].getClass());
    }
}
