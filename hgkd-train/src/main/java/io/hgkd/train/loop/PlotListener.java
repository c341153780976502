package io.hgkd.train.loop;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import javax.imageio.ImageIO;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.lines.SeriesLines;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * Draws PNG plots with XChart at each epoch end and at run end:
 * <ul>
 *   <li>{@value #LOSS_PNG}: every loss term against the global step (optionally on a log axis);</li>
 *   <li>{@value #LR_PNG}: the learning rate against the global step;</li>
 *   <li>{@value #METRICS_PNG}: every epoch metric (e.g. top1, top5) against the epoch (1-based); only once an epoch
 *       has reported metrics.</li>
 * </ul>
 * Each file is rendered to memory, written to a temporary name and renamed, so a viewer or a kill never sees half a
 * PNG. Rendering needs no display (run with {@code -Djava.awt.headless=true} on machines that have one set
 * but unusable).
 *
 * <p>The listener keeps its own series (a point every {@code everySteps} steps, plus any non-finite step, which is
 * left out of the plot). On a resumed run it first loads the earlier history from the {@link MetricsFiles} in the
 * plot directory, up to the resume point, so the plots cover the whole run. Series longer than {@code maxPoints} are
 * averaged over equal buckets before drawing, which also smooths noisy per-step losses.
 */
public final class PlotListener implements TrainingListener {

    /** Loss terms against the global step. */
    public static final String LOSS_PNG = "loss.png";
    /** Learning rate against the global step. */
    public static final String LR_PNG = "lr.png";
    /** Epoch metrics against the epoch. */
    public static final String METRICS_PNG = "metrics.png";

    private final Path dirOverride;
    private final int everySteps;
    private final boolean logLoss;
    private final int width;
    private final int height;
    private final int maxPoints;

    private Path dir;
    private String title = "";
    private final Series lr = new Series();
    private final Map<String, Series> losses = new LinkedHashMap<>();
    private final Map<String, Series> metrics = new LinkedHashMap<>();

    /** Plots into the run's output directory, a point every 10 steps, linear axes, 900x500 pixels. */
    public PlotListener() {
        this(null, 10, false, 900, 500, 2000);
    }

    /**
     * @param dir        where to write, or null for the run's output directory (the metrics files are read from
     *                   there on resume)
     * @param everySteps record a point when {@code (globalStep + 1) % everySteps == 0}
     * @param logLoss    draw the loss on a logarithmic axis (values {@code <= 0} are then left out)
     * @param width      image width in pixels
     * @param height     image height in pixels
     * @param maxPoints  most points drawn per series
     */
    public PlotListener(Path dir, int everySteps, boolean logLoss, int width, int height, int maxPoints) {
        if (everySteps < 1 || width < 100 || height < 100 || maxPoints < 2) {
            throw new IllegalArgumentException("need everySteps >= 1, width and height >= 100 and maxPoints >= 2, got "
                    + everySteps + ", " + width + "x" + height + ", " + maxPoints);
        }
        this.dirOverride = dir;
        this.everySteps = everySteps;
        this.logLoss = logLoss;
        this.width = width;
        this.height = height;
        this.maxPoints = maxPoints;
    }

    @Override
    public void onRunStart(RunInfo run) {
        dir = dirOverride != null ? dirOverride : run.outputDir();
        title = run.jobName();
        lr.clear();
        losses.clear();
        metrics.clear();
        if (run.startGlobalStep() > 0 || run.startEpoch() > 0) {
            for (ObjectNode n : MetricsFiles.read(dir.resolve(MetricsFiles.STEPS), "global_step",
                    run.startGlobalStep())) {
                double x = n.get("global_step").asDouble();
                lr.add(x, MetricsFiles.number(n, "lr"));
                addAll(losses, x, n.path("losses"));
            }
            for (ObjectNode n : MetricsFiles.read(dir.resolve(MetricsFiles.EPOCHS), "epoch", run.startEpoch())) {
                addAll(metrics, n.get("epoch").asDouble() + 1, n.path("metrics"));
            }
        }
    }

    private static void addAll(Map<String, Series> into, double x, JsonNode values) {
        for (Iterator<Map.Entry<String, JsonNode>> it = values.fields(); it.hasNext();) {
            Map.Entry<String, JsonNode> e = it.next();
            into.computeIfAbsent(e.getKey(), k -> new Series())
                    .add(x, e.getValue().isNumber() ? e.getValue().asDouble() : Double.NaN);
        }
    }

    @Override
    public void onStepEnd(StepEvent s) {
        if ((s.globalStep() + 1) % everySteps != 0) {
            return;
        }
        double x = s.globalStep();
        lr.add(x, s.lr());
        s.losses().forEach((k, v) -> losses.computeIfAbsent(k, n -> new Series()).add(x, v));
    }

    @Override
    public void onEpochEnd(EpochEvent e) {
        e.metrics().forEach((k, v) -> metrics.computeIfAbsent(k, n -> new Series()).add(e.epoch() + 1, v));
        writePlots();
    }

    @Override
    public void onRunEnd(RunSummary summary) {
        if (dir != null) {
            writePlots();
        }
    }

    /** Renders and writes every plot that has data; package-private for tests. */
    void writePlots() {
        if (dir == null) {
            throw new IllegalStateException("onRunStart was not called");
        }
        try {
            Files.createDirectories(dir);
            write(chart(title + " loss", "global step", "loss", losses, logLoss, false, false), LOSS_PNG);
            write(chart(title + " learning rate", "global step", "lr", Map.of("lr", lr), false, false, true), LR_PNG);
            write(chart(title + " metrics", "epoch", "value", metrics, false, true, false), METRICS_PNG);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write plots to " + dir, e);
        }
    }

    private XYChart chart(String chartTitle, String xTitle, String yTitle, Map<String, Series> series, boolean log,
            boolean markers, boolean scientificY) {
        XYChart chart = new XYChartBuilder().width(width).height(height).title(chartTitle).xAxisTitle(xTitle)
                .yAxisTitle(yTitle).build();
        chart.getStyler().setYAxisLogarithmic(log);
        chart.getStyler().setChartBackgroundColor(java.awt.Color.WHITE);
        double[][] first = null;
        for (Map.Entry<String, Series> e : series.entrySet()) {
            double[][] xy = e.getValue().drawable(log, maxPoints);
            if (xy[0].length == 0) {
                continue;
            }
            XYSeries s = chart.addSeries(e.getKey(), xy[0], xy[1]);
            s.setMarker(markers ? SeriesMarkers.CIRCLE : SeriesMarkers.NONE);
            first = first == null ? xy : first;
        }
        // Few epochs label fine as they are (1, 2, 3); with the hidden point they would get ticks at 1.2, 1.4, ...
        int needsHidden = markers ? 20 : 3;
        if (first != null && first[0].length >= needsHidden) {
            // XChart 3.8.8 puts a tick label on (nearly) every point when all x (or y) values are equally spaced,
            // which steps logged every N always are, and the labels run into each other (knowm/XChart#731). An
            // invisible point between the first two breaks the equal spacing, so the usual tick spacing applies.
            double[] hx = {(first[0][0] + first[0][1]) / 2 + (first[0][1] - first[0][0]) / 7};
            double[] hy = {(first[1][0] + first[1][1]) / 2};
            XYSeries hidden = chart.addSeries(" ", hx, hy);
            hidden.setMarker(SeriesMarkers.NONE);
            hidden.setLineStyle(SeriesLines.NONE);
            hidden.setShowInLegend(false);
        }
        return first != null ? chart : null;
    }

    private void write(XYChart chart, String name) throws IOException {
        if (chart == null) {
            return; // nothing to draw yet; an empty chart would only say "no data"
        }
        BufferedImage image = BitmapEncoder.getBufferedImage(chart);
        Path target = dir.resolve(name);
        Path tmp = dir.resolve(name + ".tmp");
        if (!ImageIO.write(image, "png", tmp.toFile())) {
            throw new IOException("no PNG writer in ImageIO");
        }
        MetricsFiles.move(tmp, target);
    }

    /** A growable (x, y) series of primitives: long runs have millions of steps. */
    static final class Series {
        private double[] x = new double[64];
        private double[] y = new double[64];
        private int n;

        void add(double xv, double yv) {
            if (n == x.length) {
                x = Arrays.copyOf(x, 2 * n);
                y = Arrays.copyOf(y, 2 * n);
            }
            x[n] = xv;
            y[n] = yv;
            n++;
        }

        void clear() {
            n = 0;
        }

        /**
         * The finite points (positive ones on a log axis), averaged over equal buckets when there are more than
         * {@code maxPoints}.
         */
        double[][] drawable(boolean log, int maxPoints) {
            double[] fx = new double[n];
            double[] fy = new double[n];
            int m = 0;
            for (int i = 0; i < n; i++) {
                if (Double.isFinite(y[i]) && (!log || y[i] > 0)) {
                    fx[m] = x[i];
                    fy[m] = y[i];
                    m++;
                }
            }
            if (m <= maxPoints) {
                return new double[][] {Arrays.copyOf(fx, m), Arrays.copyOf(fy, m)};
            }
            int bucket = (m + maxPoints - 1) / maxPoints;
            int out = (m + bucket - 1) / bucket;
            double[] bx = new double[out];
            double[] by = new double[out];
            for (int b = 0; b < out; b++) {
                int from = b * bucket;
                int to = Math.min(m, from + bucket);
                double sx = 0;
                double sy = 0;
                for (int i = from; i < to; i++) {
                    sx += fx[i];
                    sy += fy[i];
                }
                bx[b] = sx / (to - from);
                by[b] = sy / (to - from);
            }
            return new double[][] {bx, by};
        }
    }
}
