package io.hgkd.train.trainer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hgkd.train.loop.JsonlMetricsListener;
import io.hgkd.train.loop.RunSummary;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The "kill -9 during training, then resume": a child JVM trains, is SIGKILLed mid-epoch 2 after the epoch-1
 * checkpoint; a resume in this JVM ends with the same parameters, optimizer state and queue as an uninterrupted run,
 * and the step log has every step exactly once.
 */
class KillDuringTrainingTest {
    static final long SEED = 21;
    static final int EPOCHS = 2;

    @Test
    @Timeout(value = 300, unit = TimeUnit.SECONDS)
    void killedRunResumesToTheSameEnd(@TempDir Path tmp) throws Exception {
        Path dir = tmp.resolve("run");
        Path stderr = tmp.resolve("child.err");
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        Process child = new ProcessBuilder(java.toString(), "-Xmx512m", "-cp", System.getProperty("java.class.path"),
                KillDuringTrainingChild.class.getName(), dir.toString(), "5")
                .redirectError(stderr.toFile())
                .start();
        List<String> lines = new ArrayList<>();
        try (BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream(),
                StandardCharsets.UTF_8))) {
            for (String line; (line = out.readLine()) != null; ) {
                lines.add(line);
                if (line.equals("HANG")) {
                    break;
                }
            }
        } finally {
            child.destroyForcibly(); // SIGKILL on Linux
            assertTrue(child.waitFor(60, TimeUnit.SECONDS), "the child did not die");
        }
        assertTrue(lines.contains("HANG"), () -> "the child never reached step 5: " + lines + "\n" + read(stderr));
        assertTrue(lines.contains("CHECKPOINT 4"), lines::toString);
        assertFalse(lines.contains("DONE"), lines::toString);
        assertNotEquals(0, child.exitValue());
        // the crashed run logged steps past its checkpoint (4 and 5), which the resume must replace
        assertEquals(6, Files.readAllLines(dir.resolve("metrics.jsonl")).size());

        DistillResumeTest.Result resumed;
        try (DistillJob job = new DistillJob(TinyRuns.distill(SEED))) {
            Trainer t = new Trainer(job, TinyRuns.trainer(EPOCHS), dir, new JsonlMetricsListener(1));
            RunSummary s = t.resume();
            assertEquals(RunSummary.Status.COMPLETED, s.status());
            resumed = new DistillResumeTest.Result(job.model().stateDict(), t.optimizer().state(), job.extraState(),
                    s);
        }
        DistillResumeTest.Result straight = DistillResumeTest.straight(tmp.resolve("straight"), SEED);
        // bit for bit, although the first epoch ran in another JVM
        TinyRuns.assertSameTensors(straight.model(), resumed.model(), "model");
        TinyRuns.assertSameTensors(straight.optimizer(), resumed.optimizer(), "optimizer");
        TinyRuns.assertSameTensors(straight.extra(), resumed.extra(), "queue");

        List<String> steps = Files.readAllLines(dir.resolve("metrics.jsonl"));
        assertEquals(8, steps.size(), steps.toString());
        for (int i = 0; i < 8; i++) {
            assertTrue(steps.get(i).contains("\"global_step\":" + i + ","), steps.get(i));
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
