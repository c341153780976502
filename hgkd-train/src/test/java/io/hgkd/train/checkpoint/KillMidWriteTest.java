package io.hgkd.train.checkpoint;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hgkd.core.nn.Module;
import io.hgkd.core.optim.Optimizer;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * SIGKILL during a checkpoint write, in a separate JVM: the previous checkpoint stays intact, loadable and
 * {@code latest()}; the half-written temporary directory is removed by the next manager.
 */
class KillMidWriteTest {
    @Test
    @Timeout(value = 180, unit = TimeUnit.SECONDS)
    void previousCheckpointSurvivesAKillMidWrite(@TempDir Path root, @TempDir Path logs) throws Exception {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        Path stderr = logs.resolve("child.err");
        Process child = new ProcessBuilder(java.toString(), "-Xmx512m", "-cp", System.getProperty("java.class.path"),
                KillMidWriteChild.class.getName(), root.toString())
                .redirectError(stderr.toFile())
                .start();
        Path paused = null;
        String saved = null;
        try (BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream(),
                StandardCharsets.UTF_8))) {
            for (String line; paused == null && (line = out.readLine()) != null; ) {
                if (line.startsWith("SAVED ")) {
                    saved = line.substring(6);
                } else if (line.startsWith("PAUSED ")) {
                    paused = Path.of(line.substring(7));
                }
            }
            assertNotNull(paused, () -> "the child ended without pausing mid-write; its stderr:\n" + read(stderr));
            // The child is blocked with the new checkpoint half written: model.safetensors but not the rest.
            assertTrue(paused.getFileName().toString().startsWith(".tmp-checkpoint-2-"), paused.toString());
            assertTrue(Files.isRegularFile(paused.resolve("model.safetensors")));
            assertFalse(Files.exists(paused.resolve("optimizer.safetensors")));
            assertFalse(Files.exists(paused.resolve("state.json")));
        } finally {
            child.destroyForcibly();
            assertTrue(child.waitFor(60, TimeUnit.SECONDS), "the child did not die");
        }
        assertNotEquals(0, child.exitValue());

        Path first = root.toAbsolutePath().resolve(CheckpointManager.dirName(1));
        assertEquals(first.toString(), saved);
        assertFalse(Files.exists(root.resolve(CheckpointManager.dirName(2))), "a half checkpoint has a final name");
        assertTrue(Files.isDirectory(paused), "the killed write left no temporary directory: the test proves nothing");

        CheckpointManager next = new CheckpointManager(root, 3, null);
        assertEquals(List.of(paused.toAbsolutePath()), next.cleanedUp());
        assertFalse(Files.exists(paused));
        assertEquals(first, next.latest().orElseThrow());

        Checkpoint ck = Checkpoint.load(first);
        Module model = Fixtures.smallModel();
        Optimizer opt = KillMidWriteChild.optimizer(model);
        ck.restore(ck.state().config(), List.of(), model, opt);
        assertTrue(Fixtures.bitEqual(Fixtures.deterministicState(model, 100), model.stateDict()));
        assertTrue(Fixtures.bitEqual(Fixtures.values(7, 4, 3), ck.extra().get("teacher_queue")));
        assertEquals(1, ck.state().globalStep());
        try (Stream<Path> left = Files.list(root)) {
            assertEquals(List.of(CheckpointManager.dirName(1)), left.map(p -> p.getFileName().toString()).toList());
        }
    }

    private static String read(Path p) {
        try {
            return Files.readString(p);
        } catch (java.io.IOException e) {
            return "(unreadable: " + e + ")";
        }
    }
}
