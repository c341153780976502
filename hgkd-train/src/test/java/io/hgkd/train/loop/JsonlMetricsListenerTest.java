package io.hgkd.train.loop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class JsonlMetricsListenerTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    private static List<JsonNode> parse(Path file) throws IOException {
        List<JsonNode> out = new ArrayList<>();
        for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
            out.add(JSON.readTree(line)); // every line must be a complete JSON object
        }
        return out;
    }

    private static List<Long> column(List<JsonNode> rows, String key) {
        return rows.stream().map(r -> r.get(key).asLong()).toList();
    }

    @Test
    void writesStepsEveryNAndEveryEpochWithAllFields() throws IOException {
        JsonlMetricsListener l = new JsonlMetricsListener(3);
        l.onRunStart(Events.run(dir, 2, 5));
        for (long g = 0; g < 10; g++) {
            l.onStepEnd(Events.step(g, 5, 0.25));
            // Lines are flushed as written: readable before the run ends (a killed run keeps them).
            if (g == 2) {
                assertEquals(1, parse(dir.resolve("metrics.jsonl")).size());
            }
            if (g % 5 == 4) {
                l.onEpochEnd(Events.epoch((int) (g / 5), 5, Map.of("top1", 50.0 + g, "top5", 90.0)));
            }
        }
        l.onRunEnd(Events.completed(2, 10));

        List<JsonNode> steps = parse(dir.resolve("metrics.jsonl"));
        assertEquals(List.of(2L, 5L, 8L), column(steps, "global_step"));
        JsonNode s = steps.get(1);
        assertEquals(1, s.get("epoch").asInt());
        assertEquals(0, s.get("step").asInt());
        assertEquals(6e-4, s.get("lr").asDouble(), 1e-15);
        assertEquals(0.05, s.get("wd").asDouble(), 0);
        assertEquals(1.25, s.get("grad_norm").asDouble(), 0);
        assertEquals(64, s.get("images").asInt());
        assertEquals(0.25, s.get("seconds").asDouble(), 0);
        assertEquals(List.of("loss", "feat", "sim"), iterToList(s.get("losses").fieldNames()));
        assertEquals(1.0 / 6, s.get("losses").get("loss").asDouble(), 1e-15);
        assertTrue(s.get("time").asText().endsWith("Z"), s.get("time").asText());

        List<JsonNode> epochs = parse(dir.resolve("epochs.jsonl"));
        assertEquals(List.of(0L, 1L), column(epochs, "epoch"));
        JsonNode e = epochs.get(1);
        assertEquals(10, e.get("global_step").asLong());
        assertEquals(320, e.get("images").asLong());
        assertEquals(32.0, e.get("images_per_second").asDouble(), 1e-12);
        assertEquals(59.0, e.get("metrics").get("top1").asDouble(), 0);
        assertEquals(0.35, e.get("losses").get("feat").asDouble(), 0);
    }

    private static List<String> iterToList(java.util.Iterator<String> it) {
        List<String> out = new ArrayList<>();
        it.forEachRemaining(out::add);
        return out;
    }

    @Test
    void nonFiniteStepsAreAlwaysWrittenAsNull() throws IOException {
        JsonlMetricsListener l = new JsonlMetricsListener(100);
        l.onRunStart(Events.run(dir, 1, 10));
        l.onStepEnd(Events.step(0, 10, 1));
        l.onStepEnd(new StepEvent(0, 1, 1, Events.losses(Double.NaN, 0.5, Double.POSITIVE_INFINITY), 1e-3, 0.05,
                Double.NaN, 64, 1));
        l.onRunEnd(Events.completed(0, 2));
        List<JsonNode> steps = parse(dir.resolve("metrics.jsonl"));
        assertEquals(List.of(1L), column(steps, "global_step"));
        assertTrue(steps.get(0).get("losses").get("loss").isNull());
        assertTrue(steps.get(0).get("losses").get("sim").isNull());
        assertEquals(0.5, steps.get(0).get("losses").get("feat").asDouble(), 0);
        assertTrue(steps.get(0).get("grad_norm").isNull());
    }

    @Test
    void resumeDropsWhatTheCrashedRunLoggedAfterItsCheckpointAndAppends() throws IOException {
        // First process: epoch 0 (steps 0-4) and its epoch line, checkpoint at step 5, then steps 5-7 and a torn
        // line before a kill -9 (no onRunEnd).
        JsonlMetricsListener first = new JsonlMetricsListener(1);
        first.onRunStart(Events.run(dir, 2, 5));
        for (long g = 0; g < 8; g++) {
            first.onStepEnd(Events.step(g, 5, 1));
            if (g == 4) {
                first.onEpochEnd(Events.epoch(0, 5, Map.of("top1", 10.0)));
            }
        }
        Files.writeString(dir.resolve("metrics.jsonl"), "{\"time\":\"2026-", StandardOpenOption.APPEND);

        JsonlMetricsListener second = new JsonlMetricsListener(1);
        second.onRunStart(Events.resumed(dir, 2, 5, 1, 5));
        assertEquals(List.of(0L, 1L, 2L, 3L, 4L), column(parse(dir.resolve("metrics.jsonl")), "global_step"),
                "steps after the checkpoint and the torn line are gone before anything is appended");
        for (long g = 5; g < 10; g++) {
            second.onStepEnd(Events.step(g, 5, 1));
        }
        second.onEpochEnd(Events.epoch(1, 5, Map.of("top1", 20.0)));
        second.onRunEnd(Events.completed(2, 10));

        assertEquals(List.of(0L, 1L, 2L, 3L, 4L, 5L, 6L, 7L, 8L, 9L),
                column(parse(dir.resolve("metrics.jsonl")), "global_step"));
        assertEquals(List.of(0L, 1L), column(parse(dir.resolve("epochs.jsonl")), "epoch"));
        assertFalse(Files.exists(dir.resolve("metrics.jsonl.tmp")));
    }

    @Test
    void aFreshRunStartsOldFilesEmpty() throws IOException {
        JsonlMetricsListener old = new JsonlMetricsListener(1);
        old.onRunStart(Events.run(dir, 1, 3));
        for (long g = 0; g < 3; g++) {
            old.onStepEnd(Events.step(g, 3, 1));
        }
        old.onEpochEnd(Events.epoch(0, 3, Map.of()));
        old.onRunEnd(Events.completed(1, 3));

        JsonlMetricsListener fresh = new JsonlMetricsListener(1);
        fresh.onRunStart(Events.run(dir, 1, 3));
        fresh.onStepEnd(Events.step(0, 3, 1));
        fresh.onRunEnd(Events.completed(0, 1));
        assertEquals(List.of(0L), column(parse(dir.resolve("metrics.jsonl")), "global_step"));
        assertEquals(0, Files.size(dir.resolve("epochs.jsonl")));
    }

    @Test
    void writingBeforeTheRunStartsSaysSo() {
        JsonlMetricsListener l = new JsonlMetricsListener(dir, 1);
        NullPointerException e = assertThrows(NullPointerException.class,
                () -> l.onStepEnd(Events.step(0, 3, 1)));
        assertTrue(e.getMessage().contains("onRunStart"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new JsonlMetricsListener(0));
    }
}
