package io.hgkd.core.nn;

import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinTask;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Fused row-wise kernels written as plain Java loops over the native memory of dense c-order arrays (through
 * {@code data().asNioFloat()} / {@code asNioDouble()}, absolute indices from {@code offset()}). Each kernel makes one
 * pass over its rows where the equivalent ND4J code makes several broadcast passes and allocates temporaries; rows
 * are split over a small pool of Java threads when the work is large enough.
 *
 * <p>DOUBLE data (the double-precision gradient checks) runs in double. FLOAT data of the bias, LayerNorm and softmax
 * backward kernels runs in float over whole rows in {@code float[]} work arrays indexed from 0 (the loops C2
 * vectorises), with row reductions and column sums accumulated in double; the other kernels load float rows into
 * {@code double} work arrays. Only FLOAT and DOUBLE are supported.
 */
public final class RowKernels {
    /** Threads of the kernels: {@code OMP_NUM_THREADS} when set (as ND4J), else the core count. */
    public static final int THREADS = threads();
    /** Below this many elements of work a kernel stays on the calling thread (a hand-off costs microseconds). */
    public static final long PARALLEL_MIN = 1 << 15;
    private static final ForkJoinPool POOL = THREADS > 1 ? new ForkJoinPool(THREADS - 1,
            p -> {
                var t = ForkJoinPool.defaultForkJoinWorkerThreadFactory.newThread(p);
                t.setDaemon(true);
                t.setName("hgkd-rowkernels-" + t.getPoolIndex());
                return t;
            }, null, false) : null;

    private RowKernels() {
    }

    private static int threads() {
        int cores = Runtime.getRuntime().availableProcessors();
        String omp = System.getenv("OMP_NUM_THREADS");
        if (omp != null) {
            try {
                return Math.max(1, Math.min(cores, Integer.parseInt(omp.trim())));
            } catch (NumberFormatException e) {
                return cores;
            }
        }
        return cores;
    }

    /** A body over the index range {@code [start, end)}. */
    @FunctionalInterface
    public interface RangeBody {
        void run(int start, int end);
    }

    /** A body over chunk {@code chunk} covering the index range {@code [start, end)}. */
    @FunctionalInterface
    public interface ChunkBody {
        void run(int chunk, int start, int end);
    }

    /** The number of chunks {@link #parallelFor} splits {@code [0, n)} into for this much work. */
    public static int chunks(int n, long work) {
        return POOL == null || work < PARALLEL_MIN ? 1 : Math.max(1, Math.min(THREADS, n));
    }

    /**
     * Runs {@code body} over {@code [0, n)} in up to {@link #THREADS} contiguous chunks, the first on the calling thread;
     * on the calling thread alone when {@code work} (elements touched) is below {@link #PARALLEL_MIN}. Bodies must not
     * call this method themselves.
     */
    public static void parallelFor(int n, long work, RangeBody body) {
        parallelChunks(n, work, (c, s, e) -> body.run(s, e));
    }

    /** As {@link #parallelFor}, telling the body its chunk index in {@code [0, chunks(n, work))}. */
    public static void parallelChunks(int n, long work, ChunkBody body) {
        int chunks = chunks(n, work);
        if (chunks <= 1) {
            body.run(0, 0, n);
            return;
        }
        ForkJoinTask<?>[] tasks = new ForkJoinTask<?>[chunks - 1];
        for (int c = 1; c < chunks; c++) {
            int chunk = c;
            int s = (int) ((long) n * c / chunks);
            int e = (int) ((long) n * (c + 1) / chunks);
            tasks[c - 1] = POOL.submit(() -> body.run(chunk, s, e));
        }
        body.run(0, 0, (int) ((long) n / chunks));
        for (ForkJoinTask<?> t : tasks) {
            t.join();
        }
    }

    /** True when {@code a} is laid out densely in c order from {@code offset()} (a reshape view counts). */
    public static boolean isDense(INDArray a) {
        long[] shape = a.shape();
        long[] stride = a.stride();
        long expected = 1;
        for (int i = shape.length - 1; i >= 0; i--) {
            if (shape[i] != 1 && stride[i] != expected) {
                return false;
            }
            expected *= shape[i];
        }
        return true;
    }

    /** The elements of dense (see {@link #isDense}) FLOAT array {@code a} as a buffer indexed from its first element. */
    public static FloatBuffer floats(INDArray a) {
        FloatBuffer b = a.data().asNioFloat().duplicate();
        b.limit(Math.toIntExact(a.offset() + a.length())).position(Math.toIntExact(a.offset()));
        return b.slice();
    }

    /** The elements of dense DOUBLE array {@code a} as a buffer indexed from its first element. */
    public static DoubleBuffer doubles(INDArray a) {
        DoubleBuffer b = a.data().asNioDouble().duplicate();
        b.limit(Math.toIntExact(a.offset() + a.length())).position(Math.toIntExact(a.offset()));
        return b.slice();
    }

    /** True when every array is FLOAT or DOUBLE, all of one type, and dense. */
    public static boolean supported(INDArray... arrays) {
        DataType t = arrays[0].dataType();
        if (t != DataType.FLOAT && t != DataType.DOUBLE) {
            return false;
        }
        for (INDArray a : arrays) {
            if (a.dataType() != t || !isDense(a) || a.offset() + a.length() > Integer.MAX_VALUE) {
                return false;
            }
        }
        return true;
    }

    /**
     * Element access to the memory of a dense FLOAT or DOUBLE array: contiguous runs are copied to and from
     * {@code double[]} work arrays. Safe for concurrent use on disjoint ranges (absolute bulk gets and puts only).
     */
    public static final class Buf {
        private final FloatBuffer f;
        private final DoubleBuffer d;
        private final int base;

        public Buf(INDArray a) {
            if (!isDense(a)) {
                throw new IllegalArgumentException("RowKernels needs a dense c-order array, got shape "
                        + Tensors.shape(a) + " strides " + java.util.Arrays.toString(a.stride()));
            }
            if (a.dataType() == DataType.FLOAT) {
                f = a.data().asNioFloat();
                d = null;
            } else if (a.dataType() == DataType.DOUBLE) {
                f = null;
                d = a.data().asNioDouble();
            } else {
                throw new IllegalArgumentException("RowKernels supports FLOAT and DOUBLE, got " + a.dataType());
            }
            base = Math.toIntExact(a.offset());
        }

        /** Whether the array is FLOAT (then {@link #get} and {@link #put} apply). */
        public boolean isFloat() {
            return f != null;
        }

        /** Copies FLOAT elements {@code [idx, idx + n)} into {@code dst[0 .. n)}. */
        public void get(long idx, float[] dst, int n) {
            f.get(base + (int) idx, dst, 0, n);
        }

        /** Copies {@code src[0 .. n)} to FLOAT elements {@code [idx, idx + n)}. */
        public void put(long idx, float[] src, int n) {
            f.put(base + (int) idx, src, 0, n);
        }

        /** A float scratch array for {@link #load}/{@link #store} of up to {@code n} elements (null for doubles). */
        public float[] tmp(int n) {
            return f != null ? new float[n] : null;
        }

        /** Copies elements {@code [idx, idx + n)} into {@code dst[off ..]}. */
        public void load(long idx, double[] dst, int off, int n, float[] tmp) {
            int i = base + (int) idx;
            if (f != null) {
                f.get(i, tmp, 0, n);
                for (int k = 0; k < n; k++) {
                    dst[off + k] = tmp[k];
                }
            } else {
                d.get(i, dst, off, n);
            }
        }

        /** Copies {@code src[off .. off + n)} to elements {@code [idx, idx + n)}. */
        public void store(long idx, double[] src, int off, int n, float[] tmp) {
            int i = base + (int) idx;
            if (f != null) {
                for (int k = 0; k < n; k++) {
                    tmp[k] = (float) src[off + k];
                }
                f.put(i, tmp, 0, n);
            } else {
                d.put(i, src, off, n);
            }
        }
    }

    /** The whole of a small dense array as doubles. */
    public static double[] toDoubles(INDArray a) {
        int n = Math.toIntExact(a.length());
        double[] out = new double[n];
        Buf b = new Buf(a);
        b.load(0, out, 0, n, b.tmp(n));
        return out;
    }

    /** Adds {@code v} element-wise into the dense array {@code target}. */
    public static void addInto(INDArray target, double[] v) {
        int n = Math.toIntExact(target.length());
        Buf b = new Buf(target);
        float[] tmp = b.tmp(n);
        double[] cur = new double[n];
        b.load(0, cur, 0, n, tmp);
        for (int i = 0; i < n; i++) {
            cur[i] += v[i];
        }
        b.store(0, cur, 0, n, tmp);
    }

    /** Sum of {@code a[off .. off + n)} with four accumulators (a single chain is latency bound). */
    public static double sum(double[] a, int off, int n) {
        double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        int i = 0;
        for (; i + 3 < n; i += 4) {
            s0 += a[off + i];
            s1 += a[off + i + 1];
            s2 += a[off + i + 2];
            s3 += a[off + i + 3];
        }
        for (; i < n; i++) {
            s0 += a[off + i];
        }
        return (s0 + s1) + (s2 + s3);
    }

    /**
     * Dot product of {@code a[0 .. n)} and {@code b[0 .. n)}, four accumulators. The arrays are indexed from 0: C2
     * vectorises these loops, not the same loops over offsets into larger arrays.
     */
    public static double dot(double[] a, double[] b, int n) {
        double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        int i = 0;
        for (; i + 3 < n; i += 4) {
            s0 += a[i] * b[i];
            s1 += a[i + 1] * b[i + 1];
            s2 += a[i + 2] * b[i + 2];
            s3 += a[i + 3] * b[i + 3];
        }
        for (; i < n; i++) {
            s0 += a[i] * b[i];
        }
        return (s0 + s1) + (s2 + s3);
    }

    /** {@code y[0 .. n) += alpha * x[0 .. n)}. */
    public static void axpy(double alpha, double[] x, double[] y, int n) {
        for (int i = 0; i < n; i++) {
            y[i] += alpha * x[i];
        }
    }

    /**
     * Sum of float {@code a[0 .. n)} accumulated in double, eight accumulators: with the float-to-double conversion
     * in every add, four chains left the loop latency-bound (a LayerNorm forward on (8, 197, 768) spent a fifth of its
     * time in these sums).
     */
    static double sum(float[] a, int n) {
        double s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0, s5 = 0, s6 = 0, s7 = 0;
        int i = 0;
        for (; i + 7 < n; i += 8) {
            s0 += a[i];
            s1 += a[i + 1];
            s2 += a[i + 2];
            s3 += a[i + 3];
            s4 += a[i + 4];
            s5 += a[i + 5];
            s6 += a[i + 6];
            s7 += a[i + 7];
        }
        for (; i < n; i++) {
            s0 += a[i];
        }
        return ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7));
    }

    /** Sum of {@code (a[i] - m)^2} over float {@code a[0 .. n)}, in double, eight accumulators. */
    static double sumSquares(float[] a, int n, double m) {
        double s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0, s5 = 0, s6 = 0, s7 = 0;
        int i = 0;
        for (; i + 7 < n; i += 8) {
            double d0 = a[i] - m, d1 = a[i + 1] - m, d2 = a[i + 2] - m, d3 = a[i + 3] - m;
            double d4 = a[i + 4] - m, d5 = a[i + 5] - m, d6 = a[i + 6] - m, d7 = a[i + 7] - m;
            s0 += d0 * d0;
            s1 += d1 * d1;
            s2 += d2 * d2;
            s3 += d3 * d3;
            s4 += d4 * d4;
            s5 += d5 * d5;
            s6 += d6 * d6;
            s7 += d7 * d7;
        }
        for (; i < n; i++) {
            double d = a[i] - m;
            s0 += d * d;
        }
        return ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7));
    }

    /**
     * Dot product of float {@code a[0 .. n)} and {@code b[0 .. n)} accumulated in double, eight accumulators (see
     * {@link #sum(float[], int)}); a fixed order, so deterministic.
     */
    public static double dot(float[] a, float[] b, int n) {
        double s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0, s5 = 0, s6 = 0, s7 = 0;
        int i = 0;
        for (; i + 7 < n; i += 8) {
            s0 += (double) a[i] * b[i];
            s1 += (double) a[i + 1] * b[i + 1];
            s2 += (double) a[i + 2] * b[i + 2];
            s3 += (double) a[i + 3] * b[i + 3];
            s4 += (double) a[i + 4] * b[i + 4];
            s5 += (double) a[i + 5] * b[i + 5];
            s6 += (double) a[i + 6] * b[i + 6];
            s7 += (double) a[i + 7] * b[i + 7];
        }
        for (; i < n; i++) {
            s0 += (double) a[i] * b[i];
        }
        return ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7));
    }

    /**
     * Float column sums are accumulated in float over at most this many rows, then added into double: the float loops
     * vectorise and the rounding error stays that of a short float sum.
     */
    private static final int FOLD_ROWS = 32;

    /** {@code acc[i] += part[i]; part[i] = 0} over {@code n} elements. */
    private static void fold(float[] part, double[] acc, int n) {
        for (int i = 0; i < n; i++) {
            acc[i] += part[i];
            part[i] = 0;
        }
    }

    private static float[] toFloats(double[] a) {
        if (a == null) {
            return null;
        }
        float[] f = new float[a.length];
        for (int i = 0; i < a.length; i++) {
            f[i] = (float) a[i];
        }
        return f;
    }

    // ------------------------------------------------------------------------------------------------- biases

    /** {@code m[r, :] += row} for every row of the dense (rows, cols) {@code m}, in place. */
    public static void addRowVector(INDArray m, INDArray row) {
        int rows = (int) m.size(0);
        int cols = (int) m.size(1);
        Buf bm = new Buf(m);
        double[] v = toDoubles(row);
        if (bm.isFloat()) {
            float[] vf = toFloats(v);
            parallelFor(rows, (long) rows * cols, (r0, r1) -> {
                float[] a = new float[cols];
                for (int r = r0; r < r1; r++) {
                    long idx = (long) r * cols;
                    bm.get(idx, a, cols);
                    for (int i = 0; i < cols; i++) {
                        a[i] += vf[i];
                    }
                    bm.put(idx, a, cols);
                }
            });
            return;
        }
        parallelFor(rows, (long) rows * cols, (r0, r1) -> {
            double[] a = new double[cols];
            float[] tmp = bm.tmp(cols);
            for (int r = r0; r < r1; r++) {
                long idx = (long) r * cols;
                bm.load(idx, a, 0, cols, tmp);
                for (int i = 0; i < cols; i++) {
                    a[i] += v[i];
                }
                bm.store(idx, a, 0, cols, tmp);
            }
        });
    }

    /**
     * Adds the column sums of the dense (rows, cols) {@code m} into {@code target} (cols elements): a bias gradient.
     * An M = 1 GEMM with a ones row, the usual trick, is slower than this on small widths.
     */
    public static void addColumnSums(INDArray m, INDArray target) {
        int rows = (int) m.size(0);
        int cols = (int) m.size(1);
        Buf bm = new Buf(m);
        long work = (long) rows * cols;
        double[][] partial = new double[chunks(rows, work)][];
        if (bm.isFloat()) {
            parallelChunks(rows, work, (chunk, r0, r1) -> {
                float[] a = new float[cols];
                float[] part = new float[cols];
                double[] acc = new double[cols];
                for (int r = r0; r < r1; r++) {
                    bm.get((long) r * cols, a, cols);
                    for (int i = 0; i < cols; i++) {
                        part[i] += a[i];
                    }
                    if ((r - r0) % FOLD_ROWS == FOLD_ROWS - 1 || r == r1 - 1) {
                        fold(part, acc, cols);
                    }
                }
                partial[chunk] = acc;
            });
        } else {
            parallelChunks(rows, work, (chunk, r0, r1) -> {
                double[] a = new double[cols];
                double[] acc = new double[cols];
                float[] tmp = bm.tmp(cols);
                for (int r = r0; r < r1; r++) {
                    bm.load((long) r * cols, a, 0, cols, tmp);
                    for (int i = 0; i < cols; i++) {
                        acc[i] += a[i];
                    }
                }
                partial[chunk] = acc;
            });
        }
        for (int c = 1; c < partial.length; c++) {
            axpy(1.0, partial[c], partial[0], cols);
        }
        addInto(target, partial[0]);
    }

    // ------------------------------------------------------------------------------------------------ LayerNorm

    /**
     * LayerNorm over the rows of {@code x} (rows, dim): {@code out = (x - mean) * rstd * weight + bias}, biased variance.
     *
     * @param weight (dim) or null for no affine transform (then {@code bias} is null too)
     * @param mean   receives the mean each row was centred with when not null (for FLOAT rows, the float it was
     *               rounded to), so that {@link #layerNormBackward} can recompute the normalised rows exactly
     * @param rstd   receives {@code 1 / sqrt(var + eps)} per row when not null
     */
    public static void layerNormForward(INDArray x, INDArray weight, INDArray bias, double eps, INDArray out,
                                        double[] mean, double[] rstd) {
        int rows = (int) x.size(0);
        int dim = (int) x.size(1);
        Buf bx = new Buf(x);
        Buf bo = new Buf(out);
        double[] w = weight == null ? null : toDoubles(weight);
        double[] b = bias == null ? null : toDoubles(bias);
        if (bx.isFloat() && bo.isFloat()) {
            layerNormForwardFloat(bx, toFloats(w), toFloats(b), eps, bo, mean, rstd, rows, dim);
            return;
        }
        parallelFor(rows, (long) rows * dim, (r0, r1) -> {
            double[] row = new double[dim];
            double[] y = new double[dim];
            float[] tmp = bx.tmp(dim);
            for (int r = r0; r < r1; r++) {
                long idx = (long) r * dim;
                bx.load(idx, row, 0, dim, tmp);
                double m = sum(row, 0, dim) / dim;
                for (int i = 0; i < dim; i++) {
                    row[i] -= m;
                }
                double rs = 1.0 / Math.sqrt(dot(row, row, dim) / dim + eps);
                for (int i = 0; i < dim; i++) {
                    row[i] *= rs;
                }
                if (mean != null) {
                    mean[r] = m;
                }
                if (rstd != null) {
                    rstd[r] = rs;
                }
                if (w != null) {
                    for (int i = 0; i < dim; i++) {
                        y[i] = row[i] * w[i] + b[i];
                    }
                    bo.store(idx, y, 0, dim, tmp);
                } else {
                    bo.store(idx, row, 0, dim, tmp);
                }
            }
        });
    }

    /**
     * FLOAT LayerNorm forward: mean and variance accumulated in double, the element-wise work in float (vectorised
     * loops over whole rows, as PyTorch's CPU kernel).
     */
    private static void layerNormForwardFloat(Buf bx, float[] w, float[] b, double eps, Buf bo, double[] means,
                                              double[] rstd, int rows, int dim) {
        parallelFor(rows, (long) rows * dim, (r0, r1) -> {
            float[] row = new float[dim];
            float[] y = new float[dim];
            for (int r = r0; r < r1; r++) {
                long idx = (long) r * dim;
                bx.get(idx, row, dim);
                float mean = (float) (sum(row, dim) / dim);
                // two read-only reductions, then y in one element-wise pass (x_hat is recomputed in backward)
                double rs = 1.0 / Math.sqrt(sumSquares(row, dim, mean) / dim + eps);
                float frs = (float) rs;
                if (means != null) {
                    means[r] = mean;
                }
                if (rstd != null) {
                    rstd[r] = rs;
                }
                if (w != null) {
                    for (int i = 0; i < dim; i++) {
                        y[i] = (row[i] - mean) * frs * w[i] + b[i];
                    }
                    bo.put(idx, y, dim);
                } else {
                    for (int i = 0; i < dim; i++) {
                        row[i] = (row[i] - mean) * frs;
                    }
                    bo.put(idx, row, dim);
                }
            }
        });
    }

    /**
     * LayerNorm backward: {@code dx = rstd (dxhat - mean(dxhat) - xhat mean(dxhat xhat))} with
     * {@code dxhat = g * weight}; adds {@code sum_rows(g * xhat)} into {@code weightGrad} and {@code sum_rows(g)} into
     * {@code biasGrad} when they are not null. {@code dx} may be {@code g} itself. The normalised rows
     * {@code xhat = (x - mean) * rstd} are recomputed from the forward's input and its {@code mean} and {@code rstd}
     * with the forward's own operations, so they are the values the forward used.
     */
    public static void layerNormBackward(INDArray g, INDArray x, double[] mean, double[] rstd, INDArray weight,
                                         INDArray dx, INDArray weightGrad, INDArray biasGrad) {
        int rows = (int) g.size(0);
        int dim = (int) g.size(1);
        Buf bg = new Buf(g);
        Buf bx = new Buf(x);
        Buf bd = new Buf(dx);
        double[] w = weight == null ? null : toDoubles(weight);
        boolean paramGrads = weightGrad != null || biasGrad != null;
        long work = (long) rows * dim;
        double[][] dw = new double[chunks(rows, work)][];
        double[][] db = new double[dw.length][];
        if (bg.isFloat() && bx.isFloat() && bd.isFloat()) {
            layerNormBackwardFloat(bg, bx, bd, mean, rstd, toFloats(w), paramGrads, dw, db, rows, dim);
        } else {
            layerNormBackwardDouble(bg, bx, bd, mean, rstd, w, paramGrads, dw, db, rows, dim);
        }
        if (paramGrads) {
            double[] sw = new double[dim];
            double[] sb = new double[dim];
            for (int c = 0; c < dw.length; c++) {
                if (dw[c] != null) {
                    axpy(1.0, dw[c], sw, dim);
                    axpy(1.0, db[c], sb, dim);
                }
            }
            if (weightGrad != null) {
                addInto(weightGrad, sw);
            }
            if (biasGrad != null) {
                addInto(biasGrad, sb);
            }
        }
    }

    private static void layerNormBackwardDouble(Buf bg, Buf bx, Buf bd, double[] mean, double[] rstd, double[] w,
                                                boolean paramGrads, double[][] dw, double[][] db, int rows, int dim) {
        parallelChunks(rows, (long) rows * dim, (chunk, r0, r1) -> {
            double[] gr = new double[dim];
            double[] hr = new double[dim];
            double[] dxh = new double[dim];
            double[] pw = paramGrads ? new double[dim] : null;
            double[] pb = paramGrads ? new double[dim] : null;
            float[] tmp = bg.tmp(dim);
            for (int r = r0; r < r1; r++) {
                long idx = (long) r * dim;
                bg.load(idx, gr, 0, dim, tmp);
                bx.load(idx, hr, 0, dim, tmp);
                double mr = mean[r];
                double rr = rstd[r];
                for (int i = 0; i < dim; i++) {
                    hr[i] = (hr[i] - mr) * rr;
                }
                if (paramGrads) {
                    for (int i = 0; i < dim; i++) {
                        pw[i] += gr[i] * hr[i];
                        pb[i] += gr[i];
                    }
                }
                if (w != null) {
                    for (int i = 0; i < dim; i++) {
                        dxh[i] = gr[i] * w[i];
                    }
                } else {
                    System.arraycopy(gr, 0, dxh, 0, dim);
                }
                double m1 = sum(dxh, 0, dim) / dim;
                double m2 = dot(dxh, hr, dim) / dim;
                for (int i = 0; i < dim; i++) {
                    dxh[i] = rr * (dxh[i] - m1 - hr[i] * m2);
                }
                bd.store(idx, dxh, 0, dim, tmp);
            }
            dw[chunk] = pw;
            db[chunk] = pb;
        });
    }

    /**
     * FLOAT LayerNorm backward: row reductions in double, element-wise work in float, parameter gradients summed in
     * float over {@link #FOLD_ROWS} rows at a time, then in double.
     */
    private static void layerNormBackwardFloat(Buf bg, Buf bx, Buf bd, double[] mean, double[] rstd, float[] w,
                                               boolean paramGrads, double[][] dw, double[][] db, int rows, int dim) {
        parallelChunks(rows, (long) rows * dim, (chunk, r0, r1) -> {
            float[] gr = new float[dim];
            float[] hr = new float[dim];
            float[] dxh = new float[dim];
            float[] qw = paramGrads ? new float[dim] : null;
            float[] qb = paramGrads ? new float[dim] : null;
            double[] pw = paramGrads ? new double[dim] : null;
            double[] pb = paramGrads ? new double[dim] : null;
            for (int r = r0; r < r1; r++) {
                long idx = (long) r * dim;
                bg.get(idx, gr, dim);
                bx.get(idx, hr, dim);
                float fm = (float) mean[r];
                float fr = (float) rstd[r];
                for (int i = 0; i < dim; i++) {
                    hr[i] = (hr[i] - fm) * fr;
                }
                if (paramGrads) {
                    for (int i = 0; i < dim; i++) {
                        qw[i] += gr[i] * hr[i];
                    }
                    for (int i = 0; i < dim; i++) {
                        qb[i] += gr[i];
                    }
                    if ((r - r0) % FOLD_ROWS == FOLD_ROWS - 1 || r == r1 - 1) {
                        fold(qw, pw, dim);
                        fold(qb, pb, dim);
                    }
                }
                if (w != null) {
                    for (int i = 0; i < dim; i++) {
                        dxh[i] = gr[i] * w[i];
                    }
                } else {
                    System.arraycopy(gr, 0, dxh, 0, dim);
                }
                float m1 = (float) (sum(dxh, dim) / dim);
                float m2 = (float) (dot(dxh, hr, dim) / dim);
                for (int i = 0; i < dim; i++) {
                    dxh[i] = fr * (dxh[i] - m1 - hr[i] * m2);
                }
                bd.put(idx, dxh, dim);
            }
            dw[chunk] = pw;
            db[chunk] = pb;
        });
    }

    // ------------------------------------------------------------------------------------------------- softmax

    /** Softmax over the rows of {@code x} (rows, cols) into {@code out} ({@code out} may be {@code x}). */
    public static void softmaxForward(INDArray x, INDArray out) {
        int rows = (int) x.size(0);
        int cols = (int) x.size(1);
        Buf bx = new Buf(x);
        Buf bo = new Buf(out);
        parallelFor(rows, (long) rows * cols * 4, (r0, r1) -> {
            double[] row = new double[cols];
            float[] tmp = bx.tmp(cols);
            for (int r = r0; r < r1; r++) {
                long idx = (long) r * cols;
                bx.load(idx, row, 0, cols, tmp);
                softmaxInPlace(row, 0, cols);
                bo.store(idx, row, 0, cols, tmp);
            }
        });
    }

    /** Softmax of {@code a[off .. off + n)} in place (max subtracted first). */
    public static void softmaxInPlace(double[] a, int off, int n) {
        double max = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) {
            max = Math.max(max, a[off + i]);
        }
        double s = 0;
        for (int i = 0; i < n; i++) {
            double e = Math.exp(a[off + i] - max);
            a[off + i] = e;
            s += e;
        }
        double inv = 1.0 / s;
        for (int i = 0; i < n; i++) {
            a[off + i] *= inv;
        }
    }

    /**
     * Softmax backward over rows: {@code dx = p (g - sum(g p))} with {@code p} the softmax output; {@code dx} may be
     * {@code g}.
     */
    public static void softmaxBackward(INDArray g, INDArray p, INDArray dx) {
        int rows = (int) g.size(0);
        int cols = (int) g.size(1);
        Buf bg = new Buf(g);
        Buf bp = new Buf(p);
        Buf bd = new Buf(dx);
        if (bg.isFloat() && bp.isFloat() && bd.isFloat()) {
            parallelFor(rows, (long) rows * cols, (r0, r1) -> {
                float[] gr = new float[cols];
                float[] pr = new float[cols];
                for (int r = r0; r < r1; r++) {
                    long idx = (long) r * cols;
                    bg.get(idx, gr, cols);
                    bp.get(idx, pr, cols);
                    float dot = (float) dot(gr, pr, cols);
                    for (int i = 0; i < cols; i++) {
                        gr[i] = pr[i] * (gr[i] - dot);
                    }
                    bd.put(idx, gr, cols);
                }
            });
            return;
        }
        parallelFor(rows, (long) rows * cols, (r0, r1) -> {
            double[] gr = new double[cols];
            double[] pr = new double[cols];
            float[] tmp = bg.tmp(cols);
            for (int r = r0; r < r1; r++) {
                long idx = (long) r * cols;
                bg.load(idx, gr, 0, cols, tmp);
                bp.load(idx, pr, 0, cols, tmp);
                double dot = dot(gr, pr, cols);
                for (int i = 0; i < cols; i++) {
                    gr[i] = pr[i] * (gr[i] - dot);
                }
                bd.store(idx, gr, 0, cols, tmp);
            }
        });
    }

    // ---------------------------------------------------------------------------------------------------- GELU

    private static final int GELU_BLOCK = 2048;
    private static final float INV_SQRT2 = (float) (1.0 / Math.sqrt(2.0));
    private static final float INV_SQRT_2PI = (float) (1.0 / Math.sqrt(2.0 * Math.PI));

    /**
     * erf in float precision: a rational approximation on {@code x} clamped to [-4, 4] (outside, erf is +-1 in
     * float), the one Eigen and XLA use for float erf. Branch-free so that loops over it vectorise.
     */
    static float erf(float a) {
        float x = Math.max(-4f, Math.min(4f, a));
        float x2 = x * x;
        float p = x2 * -2.72614225801306e-10f + 2.77068142495902e-08f;
        p = x2 * p + -2.10102402082508e-06f;
        p = x2 * p + -5.69250639462346e-05f;
        p = x2 * p + -7.34990630326855e-04f;
        p = x2 * p + -2.95459980854025e-03f;
        p = x2 * p + -1.60960333262415e-02f;
        p = x * p;
        float q = x2 * -1.45660718464996e-05f + -2.13374055278905e-04f;
        q = x2 * q + -1.68282697438203e-03f;
        q = x2 * q + -7.37332916720468e-03f;
        q = x2 * q + -1.42647390514189e-02f;
        return p / q;
    }

    /** Exact (erf) GELU of a dense FLOAT array into {@code out} (may be {@code x}). */
    public static void geluFloat(INDArray x, INDArray out) {
        requireFloat(x, out);
        int n = Math.toIntExact(x.length());
        FloatBuffer fx = x.data().asNioFloat();
        FloatBuffer fo = out.data().asNioFloat();
        int bx = Math.toIntExact(x.offset());
        int bo = Math.toIntExact(out.offset());
        int blocks = (n + GELU_BLOCK - 1) / GELU_BLOCK;
        parallelFor(blocks, n * 4L, (k0, k1) -> {
            float[] v = new float[GELU_BLOCK];
            for (int k = k0; k < k1; k++) {
                int s = k * GELU_BLOCK;
                int len = Math.min(GELU_BLOCK, n - s);
                fx.get(bx + s, v, 0, len);
                for (int i = 0; i < len; i++) {
                    float t = v[i];
                    v[i] = 0.5f * t * (1f + erf(t * INV_SQRT2));
                }
                fo.put(bo + s, v, 0, len);
            }
        });
    }

    /**
     * GELU backward for dense FLOAT arrays: {@code out = g * (Phi(x) + x phi(x))}; {@code out} may be {@code g}.
     * Each block runs as a series of short loops (erf, then {@link #expNegBlock}, then the product) because C2 only
     * vectorises loops with small bodies: one loop calling {@code Math.exp} per element ran about 6x slower.
     */
    public static void geluBackwardFloat(INDArray x, INDArray g, INDArray out) {
        requireFloat(x, g, out);
        int n = Math.toIntExact(x.length());
        FloatBuffer fx = x.data().asNioFloat();
        FloatBuffer fg = g.data().asNioFloat();
        FloatBuffer fo = out.data().asNioFloat();
        int bx = Math.toIntExact(x.offset());
        int bg = Math.toIntExact(g.offset());
        int bo = Math.toIntExact(out.offset());
        int blocks = (n + GELU_BLOCK - 1) / GELU_BLOCK;
        parallelFor(blocks, n * 4L, (k0, k1) -> {
            float[] v = new float[GELU_BLOCK];
            float[] gv = new float[GELU_BLOCK];
            float[] cdf = new float[GELU_BLOCK];
            float[] pdf = new float[GELU_BLOCK];
            float[] work = new float[GELU_BLOCK];
            for (int k = k0; k < k1; k++) {
                int s = k * GELU_BLOCK;
                int len = Math.min(GELU_BLOCK, n - s);
                fx.get(bx + s, v, 0, len);
                fg.get(bg + s, gv, 0, len);
                geluBackwardBlock(v, gv, cdf, pdf, work, len);
                fo.put(bo + s, gv, 0, len);
            }
        });
    }

    /**
     * {@code g[i] *= Phi(x[i]) + x[i] phi(x[i])} over one block: short loops over arrays that all start at index 0,
     * the form C2 vectorises, in a method of their own (called thousands of times per step, so compiled early).
     */
    private static void geluBackwardBlock(float[] x, float[] g, float[] cdf, float[] pdf, float[] work, int len) {
        for (int i = 0; i < len; i++) {
            cdf[i] = erf(x[i] * INV_SQRT2);
        }
        for (int i = 0; i < len; i++) {
            float t = x[i];
            pdf[i] = -0.5f * t * t;
        }
        expNegBlock(pdf, work, len);
        for (int i = 0; i < len; i++) {
            float t = x[i];
            g[i] *= 0.5f * (1f + cdf[i]) + t * pdf[i] * INV_SQRT_2PI;
        }
    }

    /**
     * {@code z[i] = exp(z[i])} for {@code z[i] <= 0} in float precision (relative error about 1e-7 in the normal
     * range, subnormal or 0 below about -87):
     * Cody-Waite reduction {@code z = n ln2 + r}, a degree-6 polynomial for {@code exp(r)}, and {@code 2^-n} built
     * from the bits of n by float min/max arithmetic. Float-only short loops without bit casts, which C2 (JDK 17)
     * does not vectorise; {@code nw} is scratch of the same length.
     */
    static void expNegBlock(float[] z, float[] nw, int len) {
        for (int i = 0; i < len; i++) {
            // round(z / ln2) by the 1.5 * 2^23 trick; z clamped so that n stays in [-150, 0]
            nw[i] = (Math.max(z[i], -104f) * 1.44269504088896341f + 12582912f) - 12582912f;
        }
        for (int i = 0; i < len; i++) {
            float n = nw[i];
            z[i] = (Math.max(z[i], -104f) - n * 0.693359375f) - n * -2.12194440e-4f;
            nw[i] = -n;
        }
        for (int i = 0; i < len; i++) {
            float r = z[i];
            float p = 1.9875691500E-4f;
            p = p * r + 1.3981999507E-3f;
            p = p * r + 8.3334519073E-3f;
            p = p * r + 4.1665795894E-2f;
            p = p * r + 1.6666665459E-1f;
            p = p * r + 5.0000001201E-1f;
            z[i] = p * r * r + r + 1f;
        }
        // multiply by 2^-m, m = -n in [0, 150], one binary digit of m per loop; b is 0 or 1, so the factor is exact
        for (int bit = 128; bit >= 2; bit >>= 1) {
            float lim = bit - 1f;
            float w = bit;
            float f = Math.scalb(1f, -bit);
            for (int i = 0; i < len; i++) {
                float m = nw[i];
                float b = Math.min(Math.max(m - lim, 0f), 1f);
                nw[i] = m - w * b;
                z[i] *= (1f - b) + b * f;
            }
        }
        for (int i = 0; i < len; i++) {
            z[i] *= 1f - 0.5f * nw[i];
        }
    }

    private static void requireFloat(INDArray... arrays) {
        for (INDArray a : arrays) {
            if (a.dataType() != DataType.FLOAT || !isDense(a)) {
                throw new IllegalArgumentException("float GELU kernel needs dense FLOAT arrays, got " + a.dataType()
                        + " " + Tensors.shape(a));
            }
        }
    }
}
