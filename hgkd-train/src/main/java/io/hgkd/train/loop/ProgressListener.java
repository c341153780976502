package io.hgkd.train.loop;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Objects;
import java.util.function.LongSupplier;

/**
 * Shows training progress on a console.
 *
 * <p>{@link Mode#TTY}: one line redrawn in place with a carriage return (at most ten times a second, and always on
 * an epoch's first and last step): epoch, step/total, a bar, the loss terms, lr, images/s and the ETA of the epoch
 * and of the run. {@link Mode#PLAIN}, for CI logs and files where carriage returns pile up: the same information
 * without the bar on one new line every {@code everySteps} steps or {@code everySeconds} seconds, whichever comes
 * first, plus the run's first step. Both modes print one line per epoch, per checkpoint and at run end.
 *
 * <p>Rates and ETAs come from the steps' own {@link StepEvent#seconds()} and {@link StepEvent#images()}, smoothed
 * with an exponential moving average ({@code smoothing} is the weight of the newest step, 0.1 by default) of seconds
 * and images per step separately; the rate is their ratio, which a single slow step (JIT warm-up, a checkpoint)
 * moves less than an average of per-step rates. The run ETA counts remaining steps only: evaluation time is not in
 * it until an epoch ends, from then on the run ETA uses the last epoch's duration.
 */
public final class ProgressListener implements TrainingListener {

    /** How progress is drawn. */
    public enum Mode {
        /** One line updated in place; for terminals. */
        TTY,
        /** Periodic plain lines; for logs. */
        PLAIN
    }

    private static final double TTY_MIN_INTERVAL_SECONDS = 0.1;
    private static final int BAR_WIDTH = 20;

    private final PrintStream out;
    private final Mode mode;
    private final int everySteps;
    private final double everySeconds;
    private final double smoothing;
    private final LongSupplier nanoClock;

    private RunInfo run;
    private long runStartNanos;
    private double emaSeconds = Double.NaN;
    private double emaImages = Double.NaN;
    private long lastDrawNanos;
    private boolean drawnAny;
    private int lastLineLength;
    private double lastEpochSeconds = Double.NaN;

    /**
     * @param out          where to write
     * @param mode         TTY or plain lines
     * @param everySteps   plain mode: print every this many steps (counted on the global step)
     * @param everySeconds plain mode: print at least this often while steps arrive
     * @param smoothing    weight of the newest step in the moving averages, in (0, 1]
     * @param nanoClock    the time source, {@link System#nanoTime} outside tests
     */
    public ProgressListener(PrintStream out, Mode mode, int everySteps, double everySeconds, double smoothing,
            LongSupplier nanoClock) {
        this.out = Objects.requireNonNull(out, "out");
        this.mode = Objects.requireNonNull(mode, "mode");
        if (everySteps < 1 || !(everySeconds > 0) || !(smoothing > 0 && smoothing <= 1)) {
            throw new IllegalArgumentException("need everySteps >= 1, everySeconds > 0 and smoothing in (0, 1], got "
                    + everySteps + ", " + everySeconds + ", " + smoothing);
        }
        this.everySteps = everySteps;
        this.everySeconds = everySeconds;
        this.smoothing = smoothing;
        this.nanoClock = Objects.requireNonNull(nanoClock, "nanoClock");
    }

    /**
     * For the console: writes to standard error (standard output stays free for results); TTY mode when a terminal
     * is attached ({@code System.console() != null}) unless {@code forcePlain} or the system property
     * {@code hgkd.progress=plain}; plain lines every 50 steps or 30 seconds otherwise.
     */
    public static ProgressListener forConsole(boolean forcePlain) {
        boolean plain = forcePlain || System.console() == null
                || "plain".equalsIgnoreCase(System.getProperty("hgkd.progress"));
        return new ProgressListener(System.err, plain ? Mode.PLAIN : Mode.TTY, 50, 30, 0.1, System::nanoTime);
    }

    /** TTY mode on {@code out}. */
    public static ProgressListener tty(PrintStream out) {
        return new ProgressListener(out, Mode.TTY, 50, 30, 0.1, System::nanoTime);
    }

    /** Plain lines on {@code out} every {@code everySteps} steps or {@code everySeconds} seconds. */
    public static ProgressListener plain(PrintStream out, int everySteps, double everySeconds) {
        return new ProgressListener(out, Mode.PLAIN, everySteps, everySeconds, 0.1, System::nanoTime);
    }

    /** The mode in use. */
    public Mode mode() {
        return mode;
    }

    @Override
    public void onRunStart(RunInfo info) {
        run = info;
        runStartNanos = nanoClock.getAsLong();
        String resumed = info.resumed() ? String.format(Locale.ROOT, ", resuming at epoch %d step %d",
                info.startEpoch() + 1, info.startGlobalStep()) : "";
        println(String.format(Locale.ROOT, "%s: %d epochs x %d steps, batch %d (effective %d), lr %s (base %s)%s, "
                + "output %s", info.jobName(), info.totalEpochs(), info.iterationsPerEpoch(), info.batchSize(),
                info.effectiveBatchSize(), ConsoleFormat.sci(info.scaledLr()), ConsoleFormat.sci(info.baseLr()),
                resumed, info.outputDir()));
    }

    @Override
    public void onStepEnd(StepEvent s) {
        if (Double.isNaN(emaSeconds)) {
            emaSeconds = s.seconds();
            emaImages = s.images();
        } else {
            emaSeconds += smoothing * (s.seconds() - emaSeconds);
            emaImages += smoothing * (s.images() - emaImages);
        }
        long now = nanoClock.getAsLong();
        double sinceDraw = (now - lastDrawNanos) / 1e9;
        boolean lastOfEpoch = run != null && s.step() == run.iterationsPerEpoch() - 1;
        if (mode == Mode.TTY) {
            if (!drawnAny || s.step() == 0 || lastOfEpoch || sinceDraw >= TTY_MIN_INTERVAL_SECONDS) {
                String line = stepLine(s, true);
                // Pad with spaces so a shorter line fully covers the previous one.
                int pad = Math.max(0, lastLineLength - line.length());
                out.print('\r' + line + " ".repeat(pad));
                out.flush();
                lastLineLength = line.length();
                markDrawn(now);
            }
        } else if (!drawnAny || (s.globalStep() + 1) % everySteps == 0 || sinceDraw >= everySeconds) {
            println(stepLine(s, false));
            markDrawn(now);
        }
    }

    private void markDrawn(long now) {
        lastDrawNanos = now;
        drawnAny = true;
    }

    /** Smoothed images per second, NaN before the first step. */
    double imagesPerSecond() {
        return emaSeconds > 0 ? emaImages / emaSeconds : Double.NaN;
    }

    String stepLine(StepEvent s, boolean withBar) {
        StringBuilder sb = new StringBuilder();
        double secondsPerStep = emaSeconds;
        if (run != null) {
            int iters = run.iterationsPerEpoch();
            sb.append(String.format(Locale.ROOT, "epoch %d/%d step %d/%d", s.epoch() + 1, run.totalEpochs(),
                    s.step() + 1, iters));
            if (withBar) {
                double f = (s.step() + 1) / (double) iters;
                sb.append(' ').append(ConsoleFormat.bar(f, BAR_WIDTH))
                        .append(String.format(Locale.ROOT, " %3d%%", (int) Math.floor(100 * f)));
            }
        } else {
            sb.append(String.format(Locale.ROOT, "epoch %d step %d", s.epoch() + 1, s.step() + 1));
        }
        sb.append(" | ").append(ConsoleFormat.terms(s.losses()));
        sb.append(" | lr ").append(ConsoleFormat.sci(s.lr()));
        sb.append(" | ").append(ConsoleFormat.rate(imagesPerSecond()));
        if (run != null) {
            long leftInEpoch = run.iterationsPerEpoch() - s.step() - 1L;
            long leftInRun = run.totalSteps() - s.globalStep() - 1L;
            sb.append(" | ETA ").append(ConsoleFormat.duration(leftInEpoch * secondsPerStep))
                    .append(" (run ").append(runEta(s.epoch(), leftInEpoch, leftInRun, secondsPerStep)).append(')');
        }
        return sb.toString();
    }

    private String runEta(int epoch, long leftInEpoch, long leftInRun, double secondsPerStep) {
        if (Double.isFinite(lastEpochSeconds)) {
            // Whole epochs after this one take what the last epoch took, evaluation included.
            int epochsAfter = run.totalEpochs() - epoch - 1;
            return ConsoleFormat.duration(leftInEpoch * secondsPerStep + epochsAfter * lastEpochSeconds);
        }
        return ConsoleFormat.duration(leftInRun * secondsPerStep);
    }

    @Override
    public void onEpochEnd(EpochEvent e) {
        lastEpochSeconds = e.seconds();
        StringBuilder sb = new StringBuilder();
        if (run != null) {
            sb.append(String.format(Locale.ROOT, "epoch %d/%d done in %s", e.epoch() + 1, run.totalEpochs(),
                    ConsoleFormat.duration(e.seconds())));
        } else {
            sb.append(String.format(Locale.ROOT, "epoch %d done in %s", e.epoch() + 1,
                    ConsoleFormat.duration(e.seconds())));
        }
        sb.append(" | ").append(ConsoleFormat.terms(e.meanLosses()));
        if (!e.metrics().isEmpty()) {
            sb.append(" | ").append(ConsoleFormat.terms(e.metrics()));
        }
        sb.append(" | ").append(ConsoleFormat.rate(e.imagesPerSecond()));
        if (run != null) {
            int left = run.totalEpochs() - e.epoch() - 1;
            sb.append(" | ETA run ").append(ConsoleFormat.duration(left * e.seconds()));
        }
        println(sb.toString());
    }

    @Override
    public void onCheckpoint(Path dir, long globalStep) {
        println("checkpoint at step " + globalStep + ": " + dir);
    }

    @Override
    public void onRunEnd(RunSummary summary) {
        String took = ConsoleFormat.duration((nanoClock.getAsLong() - runStartNanos) / 1e9);
        String what = switch (summary.status()) {
            case COMPLETED -> "run completed";
            case STOPPED -> "run stopped";
            case FAILED -> "run FAILED";
        };
        StringBuilder sb = new StringBuilder(what).append(String.format(Locale.ROOT,
                " after %d epochs, %d steps, in %s", summary.epochs(), summary.globalSteps(), took));
        if (!summary.finalMetrics().isEmpty()) {
            sb.append(" | ").append(ConsoleFormat.terms(summary.finalMetrics()));
        }
        if (summary.failed()) {
            sb.append(": ").append(summary.failure().getMessage() != null ? summary.failure().getMessage()
                    : summary.failure().toString());
        }
        println(sb.toString());
    }

    /** A full line; in TTY mode it first wipes the progress line so the two never mix. */
    private void println(String line) {
        if (mode == Mode.TTY && lastLineLength > 0) {
            out.print('\r' + " ".repeat(lastLineLength) + '\r');
            lastLineLength = 0;
        }
        out.println(line);
        out.flush();
    }
}
