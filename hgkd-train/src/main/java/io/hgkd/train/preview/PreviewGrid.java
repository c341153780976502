package io.hgkd.train.preview;

import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.util.ArrayList;
import java.util.List;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Renders a {@link Preview} as one image: a header row of column names, then one row per image with the columns
 * {@code input}, {@code mask} (white = visible), {@code masked} (masked cells grey), {@code reconstruction}
 * (predicted pixels in the masked cells, the input in the visible ones; only with a pixel head), and
 * {@code student feat} / {@code teacher feat} (each feature-grid token coloured by {@link FeaturePca} fit on the
 * teacher features of all rows; only with features).
 *
 * <p>Every cell is the image side scaled up by an integer factor to at least {@value #MIN_CELL} pixels (nearest
 * neighbour); cells are separated by {@value #PAD} pixels. Pixel values are mapped to grey levels per row from the
 * input's minimum and maximum (the same mapping for the masked input and the reconstruction, clamped), so no
 * knowledge of the data's normalisation is needed.
 */
public final class PreviewGrid {
    /** Smallest cell side in pixels. */
    public static final int MIN_CELL = 96;
    /** Gap between cells and around the grid, in pixels. */
    public static final int PAD = 2;
    /** Height of the header with the column names, in pixels. */
    public static final int HEADER = 16;
    /** Grey of masked cells. */
    static final int MASKED_GREY = 0x808080;

    private PreviewGrid() {
    }

    /** The column names of {@code p}, left to right. */
    public static List<String> columns(Preview p) {
        List<String> c = new ArrayList<>(List.of("input", "mask", "masked"));
        if (p.reconstruction() != null) {
            c.add("reconstruction");
        }
        if (p.teacherFeatures() != null) {
            c.add("student feat");
            c.add("teacher feat");
        }
        return c;
    }

    /** Side of one cell for images of side {@code imageSide}: a multiple of it, at least {@link #MIN_CELL}. */
    public static int cellSize(int imageSide) {
        return imageSide * Math.max(1, (MIN_CELL + imageSide - 1) / imageSide);
    }

    /** Draws the grid. */
    public static BufferedImage render(Preview p) {
        int n = p.size();
        INDArray images = p.images().castTo(DataType.DOUBLE);
        int ch = (int) images.size(1);
        int h = (int) images.size(2);
        int w = (int) images.size(3);
        int cell = cellSize(Math.max(h, w));
        int scale = cell / Math.max(h, w);
        List<String> cols = columns(p);
        int width = cols.size() * cell + (cols.size() + 1) * PAD;
        int height = HEADER + n * cell + (n + 1) * PAD;
        BufferedImage out = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = out.createGraphics();
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, width, height);
        g.setColor(Color.BLACK);
        g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 11));
        for (int c = 0; c < cols.size(); c++) {
            g.drawString(cols.get(c), PAD + c * (cell + PAD) + 2, HEADER - 4);
        }
        g.dispose();

        INDArray rec = p.reconstruction() == null ? null : p.reconstruction().castTo(DataType.DOUBLE);
        int[][][] studentRgb = null;
        int[][][] teacherRgb = null;
        if (p.teacherFeatures() != null) {
            double[][][] t = rows(p.teacherFeatures());
            double[][][] s = rows(p.studentFeatures());
            double[][] all = new double[t.length * t[0].length][];
            int k = 0;
            for (double[][] img : t) {
                for (double[] tok : img) {
                    all[k++] = tok;
                }
            }
            FeaturePca pca = FeaturePca.fit(all);
            int gSide = p.featureGrid();
            teacherRgb = colours(pca, t, gSide);
            studentRgb = colours(pca, s, gSide);
        }
        for (int i = 0; i < n; i++) {
            double[][][] x = chw(images, i, ch, h, w);
            double lo = Double.POSITIVE_INFINITY;
            double hi = Double.NEGATIVE_INFINITY;
            for (double[][] plane : x) {
                for (double[] row : plane) {
                    for (double v : row) {
                        lo = Math.min(lo, v);
                        hi = Math.max(hi, v);
                    }
                }
            }
            double range = hi > lo ? hi - lo : 1;
            boolean[][] vis = p.visible()[i];
            int gh = vis.length;
            int gw = vis[0].length;
            int y0 = HEADER + PAD + i * (cell + PAD);
            double[][][] r = rec == null ? null : chw(rec, i, ch, h, w);
            int col = 0;
            for (String name : cols) {
                int x0 = PAD + col * (cell + PAD);
                for (int yy = 0; yy < h * scale; yy++) {
                    for (int xx = 0; xx < w * scale; xx++) {
                        int py = yy / scale;
                        int px = xx / scale;
                        boolean visible = vis[py * gh / h][px * gw / w];
                        int rgb = switch (name) {
                            case "input" -> pixel(x, py, px, lo, range);
                            case "mask" -> visible ? 0xFFFFFF : 0x202020;
                            case "masked" -> visible ? pixel(x, py, px, lo, range) : MASKED_GREY;
                            case "reconstruction" -> visible ? pixel(x, py, px, lo, range) : pixel(r, py, px, lo, range);
                            case "student feat" -> studentRgb[i][py * studentRgb[i].length / h]
                                    [px * studentRgb[i][0].length / w];
                            default -> teacherRgb[i][py * teacherRgb[i].length / h][px * teacherRgb[i][0].length / w];
                        };
                        out.setRGB(x0 + xx, y0 + yy, rgb);
                    }
                }
                col++;
            }
        }
        return out;
    }

    /** Grey (1 channel) or RGB (3 channels; otherwise the first channel as grey) mapped from [lo, lo + range]. */
    private static int pixel(double[][][] x, int y, int xx, double lo, double range) {
        if (x.length == 3) {
            return (level(x[0][y][xx], lo, range) << 16) | (level(x[1][y][xx], lo, range) << 8)
                    | level(x[2][y][xx], lo, range);
        }
        int v = level(x[0][y][xx], lo, range);
        return (v << 16) | (v << 8) | v;
    }

    private static int level(double v, double lo, double range) {
        return (int) Math.round(255 * Math.max(0, Math.min(1, (v - lo) / range)));
    }

    private static double[][][] chw(INDArray a, int i, int c, int h, int w) {
        double[] flat = a.get(org.nd4j.linalg.indexing.NDArrayIndex.point(i)).dup('c').data().asDouble();
        double[][][] out = new double[c][h][w];
        for (int k = 0; k < c; k++) {
            for (int y = 0; y < h; y++) {
                System.arraycopy(flat, (k * h + y) * w, out[k][y], 0, w);
            }
        }
        return out;
    }

    /** (n, N, D) to n x N x D doubles. */
    private static double[][][] rows(INDArray f) {
        int n = (int) f.size(0);
        int tokens = (int) f.size(1);
        int d = (int) f.size(2);
        double[] flat = f.castTo(DataType.DOUBLE).dup('c').data().asDouble();
        double[][][] out = new double[n][tokens][d];
        for (int i = 0; i < n; i++) {
            for (int t = 0; t < tokens; t++) {
                System.arraycopy(flat, (i * tokens + t) * d, out[i][t], 0, d);
            }
        }
        return out;
    }

    private static int[][][] colours(FeaturePca pca, double[][][] f, int side) {
        int[][][] out = new int[f.length][side][side];
        for (int i = 0; i < f.length; i++) {
            for (int t = 0; t < side * side; t++) {
                out[i][t / side][t % side] = pca.rgb(f[i][t]);
            }
        }
        return out;
    }
}
