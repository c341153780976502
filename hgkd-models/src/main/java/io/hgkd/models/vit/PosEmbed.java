package io.hgkd.models.vit;

import io.hgkd.core.nn.Tensors;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Position-embedding tables: MAE's fixed 2-D sin-cos embedding ({@code util/pos_embed.py}) and the bicubic resampling
 * of a table to another patch grid (MAE's {@code interpolate_pos_embed}, i.e.
 * {@code F.interpolate(mode='bicubic', align_corners=False)} on the grid part, prefix rows kept).
 */
public final class PosEmbed {
    /** PyTorch's cubic-convolution coefficient A. */
    private static final double CUBIC_A = -0.75;

    private PosEmbed() {
    }

    /**
     * MAE's {@code get_2d_sincos_pos_embed(embedDim, gridSize, cls_token)} for a square grid.
     *
     * @see #sincos2d(int, int, int, boolean)
     */
    public static INDArray sincos2d(int embedDim, int gridSize, boolean clsToken) {
        return sincos2d(embedDim, gridSize, gridSize, clsToken);
    }

    /**
     * The 2-D sin-cos table for a {@code gridH x gridW} patch grid, computed in float64 and rounded to float32.
     *
     * <p>Row {@code n = r * gridW + c} (row-major tokens) holds, with {@code w_k = 1 / 10000^(k / (D/4))}:
     * {@code sin(c w)}, {@code cos(c w)}, {@code sin(r w)}, {@code cos(r w)}, each D/4 wide. The first half encodes
     * the column because MAE builds the grid with {@code np.meshgrid(grid_w, grid_h)}.
     *
     * @param embedDim D, divisible by 4
     * @param clsToken prepend an all-zero row (the class token's entry)
     * @return a FLOAT array {@code (clsToken ? 1 : 0) + gridH * gridW} x D
     */
    public static INDArray sincos2d(int embedDim, int gridH, int gridW, boolean clsToken) {
        if (embedDim <= 0 || embedDim % 4 != 0) {
            throw new IllegalArgumentException("sin-cos position embedding needs embedDim divisible by 4, got "
                    + embedDim);
        }
        if (gridH <= 0 || gridW <= 0) {
            throw new IllegalArgumentException("grid must be positive, got " + gridH + "x" + gridW);
        }
        int quarter = embedDim / 4;
        double[] omega = new double[quarter];
        for (int k = 0; k < quarter; k++) {
            omega[k] = 1.0 / Math.pow(10000.0, k / (double) quarter);
        }
        int offset = clsToken ? 1 : 0;
        float[] out = new float[(offset + gridH * gridW) * embedDim];
        for (int r = 0; r < gridH; r++) {
            for (int c = 0; c < gridW; c++) {
                int base = (offset + r * gridW + c) * embedDim;
                for (int k = 0; k < quarter; k++) {
                    double ac = c * omega[k];
                    double ar = r * omega[k];
                    out[base + k] = (float) Math.sin(ac);
                    out[base + quarter + k] = (float) Math.cos(ac);
                    out[base + 2 * quarter + k] = (float) Math.sin(ar);
                    out[base + 3 * quarter + k] = (float) Math.cos(ar);
                }
            }
        }
        return Nd4j.create(out, new long[] {offset + (long) gridH * gridW, embedDim}, DataType.FLOAT);
    }

    /**
     * Resamples a square position-embedding table to another square grid, inferring the old grid from its size.
     *
     * @see #resample(INDArray, int, int[], int[])
     */
    public static INDArray resample(INDArray posEmbed, int numPrefixTokens, int newGrid) {
        long grid = posEmbed.size(posEmbed.rank() - 2) - numPrefixTokens;
        int old = (int) Math.round(Math.sqrt(grid));
        if ((long) old * old != grid) {
            throw new IllegalArgumentException("pos_embed " + Tensors.shape(posEmbed) + " with " + numPrefixTokens
                    + " prefix token(s) has " + grid + " grid rows, not a square grid");
        }
        return resample(posEmbed, numPrefixTokens, new int[] {old, old}, new int[] {newGrid, newGrid});
    }

    /**
     * Resamples the grid part of a position-embedding table with bicubic interpolation exactly as
     * {@code torch.nn.functional.interpolate(mode='bicubic', align_corners=False)} (cubic coefficient -0.75, source
     * index {@code (dst + 0.5) * in / out - 0.5}, border pixels replicated); the {@code numPrefixTokens} leading rows
     * (class token) are copied unchanged. Computed in float64.
     *
     * @param posEmbed        {@code [1, P + h*w, D]} (a timm/MAE {@code pos_embed}) or {@code [P + h*w, D]}
     * @param numPrefixTokens P, rows kept as they are
     * @param oldGrid         {h, w} of the stored table, rows row-major
     * @param newGrid         {h', w'} wanted
     * @return a new array of the input's rank and type, {@code [1, P + h'*w', D]} or {@code [P + h'*w', D]}
     */
    public static INDArray resample(INDArray posEmbed, int numPrefixTokens, int[] oldGrid, int[] newGrid) {
        if (posEmbed.rank() != 2 && !(posEmbed.rank() == 3 && posEmbed.size(0) == 1)) {
            throw new IllegalArgumentException("pos_embed must be [1, T, D] or [T, D], got " + Tensors.shape(posEmbed));
        }
        if (oldGrid.length != 2 || newGrid.length != 2 || oldGrid[0] <= 0 || oldGrid[1] <= 0 || newGrid[0] <= 0
                || newGrid[1] <= 0) {
            throw new IllegalArgumentException("grids must be {h, w} with positive sizes, got old "
                    + java.util.Arrays.toString(oldGrid) + ", new " + java.util.Arrays.toString(newGrid));
        }
        long t = posEmbed.size(posEmbed.rank() - 2);
        int d = (int) posEmbed.size(posEmbed.rank() - 1);
        int ih = oldGrid[0], iw = oldGrid[1], oh = newGrid[0], ow = newGrid[1];
        if (numPrefixTokens < 0 || t != numPrefixTokens + (long) ih * iw) {
            throw new IllegalArgumentException("pos_embed " + Tensors.shape(posEmbed) + " does not hold "
                    + numPrefixTokens + " prefix row(s) + a " + ih + "x" + iw + " grid");
        }
        double[] src = Tensors.contiguous(posEmbed).castTo(DataType.DOUBLE).reshape(t * d).toDoubleVector();
        double[] dst = new double[(numPrefixTokens + oh * ow) * d];
        System.arraycopy(src, 0, dst, 0, numPrefixTokens * d);
        int[][] yIdx = new int[oh][4];
        double[][] yW = new double[oh][4];
        int[][] xIdx = new int[ow][4];
        double[][] xW = new double[ow][4];
        taps(ih, oh, yIdx, yW);
        taps(iw, ow, xIdx, xW);
        int base = numPrefixTokens * d;
        for (int y = 0; y < oh; y++) {
            for (int x = 0; x < ow; x++) {
                int o = base + (y * ow + x) * d;
                for (int i = 0; i < 4; i++) {
                    for (int j = 0; j < 4; j++) {
                        double w = yW[y][i] * xW[x][j];
                        int s = base + (yIdx[y][i] * iw + xIdx[x][j]) * d;
                        for (int c = 0; c < d; c++) {
                            dst[o + c] += w * src[s + c];
                        }
                    }
                }
            }
        }
        long rows = numPrefixTokens + (long) oh * ow;
        long[] shape = posEmbed.rank() == 3 ? new long[] {1, rows, d} : new long[] {rows, d};
        return Nd4j.create(dst, shape, DataType.DOUBLE).castTo(posEmbed.dataType());
    }

    /** The four source indices (clamped) and cubic weights of every output position along one axis. */
    private static void taps(int in, int out, int[][] idx, double[][] weight) {
        double scale = (double) in / out;
        for (int o = 0; o < out; o++) {
            // PyTorch's area_pixel_compute_source_index with cubic=true: no clamping of negative positions
            double real = scale * (o + 0.5) - 0.5;
            int i0 = (int) Math.floor(real);
            double t = real - i0;
            weight[o][0] = cubic2(t + 1);
            weight[o][1] = cubic1(t);
            weight[o][2] = cubic1(1 - t);
            weight[o][3] = cubic2(2 - t);
            for (int k = 0; k < 4; k++) {
                idx[o][k] = Math.min(Math.max(i0 - 1 + k, 0), in - 1);
            }
        }
    }

    /** Cubic convolution kernel for |x| <= 1. */
    private static double cubic1(double x) {
        return ((CUBIC_A + 2) * x - (CUBIC_A + 3)) * x * x + 1;
    }

    /** Cubic convolution kernel for 1 < |x| < 2. */
    private static double cubic2(double x) {
        return ((CUBIC_A * x - 5 * CUBIC_A) * x + 8 * CUBIC_A) * x - 4 * CUBIC_A;
    }
}
