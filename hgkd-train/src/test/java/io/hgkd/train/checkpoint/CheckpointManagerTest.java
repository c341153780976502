package io.hgkd.train.checkpoint;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;

/** Retention (last N and best), latest() over temporary, incomplete and corrupt directories, clean-up. */
class CheckpointManagerTest {
    private static Snapshot snapshot(long step, Double metric) {
        Map<String, INDArray> model = Map.of("w", Fixtures.values(step, 3, 2));
        return new Snapshot(Fixtures.state(step, metric), Map.of("model", model), Map.of(), Map.of());
    }

    private static List<String> names(List<Path> dirs) {
        return dirs.stream().map(p -> p.getFileName().toString()).toList();
    }

    private static List<String> listing(Path root) throws IOException {
        try (Stream<Path> s = Files.list(root)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    private static String name(long step) {
        return CheckpointManager.dirName(step);
    }

    @Test
    void keepsLastNAndTheBest(@TempDir Path root) throws Exception {
        CheckpointManager mgr = new CheckpointManager(root, 2, CheckpointManager.Goal.MAXIMIZE);
        double[] metrics = {0.1, 0.9, 0.3, 0.9, 0.4};
        for (int i = 0; i < metrics.length; i++) {
            mgr.save(snapshot(i + 1, metrics[i]));
        }
        // Step 2 has the best metric (step 4 ties and loses to the earlier one); 4 and 5 are the last two.
        assertEquals(List.of(name(2), name(4), name(5)), names(mgr.checkpoints()));
        assertEquals(List.of(name(2), name(4), name(5)), listing(root), "no temporary or deleted directories left");
        assertEquals(Optional.of(root.toAbsolutePath().resolve(name(2))), mgr.best());
        assertEquals(Optional.of(root.toAbsolutePath().resolve(name(5))), mgr.latest());

        mgr.save(snapshot(6, 0.95));
        assertEquals(List.of(name(5), name(6)), names(mgr.checkpoints()));
        assertEquals(name(6), mgr.best().orElseThrow().getFileName().toString());
    }

    @Test
    void minimizeAndNoGoal(@TempDir Path a, @TempDir Path b) throws Exception {
        CheckpointManager min = new CheckpointManager(a, 1, CheckpointManager.Goal.MINIMIZE);
        CheckpointManager none = new CheckpointManager(b, 1, null);
        double[] losses = {2.0, 0.5, 1.0, 3.0};
        for (int i = 0; i < losses.length; i++) {
            min.save(snapshot(i + 1, losses[i]));
            none.save(snapshot(i + 1, losses[i]));
        }
        assertEquals(List.of(name(2), name(4)), names(min.checkpoints()));
        assertEquals(List.of(name(4)), names(none.checkpoints()));
        assertTrue(none.best().isEmpty());
        // Checkpoints without a metric never count as best.
        min.save(snapshot(5, null));
        assertEquals(List.of(name(2), name(5)), names(min.checkpoints()));
    }

    @Test
    void latestSkipsTemporaryAndIncompleteDirectoriesAndStartUpRemovesTemporaryOnes(@TempDir Path root)
            throws Exception {
        CheckpointManager mgr = new CheckpointManager(root, 3, null);
        mgr.save(snapshot(5, null));
        Path tmp = Files.createDirectories(root.resolve(".tmp-checkpoint-7-1234abcd"));
        Files.writeString(tmp.resolve("model.safetensors"), "half");
        Path del = Files.createDirectories(root.resolve(".del-checkpoint-3-99"));
        Path incomplete = Files.createDirectories(root.resolve(name(9)));
        Files.copy(root.resolve(name(5)).resolve("model.safetensors"), incomplete.resolve("model.safetensors"));
        Files.createDirectories(root.resolve("checkpoint-notanumber"));

        assertEquals(root.toAbsolutePath().resolve(name(5)), mgr.latest().orElseThrow());
        assertEquals(List.of(name(5)), names(mgr.checkpoints()));

        CheckpointManager restarted = new CheckpointManager(root, 3, null);
        assertEquals(List.of(del.toAbsolutePath(), tmp.toAbsolutePath()), restarted.cleanedUp());
        assertFalse(Files.exists(tmp));
        assertFalse(Files.exists(del));
        // An incomplete final-named directory is not ours to delete: it is only skipped.
        assertTrue(Files.exists(incomplete));
        assertEquals(root.toAbsolutePath().resolve(name(5)), restarted.latest().orElseThrow());
        assertTrue(new CheckpointManager(root.resolve("empty"), 1, null).latest().isEmpty());
    }

    @Test
    void corruptCheckpointsAreErrorsNamingTheFile(@TempDir Path root) throws Exception {
        CheckpointManager mgr = new CheckpointManager(root, 3, null);
        mgr.save(snapshot(1, null));
        Path dir = mgr.save(snapshot(2, null));

        // A truncated tensor file: the manifest size no longer matches.
        Path model = dir.resolve("model.safetensors");
        byte[] good = Files.readAllBytes(model);
        try (FileChannel ch = FileChannel.open(model, StandardOpenOption.WRITE)) {
            ch.truncate(good.length - 4);
        }
        CheckpointException e = assertThrows(CheckpointException.class, mgr::latest);
        assertEquals(model, e.path());
        assertTrue(e.getMessage().startsWith(model.toString()) && e.getMessage().contains("bytes"), e.getMessage());
        assertThrows(CheckpointException.class, () -> Checkpoint.load(dir));

        // A missing listed file.
        Files.delete(model);
        e = assertThrows(CheckpointException.class, mgr::latest);
        assertTrue(e.getMessage().contains(model.toString()) && e.getMessage().contains("missing"), e.getMessage());
        Files.write(model, good);
        assertEquals(dir, mgr.latest().orElseThrow());

        // A garbled header with the right size: the safetensors reader names the file.
        byte[] bad = good.clone();
        bad[9] = '!';
        Files.write(model, bad);
        IOException h = assertThrows(IOException.class, mgr::latest);
        assertTrue(h.getMessage().startsWith(model.toString()), h.getMessage());
        Files.write(model, good);

        // A corrupt state.json.
        Path state = dir.resolve("state.json");
        Files.writeString(state, "{\"format_version\": 1, \"job_kind\": ", StandardCharsets.UTF_8);
        e = assertThrows(CheckpointException.class, mgr::latest);
        assertEquals(state, e.path());
        assertTrue(e.getMessage().contains("not valid JSON"), e.getMessage());
        Files.writeString(state, "{\"format_version\": 99}", StandardCharsets.UTF_8);
        e = assertThrows(CheckpointException.class, () -> Checkpoint.load(dir));
        assertTrue(e.getMessage().contains("format_version 99"), e.getMessage());

        // Saving still works with a corrupt checkpoint around: retention skips it and keeps it.
        CheckpointManager keep1 = new CheckpointManager(root, 1, null);
        keep1.save(snapshot(3, null));
        keep1.save(snapshot(4, null));
        assertEquals(List.of(name(2), name(4)), listing(root));
    }

    @Test
    void existingStepIsRefusedAndFailedWritesLeaveNothing(@TempDir Path root) throws Exception {
        CheckpointManager mgr = new CheckpointManager(root, 3, null);
        mgr.save(snapshot(1, null));
        CheckpointException e = assertThrows(CheckpointException.class, () -> mgr.save(snapshot(1, null)));
        assertTrue(e.getMessage().contains(name(1)) && e.getMessage().contains("already exists"), e.getMessage());

        mgr.afterFileHook(p -> {
            if (p.getFileName().toString().equals("optimizer.safetensors")) {
                throw new UncheckedIOException(new IOException("disk full (simulated)"));
            }
        });
        assertThrows(UncheckedIOException.class, () -> mgr.save(snapshot(2, null)));
        assertEquals(List.of(name(1)), listing(root));
    }

    @Test
    void invalidSnapshotsAreRejected() {
        TrainingState st = Fixtures.state(1, null);
        assertThrows(IllegalArgumentException.class, () -> new Snapshot(st, Map.of("ema", Map.of()), Map.of(),
                Map.of()));
        assertThrows(IllegalArgumentException.class, () -> new Snapshot(st, Map.of("model", Map.of(),
                "optimizer", Map.of()), Map.of(), Map.of()));
        assertThrows(IllegalArgumentException.class, () -> new Snapshot(st, Map.of("model", Map.of(),
                "../x", Map.of()), Map.of(), Map.of()));
        assertThrows(IllegalArgumentException.class, () -> Fixtures.state(1, Double.NaN));
    }
}
