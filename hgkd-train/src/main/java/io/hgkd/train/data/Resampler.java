package io.hgkd.train.data;

/**
 * Separable resampling of {@link ByteImage}s that follows PIL's {@code Image.resize} algorithm (which torchvision
 * calls for PIL images): for each output pixel a filter centred at {@code (x + 0.5) * scale} whose support is widened
 * by the scale factor when shrinking (antialiasing), weights normalised to sum 1 and quantised to 22-bit fixed point,
 * a horizontal pass then a vertical pass, rounding and clamping to 8 bits after each. Written from that description
 * and checked against torchvision's output in the tests; with the same 8-bit input it gives the same bytes.
 *
 * <p>Java2D's {@code AffineTransformOp} was not used: its bicubic (a = -0.75, no antialiasing) differs from PIL by
 * several levels when shrinking a photo to 224 px.
 */
final class Resampler {
    private static final int PRECISION_BITS = 32 - 8 - 2;
    private static final double ONE = 1 << PRECISION_BITS;
    private static final int HALF = 1 << (PRECISION_BITS - 1);

    private Resampler() {
    }

    /** Per-output-pixel first input index, tap count and fixed-point weights ({@code ksize} slots each). */
    record Coefficients(int ksize, int[] start, int[] count, int[] weights) {
    }

    static Coefficients coefficients(int inSize, int outSize, Interpolation filter) {
        double scale = (double) inSize / outSize;
        double filterScale = Math.max(scale, 1.0);
        double support = filter.support * filterScale;
        int ksize = (int) Math.ceil(support) * 2 + 1;
        int[] start = new int[outSize];
        int[] count = new int[outSize];
        int[] weights = new int[outSize * ksize];
        double[] k = new double[ksize];
        double inv = 1.0 / filterScale;
        for (int xx = 0; xx < outSize; xx++) {
            double center = (xx + 0.5) * scale;
            // (int) truncates toward zero, as the C cast in PIL does; negatives are clamped to 0 anyway.
            int xmin = Math.max(0, (int) (center - support + 0.5));
            int xmax = Math.min(inSize, (int) (center + support + 0.5)) - xmin;
            double sum = 0;
            for (int x = 0; x < xmax; x++) {
                double w = filter.weight((x + xmin - center + 0.5) * inv);
                k[x] = w;
                sum += w;
            }
            for (int x = 0; x < xmax; x++) {
                double w = sum != 0.0 ? k[x] / sum : k[x];
                // Round half away from zero, as PIL does before the integer passes.
                weights[xx * ksize + x] = w < 0 ? (int) (-0.5 + w * ONE) : (int) (0.5 + w * ONE);
            }
            start[xx] = xmin;
            count[xx] = Math.max(xmax, 0);
        }
        return new Coefficients(ksize, start, count, weights);
    }

    private static byte clip8(int acc) {
        int v = acc >> PRECISION_BITS;
        return (byte) (v < 0 ? 0 : Math.min(v, 255));
    }

    /** Resizes the whole image to {@code outH x outW}. */
    static ByteImage resize(ByteImage src, int outH, int outW, Interpolation filter) {
        return resizeCrop(src, 0, 0, src.height(), src.width(), outH, outW, filter);
    }

    /**
     * Crops the rectangle ({@code top}, {@code left}, {@code h}, {@code w}) and resizes it to {@code outH x outW}, as
     * torchvision's {@code resized_crop} does on a PIL image: pixels outside the rectangle never contribute.
     */
    static ByteImage resizeCrop(ByteImage src, int top, int left, int h, int w, int outH, int outW,
            Interpolation filter) {
        if (top < 0 || left < 0 || h < 1 || w < 1 || top + h > src.height() || left + w > src.width()) {
            throw new IllegalArgumentException("crop (top " + top + ", left " + left + ", " + h + "x" + w
                    + ") is outside the " + src.height() + "x" + src.width() + " image");
        }
        if (outH < 1 || outW < 1) {
            throw new IllegalArgumentException("output size must be positive, got " + outH + "x" + outW);
        }
        boolean horizontal = outW != w;
        boolean vertical = outH != h;
        if (!horizontal && !vertical) {
            return h == src.height() && w == src.width() ? src : src.crop(top, left, h, w);
        }
        int c = src.channels();
        if (!vertical) {
            Coefficients cx = coefficients(w, outW, filter);
            byte[] out = new byte[outH * outW * c];
            horizontalPass(src.pixels(), src.width(), c, top, h, left, cx, out, outW);
            return new ByteImage(c, outH, outW, out);
        }
        Coefficients cy = coefficients(h, outH, filter);
        if (!horizontal) {
            byte[] out = new byte[outH * outW * c];
            verticalPass(src.pixels(), src.width(), c, top, left, cy, out, outH, outW);
            return new ByteImage(c, outH, outW, out);
        }
        // Only the input rows that the vertical pass reads go through the horizontal pass.
        int first = cy.start()[0];
        int last = cy.start()[outH - 1] + cy.count()[outH - 1];
        Coefficients cx = coefficients(w, outW, filter);
        byte[] tmp = new byte[(last - first) * outW * c];
        horizontalPass(src.pixels(), src.width(), c, top + first, last - first, left, cx, tmp, outW);
        byte[] out = new byte[outH * outW * c];
        verticalPass(tmp, outW, c, -first, 0, cy, out, outH, outW);
        return new ByteImage(c, outH, outW, out);
    }

    /** Rows {@code row0 .. row0 + rows} of {@code in}, columns from {@code left}, into {@code out} (rows x outW). */
    private static void horizontalPass(byte[] in, int inW, int c, int row0, int rows, int left, Coefficients k,
            byte[] out, int outW) {
        int ksize = k.ksize();
        int[] start = k.start();
        int[] count = k.count();
        int[] wt = k.weights();
        for (int y = 0; y < rows; y++) {
            int inRow = (row0 + y) * inW * c;
            int outRow = y * outW * c;
            for (int xx = 0; xx < outW; xx++) {
                int base = inRow + (left + start[xx]) * c;
                int kb = xx * ksize;
                int n = count[xx];
                if (c == 3) {
                    int s0 = HALF;
                    int s1 = HALF;
                    int s2 = HALF;
                    for (int x = 0; x < n; x++) {
                        int wx = wt[kb + x];
                        int p = base + 3 * x;
                        s0 += (in[p] & 0xFF) * wx;
                        s1 += (in[p + 1] & 0xFF) * wx;
                        s2 += (in[p + 2] & 0xFF) * wx;
                    }
                    int o = outRow + 3 * xx;
                    out[o] = clip8(s0);
                    out[o + 1] = clip8(s1);
                    out[o + 2] = clip8(s2);
                } else {
                    int s0 = HALF;
                    for (int x = 0; x < n; x++) {
                        s0 += (in[base + x] & 0xFF) * wt[kb + x];
                    }
                    out[outRow + xx] = clip8(s0);
                }
            }
        }
    }

    /**
     * Vertical pass: output row {@code yy} reads input rows {@code rowOffset + start[yy] ..}, columns
     * {@code left .. left + outW}.
     */
    private static void verticalPass(byte[] in, int inW, int c, int rowOffset, int left, Coefficients k, byte[] out,
            int outH, int outW) {
        int ksize = k.ksize();
        int rowLen = outW * c;
        int[] acc = new int[rowLen];
        for (int yy = 0; yy < outH; yy++) {
            java.util.Arrays.fill(acc, HALF);
            int kb = yy * ksize;
            int n = k.count()[yy];
            for (int y = 0; y < n; y++) {
                int wy = k.weights()[kb + y];
                int p = ((rowOffset + k.start()[yy] + y) * inW + left) * c;
                for (int i = 0; i < rowLen; i++) {
                    acc[i] += (in[p + i] & 0xFF) * wy;
                }
            }
            int o = yy * rowLen;
            for (int i = 0; i < rowLen; i++) {
                out[o + i] = clip8(acc[i]);
            }
        }
    }
}
