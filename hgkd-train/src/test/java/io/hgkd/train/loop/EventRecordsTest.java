package io.hgkd.train.loop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class EventRecordsTest {

    @Test
    void stepKeepsTheLossOrderAndIsImmutable() {
        Map<String, Double> m = new LinkedHashMap<>();
        m.put("pix", 3.0);
        m.put("feat", 1.0);
        m.put("sim", 2.0);
        StepEvent s = new StepEvent(0, 0, 0, m, 1e-3, 0.05, Double.NaN, 8, 0.1);
        m.put("later", 9.0);
        assertEquals(List.of("pix", "feat", "sim"), List.copyOf(s.losses().keySet()));
        assertThrows(UnsupportedOperationException.class, () -> s.losses().put("x", 1.0));
        assertEquals(6.0, s.loss(), 0, "without a 'loss' term the total is the sum");
        assertEquals(0.5, Events.step(1, 10, 1).loss(), 1e-12, "the 'loss' term is the total");
    }

    @Test
    void invalidEventsAreRejectedWithTheirValues() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new StepEvent(0, -1, 0, Map.of("loss", 1.0), 0, 0, 0, 1, 1));
        assertTrue(e.getMessage().contains("-1"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new StepEvent(0, 0, 0, Map.of(), 0, 0, 0, 1, 1));
        assertThrows(IllegalArgumentException.class,
                () -> RunInfo.fresh("x", 0, 10, 1, 1, 1, 1, Path.of(".")));
        assertThrows(IllegalArgumentException.class,
                () -> new RunSummary(RunSummary.Status.FAILED, 0, 0, 0, Map.of(), null));
        assertEquals(200L, Events.run(Path.of("."), 4, 50).totalSteps());
        assertEquals(64.0 * 10 / 10.0, Events.epoch(0, 10, Map.of()).imagesPerSecond(), 1e-12);
    }
}
