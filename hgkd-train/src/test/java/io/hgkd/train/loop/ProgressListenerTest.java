package io.hgkd.train.loop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class ProgressListenerTest {

    private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    private final PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8);
    private final AtomicLong clock = new AtomicLong();

    private String text() {
        return bytes.toString(StandardCharsets.UTF_8);
    }

    private List<String> lines() {
        return Arrays.asList(text().split("\n"));
    }

    @Test
    void plainModePrintsEveryNStepsAndEachEpoch() {
        ProgressListener p = new ProgressListener(out, ProgressListener.Mode.PLAIN, 4, 30, 0.1, clock::get);
        p.onRunStart(Events.run(Path.of("/runs/a"), 2, 10));
        for (long g = 0; g < 20; g++) {
            p.onStepEnd(Events.step(g, 10, 0.5));
            if (g % 10 == 9) {
                p.onEpochEnd(Events.epoch((int) (g / 10), 10, Map.of("top1", 71.25)));
            }
        }
        p.onRunEnd(Events.completed(2, 20));
        List<String> lines = lines();
        assertFalse(text().contains("\r"), "no carriage returns in logs");
        assertTrue(lines.get(0).startsWith("distill: 2 epochs x 10 steps, batch 32 (effective 64), lr 3.75e-05"),
                lines.get(0));
        // First step, then global steps 4, 8, 12, 16, 20 (1-based): 6 step lines; 2 epoch lines; start and end.
        long stepLines = lines.stream().filter(l -> l.contains(" step ") && l.contains("ETA")).count();
        assertEquals(6, stepLines, text());
        assertEquals(10, lines.size(), text());
        String s4 = lines.stream().filter(l -> l.startsWith("epoch 1/2 step 4/10")).findFirst().orElseThrow();
        // 0.5 s per step, 64 images: 128 img/s; 6 steps left in the epoch, 16 in the run.
        assertTrue(s4.contains("loss 0.2500 feat 0.1750 sim 0.0750"), s4);
        assertTrue(s4.contains("lr 4.00e-04"), s4);
        assertTrue(s4.contains("128 img/s"), s4);
        assertTrue(s4.contains("ETA 0:00:03 (run 0:00:08)"), s4);
        assertFalse(s4.contains("["), "no bar in plain mode");
        String e1 = lines.stream().filter(l -> l.startsWith("epoch 1/2 done")).findFirst().orElseThrow();
        assertTrue(e1.contains("done in 0:00:10 | loss 0.5000 feat 0.3500 sim 0.1500 | top1 71.2500 | 64.0 img/s"
                + " | ETA run 0:00:10"), e1);
        assertTrue(lines.get(lines.size() - 1).startsWith("run completed after 2 epochs, 20 steps"),
                lines.get(lines.size() - 1));
    }

    @Test
    void plainModeAlsoPrintsWhenTimePasses() {
        ProgressListener p = new ProgressListener(out, ProgressListener.Mode.PLAIN, 1000, 30, 0.1, clock::get);
        p.onRunStart(Events.run(Path.of("o"), 1, 100));
        for (long g = 0; g < 10; g++) {
            clock.addAndGet(10_000_000_000L); // 10 s per step: a line every third step
            p.onStepEnd(Events.step(g, 100, 10));
        }
        long stepLines = lines().stream().filter(l -> l.contains("ETA")).count();
        assertEquals(4, stepLines, text()); // steps 1, 4, 7, 10
    }

    @Test
    void ratesAreSmoothedWithAMovingAverageOfSecondsAndImages() {
        ProgressListener p = new ProgressListener(out, ProgressListener.Mode.PLAIN, 1, 30, 0.1, clock::get);
        p.onRunStart(Events.run(Path.of("o"), 1, 100));
        p.onStepEnd(Events.step(0, 100, 1.0));
        assertEquals(64.0, p.imagesPerSecond(), 1e-9);
        p.onStepEnd(Events.step(1, 100, 2.0)); // one slow step moves the rate by a tenth of the change
        assertEquals(64.0 / 1.1, p.imagesPerSecond(), 1e-9);
        for (long g = 2; g < 200; g++) {
            p.onStepEnd(Events.step(g % 100, 100, 0.5));
        }
        assertEquals(128.0, p.imagesPerSecond(), 1e-6, "converges to the new speed");
        assertTrue(lines().get(2).contains("58.2 img/s"), lines().get(2));
    }

    @Test
    void ttyModeRedrawsOneLineWithBarAndEtas() {
        ProgressListener p = new ProgressListener(out, ProgressListener.Mode.TTY, 50, 30, 0.1, clock::get);
        p.onRunStart(Events.run(Path.of("o"), 3, 10));
        bytes.reset();
        for (long g = 0; g < 10; g++) {
            clock.addAndGet(200_000_000L); // 0.2 s apart: every step is redrawn
            p.onStepEnd(Events.step(g, 10, 2.0));
        }
        String t = text();
        assertEquals(10, t.chars().filter(c -> c == '\r').count(), t);
        assertFalse(t.contains("\n"), "progress stays on one line");
        String last = t.substring(t.lastIndexOf('\r') + 1);
        assertTrue(last.startsWith("epoch 1/3 step 10/10 [====================] 100% | loss 0.1000"), last);
        assertTrue(last.contains("32.0 img/s | ETA 0:00:00 (run 0:00:40)"), last);
        String fifth = t.split("\r")[5];
        assertTrue(fifth.contains("[==========>         ]  50%"), fifth);
        assertTrue(fifth.contains("ETA 0:00:10 (run 0:00:50)"), fifth);

        bytes.reset();
        p.onEpochEnd(Events.epoch(0, 10, Map.of()));
        String epochLine = text();
        assertTrue(epochLine.startsWith("\r" + " ".repeat(last.length()) + "\repoch 1/3 done in 0:00:10"),
                "the progress line is wiped before the epoch line: " + epochLine);
        assertTrue(epochLine.endsWith("ETA run 0:00:20" + System.lineSeparator()), epochLine);

        // After an epoch, the run ETA uses the epoch's duration (10 s, evaluation included) for later epochs.
        bytes.reset();
        clock.addAndGet(1_000_000_000L);
        p.onStepEnd(Events.step(14, 10, 2.0));
        assertTrue(text().contains("ETA 0:00:10 (run 0:00:20)"), text());
    }

    @Test
    void ttyModeThrottlesRedrawsButAlwaysDrawsEpochEnds() {
        ProgressListener p = new ProgressListener(out, ProgressListener.Mode.TTY, 50, 30, 0.1, clock::get);
        p.onRunStart(Events.run(Path.of("o"), 1, 100));
        bytes.reset();
        for (long g = 0; g < 100; g++) {
            clock.addAndGet(10_000_000L); // 10 ms apart: one redraw in ten
            p.onStepEnd(Events.step(g, 100, 0.01));
        }
        long draws = text().chars().filter(c -> c == '\r').count();
        assertTrue(draws >= 10 && draws <= 12, draws + " draws");
        assertTrue(text().contains("step 100/100"), "the last step is drawn");
    }

    @Test
    void failedRunAndCheckpointLines() {
        ProgressListener p = new ProgressListener(out, ProgressListener.Mode.PLAIN, 5, 30, 0.1, clock::get);
        p.onRunStart(Events.resumed(Path.of("o"), 4, 10, 2, 25));
        p.onCheckpoint(Path.of("o/ckpt-30"), 30);
        p.onRunEnd(new RunSummary(RunSummary.Status.FAILED, 3, 31, 5, Map.of(), new IllegalStateException("boom")));
        assertTrue(lines().get(0).contains("resuming at epoch 3 step 25"), lines().get(0));
        assertTrue(lines().get(1).startsWith("checkpoint at step 30: o"), lines().get(1));
        assertTrue(lines().get(2).startsWith("run FAILED after 3 epochs, 31 steps") && lines().get(2).endsWith(
                ": boom"), lines().get(2));
    }
}
