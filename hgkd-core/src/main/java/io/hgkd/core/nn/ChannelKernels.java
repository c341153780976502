package io.hgkd.core.nn;

import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;
import java.util.stream.IntStream;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Per-channel kernels over the raw buffers of contiguous NCHW arrays, run in parallel over channels.
 *
 * <p>Why: libnd4j runs a BatchNorm as a chain of broadcast ops and reductions, each a full pass over memory. Here
 * each channel (its B runs of H * W elements) is copied once into a work array ({@code float[]} for FLOAT data,
 * {@code double[]} for DOUBLE) with bulk buffer reads, every pass (statistics, normalisation, residual, activation,
 * the backward sums) then runs over plain arrays that stay in cache and that the JIT compiles to tight loops, and the
 * result is copied back with bulk writes (with the branch-free ReLU below, about 3x faster than element-wise buffer
 * access on ResNet-50's BN + ReLU at one thread). A mask is applied by visiting the active positions only; inactive
 * outputs are written as 0 in the same copy. Statistics and sums are accumulated in double; the element-wise BN passes
 * on FLOAT data run in float (as PyTorch's CPU kernel; C2 vectorises them), on DOUBLE data in double. Max pooling
 * (one pass per plane) lives here for the same reasons.
 *
 * <p>Arrays must be dense c-order FLOAT or DOUBLE arrays (a view is fine if dense; {@link Io} checks); inputs and
 * outputs of one call share the NCHW shape.
 */
public final class ChannelKernels {
    private ChannelKernels() {
    }

    /**
     * Bulk access to the channels of a dense c-order FLOAT or DOUBLE (B, C, H, W) array: a channel is gathered into
     * a {@code float[]} or {@code double[]} of B * H * W (index {@code b * H * W + p}) and scattered back. Safe for concurrent use on
     * different channels (absolute bulk gets and puts only).
     */
    static final class Io {
        private final FloatBuffer f;
        private final DoubleBuffer d;

        Io(INDArray a) {
            if (a.ordering() != 'c' || !RowKernels.isDense(a) || a.offset() + a.length() > Integer.MAX_VALUE) {
                throw new IllegalArgumentException("ChannelKernels needs a dense c-order array, got shape "
                        + Tensors.shape(a) + " order " + a.ordering() + " strides "
                        + java.util.Arrays.toString(a.stride()));
            }
            if (a.dataType() == DataType.FLOAT) {
                f = RowKernels.floats(a);
                d = null;
            } else if (a.dataType() == DataType.DOUBLE) {
                f = null;
                d = RowKernels.doubles(a);
            } else {
                throw new IllegalArgumentException("ChannelKernels supports FLOAT and DOUBLE, got " + a.dataType());
            }
        }

        /** Copies channel {@code c} into {@code dst}; {@code tmp} is a float scratch of at least H * W. */
        void gather(Positions pos, int c, double[] dst, float[] tmp) {
            int plane = pos.plane();
            int chw = pos.channels() * plane;
            for (int b = 0; b < pos.batch(); b++) {
                int src = b * chw + c * plane;
                int off = b * plane;
                if (f != null) {
                    f.get(src, tmp, 0, plane);
                    for (int k = 0; k < plane; k++) {
                        dst[off + k] = tmp[k];
                    }
                } else {
                    d.get(src, dst, off, plane);
                }
            }
        }

        /** Whether the array is FLOAT (then {@link #gather(Positions, int, float[])} applies). */
        boolean isFloat() {
            return f != null;
        }

        /** Copies channel {@code c} of a FLOAT array into {@code dst}, bulk copies only. */
        void gather(Positions pos, int c, float[] dst) {
            int plane = pos.plane();
            int chw = pos.channels() * plane;
            for (int b = 0; b < pos.batch(); b++) {
                f.get(b * chw + c * plane, dst, b * plane, plane);
            }
        }

        /** Copies {@code src} into channel {@code c} of a FLOAT array. */
        void scatter(Positions pos, int c, float[] src) {
            int plane = pos.plane();
            int chw = pos.channels() * plane;
            for (int b = 0; b < pos.batch(); b++) {
                f.put(b * chw + c * plane, src, b * plane, plane);
            }
        }

        /** Copies {@code src} into channel {@code c}. */
        void scatter(Positions pos, int c, double[] src, float[] tmp) {
            int plane = pos.plane();
            int chw = pos.channels() * plane;
            for (int b = 0; b < pos.batch(); b++) {
                int dst = b * chw + c * plane;
                int off = b * plane;
                if (f != null) {
                    for (int k = 0; k < plane; k++) {
                        tmp[k] = (float) src[off + k];
                    }
                    f.put(dst, tmp, 0, plane);
                } else {
                    d.put(dst, src, off, plane);
                }
            }
        }
    }

    /**
     * Which positions of an NCHW tensor a per-position mask keeps, as indices {@code b * H * W + p} into a gathered
     * channel (see {@link Io}).
     *
     * @param batch    B
     * @param channels C
     * @param plane    H * W
     * @param active   indices of active positions, or null when all are active
     * @param inactive indices of inactive positions (empty when all are active)
     */
    public record Positions(int batch, int channels, int plane, int[] active, int[] inactive) {
        /** Number of positions per channel that enter the statistics. */
        public int count() {
            return active == null ? batch * plane : active.length;
        }

        /** Elements of one gathered channel, B * H * W. */
        int size() {
            return batch * plane;
        }

        /** All positions of a (B, C, H, W) tensor. */
        public static Positions dense(long[] shape) {
            return new Positions((int) shape[0], (int) shape[1], (int) (shape[2] * shape[3]), null, new int[0]);
        }

        /**
         * Positions of a (B, C, H, W) tensor kept by {@code mask} (B, 1, H, W), whose non-zero entries are
         * active; a null mask keeps all.
         */
        public static Positions of(long[] shape, INDArray mask) {
            if (mask == null) {
                return dense(shape);
            }
            int b = (int) shape[0];
            int c = (int) shape[1];
            int plane = (int) (shape[2] * shape[3]);
            INDArray m = Tensors.contiguous(mask.dataType() == DataType.DOUBLE ? mask : mask.castTo(DataType.DOUBLE));
            double[] v = new double[b * plane];
            RowKernels.doubles(m).get(0, v, 0, v.length);
            int n = 0;
            for (double x : v) {
                if (x != 0) {
                    n++;
                }
            }
            int[] on = new int[n];
            int[] off = new int[v.length - n];
            int ia = 0;
            int ii = 0;
            for (int i = 0; i < v.length; i++) {
                if (v[i] != 0) {
                    on[ia++] = i;
                } else {
                    off[ii++] = i;
                }
            }
            return new Positions(b, c, plane, on, off);
        }
    }

    /** A body run over channels {@code [from, to)} by one worker, which allocates its work arrays once. */
    @FunctionalInterface
    private interface ChannelRange {
        void run(int from, int to);
    }

    /** Runs {@code body} over all channels, split into ranges over the common fork-join pool. */
    private static void forChannels(int channels, ChannelRange body) {
        int chunks = Math.min(channels, 4 * Runtime.getRuntime().availableProcessors());
        if (chunks <= 1) {
            body.run(0, channels);
            return;
        }
        IntStream.range(0, chunks).parallel().forEach(k -> body.run((int) ((long) channels * k / chunks),
                (int) ((long) channels * (k + 1) / chunks)));
    }

    /** Sum of {@code a[idx[k]]} (or of {@code a[0 .. n)} when {@code idx} is null), four accumulators. */
    private static double sum(double[] a, int[] idx, int n) {
        double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        int k = 0;
        if (idx == null) {
            for (; k + 3 < n; k += 4) {
                s0 += a[k];
                s1 += a[k + 1];
                s2 += a[k + 2];
                s3 += a[k + 3];
            }
            for (; k < n; k++) {
                s0 += a[k];
            }
        } else {
            for (int i : idx) {
                s0 += a[i];
            }
        }
        return (s0 + s1) + (s2 + s3);
    }

    /** {@link #sum(double[], int[], int)} of float data, accumulated in double ({@link RowKernels#sum(float[], int)}). */
    private static double sum(float[] a, int[] idx, int n) {
        if (idx == null) {
            return RowKernels.sum(a, n);
        }
        double s = 0;
        for (int i : idx) {
            s += a[i];
        }
        return s;
    }

    /**
     * {@link #sumSquares(double[], int[], int, double)} of float data, accumulated in double
     * ({@link RowKernels#sumSquares(float[], int, double)}).
     */
    private static double sumSquares(float[] a, int[] idx, int n, double m) {
        if (idx == null) {
            return RowKernels.sumSquares(a, n, m);
        }
        double s = 0;
        for (int i : idx) {
            double d = a[i] - m;
            s += d * d;
        }
        return s;
    }

    /** Sum of squared deviations from {@code m} over the kept elements, four accumulators. */
    private static double sumSquares(double[] a, int[] idx, int n, double m) {
        double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        int k = 0;
        if (idx == null) {
            for (; k + 3 < n; k += 4) {
                double d0 = a[k] - m, d1 = a[k + 1] - m, d2 = a[k + 2] - m, d3 = a[k + 3] - m;
                s0 += d0 * d0;
                s1 += d1 * d1;
                s2 += d2 * d2;
                s3 += d3 * d3;
            }
            for (; k < n; k++) {
                double d0 = a[k] - m;
                s0 += d0 * d0;
            }
        } else {
            for (int i : idx) {
                double d0 = a[i] - m;
                s0 += d0 * d0;
            }
        }
        return (s0 + s1) + (s2 + s3);
    }

    /**
     * {@code y = act((x - center[c]) * scale[c] + shift[c] (+ residual))} at kept positions and 0 elsewhere (centring
     * first, rather than folding the mean into the shift, keeps the rounding of a plain BN).
     *
     * @param residual null, or an array of the shape of {@code x} added before the activation
     * @param cap      the activation: NaN for none, otherwise {@code act(v) = min(max(v, 0), cap)}, i.e. ReLU for
     *                 {@code +Infinity} and ReLU6 for 6
     */
    public static void affine(INDArray x, Positions pos, double[] center, double[] scale, double[] shift,
                              INDArray residual, double cap, INDArray y) {
        batchNormForward(x, pos, false, center, null, scale, shift, 0, residual, cap, y);
    }

    /**
     * A BatchNorm forward in one visit per channel: with {@code batchStats}, the mean and biased variance of the
     * kept positions are computed first (written to {@code mean} and {@code var}) and
     * {@code scale[c] *= 1 / sqrt(var + eps)}; then {@link #affine} with {@code center = mean}.
     *
     * @param scale in: gamma (batch statistics) or the final scale; with batch statistics it is overwritten with
     *              gamma * rstd
     * @param var   out with batch statistics (length C), else unused (may be null)
     */
    public static void batchNormForward(INDArray x, Positions pos, boolean batchStats, double[] mean, double[] var,
                                        double[] scale, double[] shift, double eps, INDArray residual, double cap,
                                        INDArray y) {
        boolean act = !Double.isNaN(cap);
        Io xb = new Io(x);
        Io yb = new Io(y);
        Io rb = residual == null ? null : new Io(residual);
        int[] on = pos.active();
        int[] off = pos.inactive();
        int n = pos.count();
        int size = pos.size();
        if (xb.isFloat() && yb.isFloat() && (rb == null || rb.isFloat())) {
            forChannels(pos.channels(), (from, to) -> {
                float[] xw = new float[size];
                float[] rw = rb == null ? null : new float[size];
                for (int c = from; c < to; c++) {
                    xb.gather(pos, c, xw);
                    if (batchStats) {
                        double mc = sum(xw, on, n) / n;
                        double vc = sumSquares(xw, on, n, mc) / n;
                        mean[c] = mc;
                        var[c] = vc;
                        scale[c] *= 1.0 / Math.sqrt(vc + eps);
                    }
                    if (rw != null) {
                        rb.gather(pos, c, rw);
                    }
                    double m = mean[c];
                    double a = scale[c];
                    double s = shift[c];
                    if (on == null) {
                        affine(xw, rw, (float) m, (float) a, (float) s, cap);
                    } else {
                        // the float operations of the unmasked loops, so that an all-active mask gives the
                        // dense result exactly
                        float fm = (float) m;
                        float fa = (float) a;
                        float fs = (float) s;
                        float fcap = (float) cap;
                        for (int i : on) {
                            float v = (xw[i] - fm) * fa + fs;
                            if (rw != null) {
                                v += rw[i];
                            }
                            xw[i] = act ? Math.min(Math.max(v, 0f), fcap) : v;
                        }
                        for (int i : off) {
                            xw[i] = 0f;
                        }
                    }
                    yb.scatter(pos, c, xw);
                }
            });
            return;
        }
        forChannels(pos.channels(), (from, to) -> {
            double[] xw = new double[size];
            double[] rw = rb == null ? null : new double[size];
            float[] tmp = new float[pos.plane()];
            for (int c = from; c < to; c++) {
                xb.gather(pos, c, xw, tmp);
                if (batchStats) {
                    double mc = sum(xw, on, n) / n;
                    double vc = sumSquares(xw, on, n, mc) / n;
                    mean[c] = mc;
                    var[c] = vc;
                    scale[c] *= 1.0 / Math.sqrt(vc + eps);
                }
                if (rw != null) {
                    rb.gather(pos, c, rw, tmp);
                }
                double m = mean[c];
                double a = scale[c];
                double s = shift[c];
                // y is computed in place of x in the work array
                if (on == null) {
                    for (int i = 0; i < size; i++) {
                        double v = (xw[i] - m) * a + s;
                        if (rw != null) {
                            v += rw[i];
                        }
                        xw[i] = act ? clamp(v, cap) : v;
                    }
                } else {
                    for (int i : on) {
                        double v = (xw[i] - m) * a + s;
                        if (rw != null) {
                            v += rw[i];
                        }
                        xw[i] = act ? clamp(v, cap) : v;
                    }
                    for (int i : off) {
                        xw[i] = 0.0;
                    }
                }
                yb.scatter(pos, c, xw, tmp);
            }
        });
    }

    /**
     * {@code x = act((x - m) * a + s (+ r))} over whole float arrays, in float as PyTorch's CPU kernel: one loop per
     * case so that C2 vectorises each (the per-element double version with its conversions ran several times
     * slower). {@code Math.max(v, 0f)} gives +0 for -0 and keeps a NaN, as PyTorch's ReLU.
     */
    private static void affine(float[] x, float[] r, float m, float a, float s, double cap) {
        int n = x.length;
        if (Double.isNaN(cap)) {
            if (r == null) {
                for (int i = 0; i < n; i++) {
                    x[i] = (x[i] - m) * a + s;
                }
            } else {
                for (int i = 0; i < n; i++) {
                    x[i] = (x[i] - m) * a + s + r[i];
                }
            }
        } else if (cap == Double.POSITIVE_INFINITY) {
            if (r == null) {
                for (int i = 0; i < n; i++) {
                    x[i] = Math.max((x[i] - m) * a + s, 0f);
                }
            } else {
                for (int i = 0; i < n; i++) {
                    x[i] = Math.max((x[i] - m) * a + s + r[i], 0f);
                }
            }
        } else {
            float c = (float) cap;
            for (int i = 0; i < n; i++) {
                x[i] = Math.min(Math.max((x[i] - m) * a + s + (r == null ? 0f : r[i]), 0f), c);
            }
        }
    }

    /**
     * {@code min(max(v, 0), cap)}. The ReLU runs on the bits, without a branch: a sign test on activations is a coin
     * flip that mispredicts half the time, and Math.max is no cheaper here; this made the fused BN + ReLU pass 3x
     * faster. Clearing a negative value's bits gives +0 (and keeps a NaN), as PyTorch's ReLU.
     */
    private static double clamp(double v, double cap) {
        long b = Double.doubleToRawLongBits(v);
        double r = Double.longBitsToDouble(b & ~(b >> 63));
        return cap == Double.POSITIVE_INFINITY ? r : Math.min(r, cap);
    }

    /**
     * {@code g} times the activation's derivative read from its output {@code y}, as PyTorch: ReLU passes where
     * {@code y > 0}, ReLU6 where {@code 0 < y < 6}. For ReLU the test runs on the bits, without a branch:
     * {@code (-b & ~b)} has its sign bit set exactly when the bit pattern b is positive, i.e. y &gt; 0 (or NaN).
     */
    private static double gate(double g, double y, double cap) {
        if (cap == Double.POSITIVE_INFINITY) {
            long b = Double.doubleToRawLongBits(y);
            return Double.longBitsToDouble(Double.doubleToRawLongBits(g) & ((-b & ~b) >> 63));
        }
        return y > 0 && y < cap ? g : 0.0;
    }

    /** {@link #gate(double, double, double)} on float data. */
    private static float gate(float g, float y, double cap) {
        if (cap == Double.POSITIVE_INFINITY) {
            int b = Float.floatToRawIntBits(y);
            return Float.intBitsToFloat(Float.floatToRawIntBits(g) & ((-b & ~b) >> 31));
        }
        return y > 0 && y < cap ? g : 0f;
    }

    /**
     * Backward of {@code y = act(gamma * (x - mean) * rstd + beta (+ residual))} over the kept positions.
     *
     * <p>With an activation ({@code cap} not NaN, as in {@link #affine}), the incoming gradient is first multiplied
     * by the activation's derivative, read from the forward output {@code y};
     * that gradient is also written to {@code gradResidual} when it is non-null. Then, with x_hat = (x - mean) * rstd,
     * g the gradient at kept positions and n their count, it accumulates {@code dgamma += sum(g * x_hat)},
     * {@code dbeta += sum(g)} and writes {@code dx = gamma * rstd * (g - sum(g)/n - x_hat * sum(g * x_hat)/n)} when
     * {@code batchStats} (training: mean and rstd came from this batch), or {@code dx = gamma * rstd * g} otherwise
     * (running statistics are constants); dx is 0 at positions the mask drops.
     *
     * @param y            the forward output (read only with an activation), may be null otherwise
     * @param cap          the activation of the forward, see {@link #affine}
     * @param gradResidual null, or where to write the gradient after the activation (the residual's gradient)
     */
    public static void batchNormBackward(INDArray x, INDArray y, INDArray g, Positions pos, double[] mean,
                                         double[] rstd, double[] gamma, boolean batchStats, double cap,
                                         INDArray gradResidual, INDArray dx, double[] dgamma, double[] dbeta) {
        Io xb = new Io(x);
        Io gb = new Io(g);
        boolean relu = !Double.isNaN(cap);
        Io yb = relu ? new Io(y) : null;
        Io rb = gradResidual == null ? null : new Io(gradResidual);
        Io db = new Io(dx);
        int[] on = pos.active();
        int[] off = pos.inactive();
        double n = pos.count();
        int size = pos.size();
        if (xb.isFloat() && gb.isFloat() && (yb == null || yb.isFloat()) && (rb == null || rb.isFloat())
                && db.isFloat()) {
            forChannels(pos.channels(), (from, to) -> {
                float[] xw = new float[size];
                float[] gw = new float[size];
                float[] yw = relu ? new float[size] : null;
                for (int c = from; c < to; c++) {
                    xb.gather(pos, c, xw);
                    gb.gather(pos, c, gw);
                    if (relu) {
                        yb.gather(pos, c, yw);
                    }
                    double m = mean[c];
                    double r = rstd[c];
                    double sg = 0;
                    double sgx = 0;
                    if (on == null) {
                        for (int i = 0; i < size; i++) {
                            float gi = relu ? gate(gw[i], yw[i], cap) : gw[i];
                            gw[i] = gi;
                            sg += gi;
                            sgx += gi * (xw[i] - m);
                        }
                    } else {
                        for (int i : on) {
                            float gi = relu ? gate(gw[i], yw[i], cap) : gw[i];
                            gw[i] = gi;
                            sg += gi;
                            sgx += gi * (xw[i] - m);
                        }
                        for (int i : off) {
                            gw[i] = 0f;
                        }
                    }
                    if (rb != null) {
                        rb.scatter(pos, c, gw);
                    }
                    sgx *= r;
                    dgamma[c] += sgx;
                    dbeta[c] += sg;
                    double k = gamma[c] * r;
                    double mg = batchStats ? sg / n : 0;
                    double mgx = batchStats ? sgx / n : 0;
                    // in float, masked or not (an all-active mask then gives the dense result exactly)
                    float fk = (float) k;
                    float fm = (float) m;
                    float fb = (float) (-k * r * mgx);
                    float fc = (float) (-k * mg);
                    if (on == null) {
                        // in float, as PyTorch's CPU kernel: C2 vectorises this loop, the double version (two
                        // conversions per element) ran ~10x slower
                        for (int i = 0; i < size; i++) {
                            xw[i] = fk * gw[i] + fb * (xw[i] - fm) + fc;
                        }
                    } else {
                        for (int i : on) {
                            xw[i] = fk * gw[i] + fb * (xw[i] - fm) + fc;
                        }
                        for (int i : off) {
                            xw[i] = 0f;
                        }
                    }
                    db.scatter(pos, c, xw);
                }
            });
            return;
        }
        forChannels(pos.channels(), (from, to) -> {
            double[] xw = new double[size];
            double[] gw = new double[size];
            double[] yw = relu ? new double[size] : null;
            float[] tmp = new float[pos.plane()];
            for (int c = from; c < to; c++) {
                xb.gather(pos, c, xw, tmp);
                gb.gather(pos, c, gw, tmp);
                double m = mean[c];
                double r = rstd[c];
                double sg = 0;
                double sgx = 0;
                // pass 1: gate the gradient by the activation's derivative (in place in gw); the sums of g and
                // g * (x - mean)
                if (relu) {
                    yb.gather(pos, c, yw, tmp);
                }
                if (on == null) {
                    for (int i = 0; i < size; i++) {
                        double gi = relu ? gate(gw[i], yw[i], cap) : gw[i];
                        gw[i] = gi;
                        sg += gi;
                        sgx += gi * (xw[i] - m);
                    }
                } else {
                    for (int i : on) {
                        double gi = relu ? gate(gw[i], yw[i], cap) : gw[i];
                        gw[i] = gi;
                        sg += gi;
                        sgx += gi * (xw[i] - m);
                    }
                    for (int i : off) {
                        gw[i] = 0.0;
                    }
                }
                if (rb != null) {
                    rb.scatter(pos, c, gw, tmp);
                }
                sgx *= r;
                dgamma[c] += sgx;
                dbeta[c] += sg;
                double k = gamma[c] * r;
                double mg = batchStats ? sg / n : 0;
                double mgx = batchStats ? sgx / n : 0;
                // pass 2: dx = k * (g - mg - x_hat * mgx), into xw
                if (on == null) {
                    for (int i = 0; i < size; i++) {
                        xw[i] = k * (gw[i] - mg - (xw[i] - m) * r * mgx);
                    }
                } else {
                    for (int i : on) {
                        xw[i] = k * (gw[i] - mg - (xw[i] - m) * r * mgx);
                    }
                    for (int i : off) {
                        xw[i] = 0.0;
                    }
                }
                db.scatter(pos, c, xw, tmp);
            }
        });
    }

    /**
     * {@code out = where(active, x, values[c])}: {@code x} at kept positions, the per-channel {@code values} at the
     * others (SparK's mask-token fill). {@code out} may be {@code x}.
     */
    public static void fillInactive(INDArray x, Positions pos, double[] values, INDArray out) {
        Io xb = new Io(x);
        Io ob = new Io(out);
        int[] off = pos.inactive();
        if (pos.active() == null && x == out) {
            return;
        }
        forChannels(pos.channels(), (from, to) -> {
            double[] w = new double[pos.size()];
            float[] tmp = new float[pos.plane()];
            for (int c = from; c < to; c++) {
                xb.gather(pos, c, w, tmp);
                double v = values[c];
                for (int i : off) {
                    w[i] = v;
                }
                ob.scatter(pos, c, w, tmp);
            }
        });
    }

    /**
     * Backward of {@link #fillInactive}: {@code gx = g} at kept positions and 0 elsewhere; {@code sums[c]} receives
     * the sum of {@code g} over the other positions (the gradient of {@code values[c]}).
     */
    public static void splitInactive(INDArray g, Positions pos, INDArray gx, double[] sums) {
        Io gb = new Io(g);
        Io ob = new Io(gx);
        int[] off = pos.inactive();
        forChannels(pos.channels(), (from, to) -> {
            double[] w = new double[pos.size()];
            float[] tmp = new float[pos.plane()];
            for (int c = from; c < to; c++) {
                gb.gather(pos, c, w, tmp);
                double s = 0;
                for (int i : off) {
                    s += w[i];
                    w[i] = 0.0;
                }
                sums[c] = s;
                ob.scatter(pos, c, w, tmp);
            }
        });
    }

    /**
     * Max pooling of every (H, W) plane of {@code x} (B, C, H, W) into {@code y} (B, C, OH, OW), with padding that
     * never wins, as PyTorch's CPU kernel: the first maximum in scan order (a NaN wins and stays), the window's first
     * valid position when nothing beats -infinity. {@code argmax} receives, per output element, the index
     * {@code ih * W + iw} of its maximum within the plane.
     */
    public static void maxPool2d(INDArray x, int kernel, int stride, int padding, INDArray y, int[] argmax) {
        int h = (int) x.size(2);
        int w = (int) x.size(3);
        int oh = (int) y.size(2);
        int ow = (int) y.size(3);
        Positions in = new Positions(1, (int) (x.size(0) * x.size(1)), h * w, null, new int[0]);
        Positions out = new Positions(1, in.channels(), oh * ow, null, new int[0]);
        Io xb = new Io(x);
        Io yb = new Io(y);
        if (xb.isFloat() && yb.isFloat()) {
            // float data stays float: bulk copies in and out, no conversions (the same comparisons)
            forChannels(in.channels(), (from, to) -> {
                float[] xw = new float[h * w];
                float[] yw = new float[oh * ow];
                for (int k = from; k < to; k++) {
                    xb.gather(in, k, xw);
                    int base = k * oh * ow;
                    for (int i = 0; i < oh; i++) {
                        int h0 = Math.max(i * stride - padding, 0);
                        int h1 = Math.min(i * stride - padding + kernel, h);
                        for (int j = 0; j < ow; j++) {
                            int w0 = Math.max(j * stride - padding, 0);
                            int w1 = Math.min(j * stride - padding + kernel, w);
                            int best = h0 * w + w0;
                            float mv = Float.NEGATIVE_INFINITY;
                            for (int r = h0; r < h1; r++) {
                                for (int q = r * w + w0; q < r * w + w1; q++) {
                                    float v = xw[q];
                                    if (v > mv || Float.isNaN(v)) {
                                        mv = v;
                                        best = q;
                                    }
                                }
                            }
                            yw[i * ow + j] = xw[best];
                            argmax[base + i * ow + j] = best;
                        }
                    }
                    yb.scatter(out, k, yw);
                }
            });
            return;
        }
        forChannels(in.channels(), (from, to) -> {
            double[] xw = new double[h * w];
            double[] yw = new double[oh * ow];
            float[] tmp = new float[Math.max(h * w, oh * ow)];
            for (int k = from; k < to; k++) {
                xb.gather(in, k, xw, tmp);
                int base = k * oh * ow;
                for (int i = 0; i < oh; i++) {
                    int h0 = Math.max(i * stride - padding, 0);
                    int h1 = Math.min(i * stride - padding + kernel, h);
                    for (int j = 0; j < ow; j++) {
                        int w0 = Math.max(j * stride - padding, 0);
                        int w1 = Math.min(j * stride - padding + kernel, w);
                        int best = h0 * w + w0;
                        double mv = Double.NEGATIVE_INFINITY;
                        for (int r = h0; r < h1; r++) {
                            for (int q = r * w + w0; q < r * w + w1; q++) {
                                double v = xw[q];
                                if (v > mv || Double.isNaN(v)) {
                                    mv = v;
                                    best = q;
                                }
                            }
                        }
                        yw[i * ow + j] = xw[best];
                        argmax[base + i * ow + j] = best;
                    }
                }
                yb.scatter(out, k, yw, tmp);
            }
        });
    }

    /** Backward of {@link #maxPool2d}: {@code dx} (B, C, H, W) is 0 but for the sums of {@code g} at the argmaxes. */
    public static void maxPool2dBackward(INDArray g, int[] argmax, INDArray dx) {
        int plane = (int) (dx.size(2) * dx.size(3));
        int outPlane = (int) (g.size(2) * g.size(3));
        Positions in = new Positions(1, (int) (dx.size(0) * dx.size(1)), plane, null, new int[0]);
        Positions out = new Positions(1, in.channels(), outPlane, null, new int[0]);
        Io gb = new Io(g);
        Io db = new Io(dx);
        if (gb.isFloat() && db.isFloat()) {
            // float sums, as PyTorch's CPU kernel (a window overlap adds at most a few terms)
            forChannels(in.channels(), (from, to) -> {
                float[] gw = new float[outPlane];
                float[] dw = new float[plane];
                for (int k = from; k < to; k++) {
                    gb.gather(out, k, gw);
                    java.util.Arrays.fill(dw, 0f);
                    int base = k * outPlane;
                    for (int o = 0; o < outPlane; o++) {
                        dw[argmax[base + o]] += gw[o];
                    }
                    db.scatter(in, k, dw);
                }
            });
            return;
        }
        forChannels(in.channels(), (from, to) -> {
            double[] gw = new double[outPlane];
            double[] dw = new double[plane];
            float[] tmp = new float[Math.max(plane, outPlane)];
            for (int k = from; k < to; k++) {
                gb.gather(out, k, gw, tmp);
                java.util.Arrays.fill(dw, 0.0);
                int base = k * outPlane;
                for (int o = 0; o < outPlane; o++) {
                    dw[argmax[base + o]] += gw[o];
                }
                db.scatter(in, k, dw, tmp);
            }
        });
    }

    /** Copies a FLOAT/DOUBLE array (a vector of parameters or statistics) into a new double array. */
    public static double[] toDoubles(INDArray v) {
        INDArray a = Tensors.contiguous(v);
        double[] out = new double[Math.toIntExact(a.length())];
        Io io = new Io(a);
        io.gather(new Positions(1, 1, out.length, null, new int[0]), 0, out, new float[out.length]);
        return out;
    }

    /** Writes {@code values} into a contiguous FLOAT/DOUBLE array of the same length. */
    public static void fromDoubles(double[] values, INDArray out) {
        if (out.length() != values.length) {
            throw new IllegalArgumentException("length " + values.length + " does not match " + Tensors.shape(out));
        }
        new Io(out).scatter(new Positions(1, 1, values.length, null, new int[0]), 0, values,
                new float[values.length]);
    }
}
