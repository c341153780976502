package io.hgkd.examples.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * SIGTERM during {@code hgkd distill} in a child JVM: the run finishes its epoch, checkpoints, and prints its summary
 * ("stopped after", "continue with --resume") before the JVM exits with 143. The summary once raced the exit: the
 * shutdown hook let the JVM halt as soon as the trainer returned, before the lines were printed.
 */
class StopOnSignalTest {

    @Test
    @Timeout(value = 300, unit = TimeUnit.SECONDS)
    void sigtermCheckpointsAndPrintsTheSummaryBeforeExit(@TempDir Path tmp) throws Exception {
        Path cfg = tmp.resolve("distill-tiny.json");
        try (InputStream in = StopOnSignalTest.class.getResourceAsStream("/configs/distill-tiny.json")) {
            Files.copy(in, cfg);
        }
        Path out = tmp.resolve("run");
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        Process child = new ProcessBuilder(java.toString(), "-Xmx512m", "-cp", System.getProperty("java.class.path"),
                Hgkd.class.getName(), "distill", "-c", cfg.toString(), "-o", out.toString(),
                "--set", "trainer.epochs=500", "--set", "job.data.workers=0")
                .redirectErrorStream(true)
                .start();
        List<String> lines = new ArrayList<>();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(child.getInputStream(),
                StandardCharsets.UTF_8))) {
            boolean signalled = false;
            for (String line; (line = r.readLine()) != null; ) {
                lines.add(line);
                if (!signalled && line.startsWith("checkpoint at step 4:")) { // epoch 1's end
                    child.toHandle().destroy(); // SIGTERM on Linux; Process.destroy would also close our pipe
                    signalled = true;
                }
            }
        } finally {
            if (!child.waitFor(120, TimeUnit.SECONDS)) {
                child.destroyForcibly();
            }
        }
        String all = String.join("\n", lines);
        assertTrue(all.contains("checkpoint at step 4:"), () -> "the child never finished epoch 1:\n" + all);
        assertEquals(143, child.exitValue(), all);
        // the signal lands in epoch 2 or, if the log lagged, a later one: the run stops at the end of that epoch
        assertTrue(Pattern.compile("(?m)^distill: stopped after [2-9] epochs").matcher(all).find(), all);
        assertTrue(all.contains("stopped early: continue with --resume"), all);
        try (Stream<Path> s = Files.list(out.resolve("checkpoints"))) {
            assertTrue(s.anyMatch(Files::isDirectory), "no checkpoint in " + out);
        }
    }
}
