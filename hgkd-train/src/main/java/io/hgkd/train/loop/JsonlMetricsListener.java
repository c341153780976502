package io.hgkd.train.loop;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.Objects;

/**
 * Writes one JSON object per line: {@value MetricsFiles#STEPS} every {@code everySteps} global steps and
 * {@value MetricsFiles#EPOCHS} every epoch, in the run's output directory (or a directory given here).
 *
 * <p>Step records: {@code time} (ISO-8601 UTC), {@code epoch}, {@code step}, {@code global_step}, {@code lr},
 * {@code wd}, {@code grad_norm}, {@code images}, {@code seconds}, {@code losses} (an object of the loss terms).
 * Epoch records: {@code time}, {@code epoch}, {@code global_step}, {@code images}, {@code seconds},
 * {@code images_per_second}, {@code losses} (epoch means), {@code metrics}. Indices are 0-based as in the events;
 * NaN and infinite values are written as {@code null}. A step whose loss is not finite is always written, whatever
 * {@code everySteps}, so the file shows the step that stopped the run.
 *
 * <p>Every line is flushed as it is written, so a killed process keeps all complete lines (the OS holds them; no
 * fsync, so a power cut may lose the last few).
 *
 * <p>Resume: at {@link #onRunStart} existing files are kept and appended to, after removing the records a resumed
 * run will write again: step records with {@code global_step >= RunInfo.startGlobalStep} and epoch records with
 * {@code epoch >= RunInfo.startEpoch}, i.e. whatever a crashed run logged after its last checkpoint, plus a torn last
 * line. The files therefore never hold a step twice. A fresh run (start step 0) in a directory with old files starts
 * them empty by the same rule.
 */
public final class JsonlMetricsListener implements TrainingListener {

    private final Path dirOverride;
    private final int everySteps;
    private Writer steps;
    private Writer epochs;

    /** Writes into the run's {@link RunInfo#outputDir()}, a step record every {@code everySteps} steps. */
    public JsonlMetricsListener(int everySteps) {
        this(null, everySteps);
    }

    /**
     * @param dir        the directory for the files, or null for the run's output directory
     * @param everySteps write a step record when {@code (globalStep + 1) % everySteps == 0}; 1 writes every step
     */
    public JsonlMetricsListener(Path dir, int everySteps) {
        if (everySteps < 1) {
            throw new IllegalArgumentException("everySteps must be >= 1, got " + everySteps);
        }
        this.dirOverride = dir;
        this.everySteps = everySteps;
    }

    @Override
    public void onRunStart(RunInfo run) {
        close();
        Path dir = dirOverride != null ? dirOverride : run.outputDir();
        try {
            Files.createDirectories(dir);
            Path stepFile = dir.resolve(MetricsFiles.STEPS);
            Path epochFile = dir.resolve(MetricsFiles.EPOCHS);
            MetricsFiles.prune(stepFile, "global_step", run.startGlobalStep());
            MetricsFiles.prune(epochFile, "epoch", run.startEpoch());
            steps = open(stepFile);
            epochs = open(epochFile);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot open the metrics files in " + dir, e);
        }
    }

    private static Writer open(Path file) throws IOException {
        return Files.newBufferedWriter(file, StandardCharsets.UTF_8, StandardOpenOption.CREATE,
                StandardOpenOption.WRITE, StandardOpenOption.APPEND);
    }

    @Override
    public void onStepEnd(StepEvent s) {
        boolean finite = s.losses().values().stream().allMatch(Double::isFinite);
        if ((s.globalStep() + 1) % everySteps != 0 && finite) {
            return;
        }
        ObjectNode n = MetricsFiles.JSON.createObjectNode();
        n.put("time", Instant.now().toString());
        n.put("epoch", s.epoch());
        n.put("step", s.step());
        n.put("global_step", s.globalStep());
        MetricsFiles.putNumber(n, "lr", s.lr());
        MetricsFiles.putNumber(n, "wd", s.wd());
        MetricsFiles.putNumber(n, "grad_norm", s.gradNorm());
        n.put("images", s.images());
        MetricsFiles.putNumber(n, "seconds", s.seconds());
        MetricsFiles.putMap(n, "losses", s.losses());
        write(steps, n, MetricsFiles.STEPS);
    }

    @Override
    public void onEpochEnd(EpochEvent e) {
        ObjectNode n = MetricsFiles.JSON.createObjectNode();
        n.put("time", Instant.now().toString());
        n.put("epoch", e.epoch());
        n.put("global_step", e.globalStep());
        n.put("images", e.images());
        MetricsFiles.putNumber(n, "seconds", e.seconds());
        MetricsFiles.putNumber(n, "images_per_second", e.imagesPerSecond());
        MetricsFiles.putMap(n, "losses", e.meanLosses());
        MetricsFiles.putMap(n, "metrics", e.metrics());
        write(epochs, n, MetricsFiles.EPOCHS);
    }

    private static void write(Writer w, ObjectNode n, String name) {
        Objects.requireNonNull(w, () -> name + " is not open: onRunStart was not called, or the run has ended");
        try {
            w.write(n.toString());
            w.write('\n');
            w.flush();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + name, e);
        }
    }

    @Override
    public void onRunEnd(RunSummary summary) {
        close();
    }

    private void close() {
        try {
            if (steps != null) {
                steps.close();
            }
            if (epochs != null) {
                epochs.close();
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot close the metrics files", e);
        } finally {
            steps = null;
            epochs = null;
        }
    }
}
