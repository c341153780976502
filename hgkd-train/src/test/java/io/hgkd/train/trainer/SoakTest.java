package io.hgkd.train.trainer;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hgkd.train.loop.StepEvent;
import io.hgkd.train.loop.TrainingListener;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;

/**
 * Native-memory soak (issue 4, "must show" 3): hundreds of H-GKD steps of the tiny run, printing the process RSS
 * every 25 steps, with a {@link GcListener} collecting every 25 steps; the RSS after warm-up (step 50) may not grow
 * by more than 20% by the end. Off by default (about a minute); run with {@code -Dhgkd.soak=true} and
 * {@code -Dhgkd.soak.epochs=N} (32 steps per epoch).
 */
@EnabledIfSystemProperty(named = "hgkd.soak", matches = "true")
class SoakTest {

    static long rssKb() throws Exception {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        throw new IllegalStateException("no VmRSS in /proc/self/status");
    }

    @Test
    void rssStaysFlat(@TempDir Path dir) throws Exception {
        int epochs = Integer.getInteger("hgkd.soak.epochs", 10);
        DistillJobConfig t = TinyRuns.distill(1);
        DistillJobConfig c = new DistillJobConfig(t.seed(), t.teacher(), null, t.student(), t.loss(), t.maskRatio(),
                0, DataConfig.fashionMnistEmbedded(256, 8));
        List<long[]> samples = new ArrayList<>();
        try (DistillJob job = new DistillJob(c)) {
            // -Dhgkd.soak.gc=false shows the growth without collections (see GcListener)
            boolean gc = !"false".equals(System.getProperty("hgkd.soak.gc"));
            TrainingListener collect = gc ? new GcListener(25) : new TrainingListener() { };
            new Trainer(job, TinyRuns.trainer(epochs), dir, io.hgkd.train.loop.CompositeListener.of(collect,
                    new TrainingListener() {
                @Override
                public void onStepEnd(StepEvent s) {
                    if ((s.globalStep() + 1) % 25 == 0) {
                        try {
                            long rss = rssKb();
                            samples.add(new long[] {s.globalStep() + 1, rss});
                            System.out.printf("SOAK step %d rss %d MB heap %d MB%n", s.globalStep() + 1, rss / 1024,
                                    (Runtime.getRuntime().totalMemory() - Runtime.getRuntime().freeMemory()) >> 20);
                        } catch (Exception e) {
                            throw new IllegalStateException(e);
                        }
                    }
                }
            })).fit();
        }
        long atWarm = samples.get(1)[1];
        long atEnd = samples.get(samples.size() - 1)[1];
        assertTrue(atEnd < atWarm * 1.2, "RSS grew from " + atWarm / 1024 + " MB at step 50 to " + atEnd / 1024
                + " MB at step " + samples.get(samples.size() - 1)[0]);
    }
}
