package io.hgkd.core.nn;

import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;
import java.util.stream.IntStream;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Per-channel kernels over the raw buffers of contiguous NCHW arrays, written as Java loops over the direct
 * {@link FloatBuffer}/{@link DoubleBuffer} of ND4J's off-heap data and run in parallel over channels.
 *
 * <p>Why: libnd4j runs a BatchNorm as a chain of broadcast ops and reductions, each a full pass over memory; here a
 * channel's slice (a few hundred kB at most) stays in cache for all passes, the optional mask is applied by visiting
 * the active positions only, and ReLU and residual additions are fused into the same passes. Sums accumulate in
 * double for float and double data alike.
 *
 * <p>Arrays must be c-order, not views and of type FLOAT or DOUBLE ({@link #buf} checks); inputs and outputs of one
 * call share the NCHW shape.
 */
public final class ChannelKernels {
    private ChannelKernels() {
    }

    /** Absolute element access to a FLOAT or DOUBLE array's buffer, indexed from its first element. */
    abstract static sealed class Buf permits FBuf, DBuf {
        abstract double get(int i);

        abstract void set(int i, double v);
    }

    static final class FBuf extends Buf {
        private final FloatBuffer b;

        FBuf(FloatBuffer b) {
            this.b = b;
        }

        @Override
        double get(int i) {
            return b.get(i);
        }

        @Override
        void set(int i, double v) {
            b.put(i, (float) v);
        }
    }

    static final class DBuf extends Buf {
        private final DoubleBuffer b;

        DBuf(DoubleBuffer b) {
            this.b = b;
        }

        @Override
        double get(int i) {
            return b.get(i);
        }

        @Override
        void set(int i, double v) {
            b.put(i, v);
        }
    }

    /**
     * The buffer of {@code a}, which must be a dense c-order FLOAT or DOUBLE array (a view is fine: indices start at
     * its first element, as in {@link RowKernels.Buf}).
     */
    static Buf buf(INDArray a) {
        if (a.ordering() != 'c' || !RowKernels.isDense(a) || a.offset() + a.length() > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("ChannelKernels needs a dense c-order array, got shape "
                    + Tensors.shape(a) + " order " + a.ordering() + " strides " + java.util.Arrays.toString(a.stride()));
        }
        if (a.dataType() == DataType.FLOAT) {
            return new FBuf(RowKernels.floats(a));
        }
        if (a.dataType() == DataType.DOUBLE) {
            return new DBuf(RowKernels.doubles(a));
        }
        throw new IllegalArgumentException("ChannelKernels supports FLOAT and DOUBLE, got " + a.dataType());
    }

    /**
     * Which positions of an NCHW tensor a per-position mask keeps: element offsets {@code b * C * H * W + p} of
     * the active ({@link #active}) and inactive positions, without the channel term {@code c * H * W}.
     *
     * @param batch    B
     * @param channels C
     * @param plane    H * W
     * @param active   offsets of active positions, or null when all are active
     * @param inactive offsets of inactive positions (empty when all are active)
     */
    public record Positions(int batch, int channels, int plane, int[] active, int[] inactive) {
        /** Number of positions per channel that enter the statistics. */
        public int count() {
            return active == null ? batch * plane : active.length;
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
            Buf m = buf(Tensors.contiguous(mask.dataType().isFPType() ? mask : mask.castTo(DataType.FLOAT)));
            int n = 0;
            for (int i = 0; i < b * plane; i++) {
                if (m.get(i) != 0) {
                    n++;
                }
            }
            int[] on = new int[n];
            int[] off = new int[b * plane - n];
            int ia = 0;
            int ii = 0;
            for (int s = 0; s < b; s++) {
                for (int p = 0; p < plane; p++) {
                    int o = s * c * plane + p;
                    if (m.get(s * plane + p) != 0) {
                        on[ia++] = o;
                    } else {
                        off[ii++] = o;
                    }
                }
            }
            return new Positions(b, c, plane, on, off);
        }
    }

    /** Runs {@code body} for every channel, split over the common fork-join pool. */
    private static void forChannels(int channels, java.util.function.IntConsumer body) {
        int chunks = Math.min(channels, 4 * Runtime.getRuntime().availableProcessors());
        if (chunks <= 1) {
            for (int c = 0; c < channels; c++) {
                body.accept(c);
            }
            return;
        }
        IntStream.range(0, chunks).parallel().forEach(k -> {
            int from = (int) ((long) channels * k / chunks);
            int to = (int) ((long) channels * (k + 1) / chunks);
            for (int c = from; c < to; c++) {
                body.accept(c);
            }
        });
    }

    /**
     * BatchNorm statistics of the kept positions of {@code x}: per-channel mean and biased variance.
     *
     * @param mean out, length C
     * @param var  out, length C
     */
    public static void moments(INDArray x, Positions pos, double[] mean, double[] var) {
        Buf xb = buf(x);
        int plane = pos.plane();
        int chw = pos.channels() * plane;
        int[] on = pos.active();
        double n = pos.count();
        forChannels(pos.channels(), c -> {
            int base = c * plane;
            double s = 0;
            if (on == null) {
                for (int b = 0; b < pos.batch(); b++) {
                    int o = b * chw + base;
                    for (int p = 0; p < plane; p++) {
                        s += xb.get(o + p);
                    }
                }
            } else {
                for (int o : on) {
                    s += xb.get(o + base);
                }
            }
            double m = s / n;
            double q = 0;
            if (on == null) {
                for (int b = 0; b < pos.batch(); b++) {
                    int o = b * chw + base;
                    for (int p = 0; p < plane; p++) {
                        double d = xb.get(o + p) - m;
                        q += d * d;
                    }
                }
            } else {
                for (int o : on) {
                    double d = xb.get(o + base) - m;
                    q += d * d;
                }
            }
            mean[c] = m;
            var[c] = q / n;
        });
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
                              INDArray residual,
                              double cap, INDArray y) {
        boolean act = !Double.isNaN(cap);
        Buf xb = buf(x);
        Buf yb = buf(y);
        Buf rb = residual == null ? null : buf(residual);
        int plane = pos.plane();
        int chw = pos.channels() * plane;
        int[] on = pos.active();
        int[] off = pos.inactive();
        forChannels(pos.channels(), c -> {
            int base = c * plane;
            double m = center[c];
            double a = scale[c];
            double s = shift[c];
            if (on == null) {
                for (int b = 0; b < pos.batch(); b++) {
                    int o = b * chw + base;
                    for (int i = o; i < o + plane; i++) {
                        double v = (xb.get(i) - m) * a + s;
                        if (rb != null) {
                            v += rb.get(i);
                        }
                        yb.set(i, act ? clamp(v, cap) : v);
                    }
                }
            } else {
                for (int o : on) {
                    int i = o + base;
                    double v = (xb.get(i) - m) * a + s;
                    if (rb != null) {
                        v += rb.get(i);
                    }
                    yb.set(i, act ? clamp(v, cap) : v);
                }
                for (int o : off) {
                    yb.set(o + base, 0.0);
                }
            }
        });
    }

    private static double clamp(double v, double cap) {
        return v > 0 ? (v < cap ? v : cap) : 0.0;
    }

    /** The activation's derivative from its output, as PyTorch: ReLU {@code y > 0}, ReLU6 {@code 0 < y < 6}. */
    private static boolean passes(double y, double cap) {
        return y > 0 && (y < cap || cap == Double.POSITIVE_INFINITY);
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
        Buf xb = buf(x);
        Buf gb = buf(g);
        boolean relu = !Double.isNaN(cap);
        Buf yb = relu ? buf(y) : null;
        Buf rb = gradResidual == null ? null : buf(gradResidual);
        Buf db = buf(dx);
        int plane = pos.plane();
        int chw = pos.channels() * plane;
        int[] on = pos.active();
        int[] off = pos.inactive();
        double n = pos.count();
        // the gated gradient is kept after pass 1: in gradResidual when there is one, else in dx (as scratch)
        Buf keep = rb != null ? rb : relu ? db : null;
        forChannels(pos.channels(), c -> {
            int base = c * plane;
            double m = mean[c];
            double r = rstd[c];
            double sg = 0;
            double sgx = 0;
            // pass 1: gate the gradient by the activation's derivative; the sums of g and g * (x - mean)
            if (on == null) {
                for (int b = 0; b < pos.batch(); b++) {
                    int o = b * chw + base;
                    for (int i = o; i < o + plane; i++) {
                        double gi = gb.get(i);
                        if (relu && !passes(yb.get(i), cap)) {
                            gi = 0;
                        }
                        if (keep != null) {
                            keep.set(i, gi);
                        }
                        sg += gi;
                        sgx += gi * (xb.get(i) - m);
                    }
                }
            } else {
                for (int o : on) {
                    int i = o + base;
                    double gi = gb.get(i);
                    if (relu && !passes(yb.get(i), cap)) {
                        gi = 0;
                    }
                    if (keep != null) {
                        keep.set(i, gi);
                    }
                    sg += gi;
                    sgx += gi * (xb.get(i) - m);
                }
            }
            sgx *= r;
            dgamma[c] += sgx;
            dbeta[c] += sg;
            double k = gamma[c] * r;
            double mg = batchStats ? sg / n : 0;
            double mgx = batchStats ? sgx / n : 0;
            // pass 2: dx = k * (g - mg - x_hat * mgx)
            Buf src = keep != null ? keep : gb;
            if (on == null) {
                for (int b = 0; b < pos.batch(); b++) {
                    int o = b * chw + base;
                    for (int i = o; i < o + plane; i++) {
                        db.set(i, k * (src.get(i) - mg - (xb.get(i) - m) * r * mgx));
                    }
                }
            } else {
                for (int o : on) {
                    int i = o + base;
                    db.set(i, k * (src.get(i) - mg - (xb.get(i) - m) * r * mgx));
                }
                for (int o : off) {
                    db.set(o + base, 0.0);
                    if (rb != null) {
                        rb.set(o + base, 0.0);
                    }
                }
            }
        });
    }

    /**
     * {@code out = where(active, x, values[c])}: {@code x} at kept positions, the per-channel {@code values} at the
     * others (SparK's mask-token fill).
     */
    public static void fillInactive(INDArray x, Positions pos, double[] values, INDArray out) {
        Buf xb = buf(x);
        Buf ob = buf(out);
        int plane = pos.plane();
        int chw = pos.channels() * plane;
        int[] on = pos.active();
        int[] off = pos.inactive();
        forChannels(pos.channels(), c -> {
            int base = c * plane;
            if (on == null) {
                for (int b = 0; b < pos.batch(); b++) {
                    int o = b * chw + base;
                    for (int i = o; i < o + plane; i++) {
                        ob.set(i, xb.get(i));
                    }
                }
                return;
            }
            for (int o : on) {
                ob.set(o + base, xb.get(o + base));
            }
            double v = values[c];
            for (int o : off) {
                ob.set(o + base, v);
            }
        });
    }

    /**
     * Backward of {@link #fillInactive}: {@code gx = g} at kept positions and 0 elsewhere; {@code sums[c]} receives
     * the sum of {@code g} over the other positions (the gradient of {@code values[c]}).
     */
    public static void splitInactive(INDArray g, Positions pos, INDArray gx, double[] sums) {
        Buf gb = buf(g);
        Buf ob = buf(gx);
        int plane = pos.plane();
        int chw = pos.channels() * plane;
        int[] on = pos.active();
        int[] off = pos.inactive();
        forChannels(pos.channels(), c -> {
            int base = c * plane;
            if (on == null) {
                for (int b = 0; b < pos.batch(); b++) {
                    int o = b * chw + base;
                    for (int i = o; i < o + plane; i++) {
                        ob.set(i, gb.get(i));
                    }
                }
                sums[c] = 0;
                return;
            }
            for (int o : on) {
                ob.set(o + base, gb.get(o + base));
            }
            double s = 0;
            for (int o : off) {
                s += gb.get(o + base);
                ob.set(o + base, 0.0);
            }
            sums[c] = s;
        });
    }

    /** Copies a rank-1 FLOAT/DOUBLE array into a new double array. */
    public static double[] toDoubles(INDArray v) {
        Buf b = buf(Tensors.contiguous(v));
        double[] out = new double[(int) v.length()];
        for (int i = 0; i < out.length; i++) {
            out[i] = b.get(i);
        }
        return out;
    }

    /** Writes {@code values} into a contiguous FLOAT/DOUBLE array of the same length. */
    public static void fromDoubles(double[] values, INDArray out) {
        if (out.length() != values.length) {
            throw new IllegalArgumentException("length " + values.length + " does not match " + Tensors.shape(out));
        }
        Buf b = buf(out);
        for (int i = 0; i < values.length; i++) {
            b.set(i, values[i]);
        }
    }
}
