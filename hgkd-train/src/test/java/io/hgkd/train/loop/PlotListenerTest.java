package io.hgkd.train.loop;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PlotListenerTest {

    @TempDir
    Path dir;

    /** Decodes the PNG and checks its size and that it is not one flat colour. */
    private static void assertPlot(Path file, int width, int height) throws IOException {
        assertTrue(Files.exists(file), file + " missing");
        BufferedImage img = ImageIO.read(file.toFile());
        assertNotNull(img, file + " does not decode");
        assertEquals(width, img.getWidth());
        assertEquals(height, img.getHeight());
        Set<Integer> colours = new HashSet<>();
        for (int y = 0; y < height; y += 3) {
            for (int x = 0; x < width; x += 3) {
                colours.add(img.getRGB(x, y));
            }
        }
        assertTrue(colours.size() > 3, file + " has only " + colours.size() + " colours");
    }

    @Test
    void writesLossLrAndMetricsPlotsAtEpochEnds() throws IOException {
        PlotListener p = new PlotListener(null, 1, false, 640, 400, 2000);
        p.onRunStart(Events.run(dir, 3, 20));
        for (long g = 0; g < 20; g++) {
            p.onStepEnd(Events.step(g, 20, 1));
        }
        p.onEpochEnd(Events.epoch(0, 20, Map.of()));
        assertPlot(dir.resolve("loss.png"), 640, 400);
        assertPlot(dir.resolve("lr.png"), 640, 400);
        assertFalse(Files.exists(dir.resolve("metrics.png")), "no metrics yet, no empty chart");

        for (long g = 20; g < 60; g++) {
            p.onStepEnd(Events.step(g, 20, 1));
            if (g % 20 == 19) {
                p.onEpochEnd(Events.epoch((int) (g / 20), 20, Map.of("top1", 40.0 + g, "top5", 80.0 + g / 10.0)));
            }
        }
        p.onRunEnd(Events.completed(3, 60));
        assertPlot(dir.resolve("metrics.png"), 640, 400);
        try (Stream<Path> files = Files.list(dir)) {
            assertEquals(Set.of("loss.png", "lr.png", "metrics.png"),
                    files.map(f -> f.getFileName().toString()).collect(java.util.stream.Collectors.toSet()),
                    "no temporary files left behind");
        }
    }

    @Test
    void logScaleSkipsNonPositiveAndNonFiniteValues() throws IOException {
        PlotListener p = new PlotListener(dir, 1, true, 300, 200, 2000);
        p.onRunStart(Events.run(dir, 1, 10));
        for (long g = 0; g < 9; g++) {
            p.onStepEnd(Events.step(g, 10, 1));
        }
        p.onStepEnd(new StepEvent(0, 9, 9, Events.losses(Double.NaN, 0.0, Double.NEGATIVE_INFINITY), 1e-3, 0, 0, 1,
                1));
        p.writePlots();
        assertPlot(dir.resolve("loss.png"), 300, 200);
    }

    @Test
    void resumedRunPlotsTheEarlierHistoryFromTheMetricsFiles() throws IOException {
        JsonlMetricsListener metrics = new JsonlMetricsListener(1);
        CompositeListener first = CompositeListener.of(metrics);
        first.onRunStart(Events.run(dir, 2, 5));
        for (long g = 0; g < 7; g++) {
            first.onStepEnd(Events.step(g, 5, 1));
            if (g == 4) {
                first.onEpochEnd(Events.epoch(0, 5, Map.of("top1", 12.0)));
            }
        }
        // The resumed process has seen no step yet, but its plots already show epoch 0's metrics and steps 0-4.
        PlotListener p = new PlotListener(null, 1, false, 320, 240, 2000);
        p.onRunStart(Events.resumed(dir, 2, 5, 1, 5));
        p.writePlots();
        assertPlot(dir.resolve("loss.png"), 320, 240);
        assertPlot(dir.resolve("metrics.png"), 320, 240);
    }

    @Test
    void longSeriesAreBucketAveraged() {
        PlotListener.Series s = new PlotListener.Series();
        for (int i = 0; i < 10; i++) {
            s.add(i, i == 3 ? Double.NaN : i);
        }
        double[][] xy = s.drawable(false, 4);
        // 9 finite points, buckets of 3: {0,1,2} {4,5,6} {7,8,9}
        assertArrayEquals(new double[] {1, 5, 8}, xy[0], 1e-12);
        assertArrayEquals(new double[] {1, 5, 8}, xy[1], 1e-12);
        assertEquals(9, s.drawable(false, 100)[0].length);
        assertEquals(8, s.drawable(true, 100)[0].length, "log axis drops the zero");
    }
}
