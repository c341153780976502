package io.hgkd.train.loop;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class LossChecksTest {

    @Test
    void finiteLossesPass() {
        assertDoesNotThrow(() -> LossChecks.requireFinite(Events.step(5, 10, 1)));
        assertDoesNotThrow(() -> new NonFiniteLossGuard().onStepEnd(Events.step(5, 10, 1)));
    }

    @Test
    void messageNamesTheStepAndEveryTermWithItsValue() {
        StepEvent bad = new StepEvent(4, 2, 42, Events.losses(0.5, Double.NaN, Double.POSITIVE_INFINITY), 1e-3, 0,
                0, 8, 1);
        NonFiniteLossException e = assertThrows(NonFiniteLossException.class, () -> LossChecks.requireFinite(bad));
        String m = e.getMessage();
        assertTrue(m.startsWith("Non-finite loss at global step 42 (epoch 4, step 2): loss=0.5, feat=NaN, "
                + "sim=Infinity; not finite: feat, sim."), m);
        assertEquals(42, e.globalStep());
        assertEquals(List.of("loss", "feat", "sim"), List.copyOf(e.losses().keySet()));
        NonFiniteLossException g = assertThrows(NonFiniteLossException.class,
                () -> new NonFiniteLossGuard().onStepEnd(bad));
        assertEquals(m, g.getMessage());
        assertTrue(g instanceof StopTrainingException);
    }
}
