package io.hgkd.core.nn;

import org.bytedeco.javacpp.DoublePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.openblas.global.openblas;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code C = alpha op(A) op(B) + beta C} for 2-D arrays, with the arguments of {@link Nd4j#gemm(INDArray, INDArray,
 * INDArray, boolean, boolean, double, double)}.
 *
 * <p>On ND4J's CPU backend, with float or double arrays whose rows or columns are unit-stride (c- or f-order, or
 * views of them with a larger leading dimension, such as one head's block of a fused QKV matrix), it calls OpenBLAS's
 * {@code cblas_?gemm} on the arrays' memory directly. {@code Nd4j.gemm} goes through libnd4j's {@code matmul} op,
 * whose per-call work and copies of strided views made the same products 5-30% slower at the shapes of a ViT-B
 * training step and more for the small per-head products of attention (docs/benchmarks.md). Everything else (other
 * backends, other types, other strides, empty products, {@code -Dhgkd.gemm.direct=false}) goes to {@code Nd4j.gemm}
 * (through a temporary when C is a view, which {@code Nd4j.gemm} refuses).
 *
 * <p>The direct path needs {@code org.bytedeco:openblas} on the classpath (the CPU backend's BLAS; hgkd's application
 * modules declare it); this module depends on it optionally.
 */
public final class Gemm {
    private static final Logger LOG = LoggerFactory.getLogger(Gemm.class);
    private static final boolean DIRECT = directAvailable();

    private Gemm() {
    }

    /** Whether products go to OpenBLAS directly in this process (see the class comment). */
    public static boolean direct() {
        return DIRECT;
    }

    /**
     * {@code c = alpha op(a) op(b) + beta c}, where {@code op(x)} is {@code x} or its transpose; returns {@code c}.
     *
     * @throws IllegalArgumentException when an array is not 2-D or the shapes do not chain
     */
    public static INDArray gemm(INDArray a, INDArray b, INDArray c, boolean transposeA, boolean transposeB,
            double alpha, double beta) {
        if (a.rank() != 2 || b.rank() != 2 || c.rank() != 2) {
            throw new IllegalArgumentException("gemm needs 2-D arrays, got A " + Tensors.shape(a) + ", B "
                    + Tensors.shape(b) + ", C " + Tensors.shape(c));
        }
        long m = transposeA ? a.size(1) : a.size(0);
        long k = transposeA ? a.size(0) : a.size(1);
        long kb = transposeB ? b.size(1) : b.size(0);
        long n = transposeB ? b.size(0) : b.size(1);
        if (k != kb || c.size(0) != m || c.size(1) != n) {
            throw new IllegalArgumentException("gemm shapes do not chain: op(A) " + m + "x" + k + " (A "
                    + Tensors.shape(a) + (transposeA ? "^T" : "") + "), op(B) " + kb + "x" + n + " (B "
                    + Tensors.shape(b) + (transposeB ? "^T" : "") + "), C " + Tensors.shape(c));
        }
        if (DIRECT && direct(a, b, c, transposeA, transposeB, m, n, k, alpha, beta)) {
            return c;
        }
        if (c.isView()) {
            // Nd4j.gemm refuses to write into a view
            INDArray tmp = beta == 0.0 ? Nd4j.create(c.dataType(), c.shape(), 'c') : c.dup('c');
            Nd4j.gemm(a, b, tmp, transposeA, transposeB, alpha, beta);
            c.assign(tmp);
        } else {
            Nd4j.gemm(a, b, c, transposeA, transposeB, alpha, beta);
        }
        return c;
    }

    /** A 2-D operand as row-major memory: its leading dimension, and whether it is stored transposed. */
    private record Operand(long ld, boolean transposed) {
    }

    /**
     * The row-major view of {@code x} (rows r, cols c): unit-stride rows give (ld = row stride, as is); unit-stride
     * columns give the transpose's rows (ld = column stride, transposed). Size-1 dimensions take any stride. Null
     * when neither holds.
     */
    private static Operand rowMajor(INDArray x) {
        long r = x.size(0);
        long c = x.size(1);
        long s0 = x.stride(0);
        long s1 = x.stride(1);
        if ((c == 1 || s1 == 1) && (r == 1 || s0 >= c)) {
            return new Operand(r == 1 ? Math.max(c, 1) : s0, false);
        }
        if ((r == 1 || s0 == 1) && (c == 1 || s1 >= r)) {
            return new Operand(c == 1 ? Math.max(r, 1) : s1, true);
        }
        return null;
    }

    private static boolean direct(INDArray a, INDArray b, INDArray c, boolean ta, boolean tb, long m, long n, long k,
            double alpha, double beta) {
        DataType type = c.dataType();
        if ((type != DataType.FLOAT && type != DataType.DOUBLE) || a.dataType() != type || b.dataType() != type
                || m == 0 || n == 0 || k == 0 || m > Integer.MAX_VALUE || n > Integer.MAX_VALUE
                || k > Integer.MAX_VALUE) {
            return false;
        }
        Operand oa = rowMajor(a);
        Operand ob = rowMajor(b);
        Operand oc = rowMajor(c);
        if (oa == null || ob == null || oc == null || oa.ld > Integer.MAX_VALUE || ob.ld > Integer.MAX_VALUE
                || oc.ld > Integer.MAX_VALUE) {
            return false;
        }
        boolean opA = ta ^ oa.transposed;
        boolean opB = tb ^ ob.transposed;
        if (!oc.transposed) {
            call(type, opA, opB, (int) m, (int) n, (int) k, alpha, a, oa.ld, b, ob.ld, beta, c, oc.ld);
        } else {
            // C stored column-major: compute C^T = op(B)^T op(A)^T into its rows
            call(type, !opB, !opA, (int) n, (int) m, (int) k, alpha, b, ob.ld, a, oa.ld, beta, c, oc.ld);
        }
        return true;
    }

    private static void call(DataType type, boolean ta, boolean tb, int m, int n, int k, double alpha, INDArray a,
            long lda, INDArray b, long ldb, double beta, INDArray c, long ldc) {
        int opA = ta ? openblas.CblasTrans : openblas.CblasNoTrans;
        int opB = tb ? openblas.CblasTrans : openblas.CblasNoTrans;
        if (type == DataType.FLOAT) {
            openblas.cblas_sgemm(openblas.CblasRowMajor, opA, opB, m, n, k, (float) alpha, floats(a), (int) lda,
                    floats(b), (int) ldb, (float) beta, floats(c), (int) ldc);
        } else {
            openblas.cblas_dgemm(openblas.CblasRowMajor, opA, opB, m, n, k, alpha, doubles(a), (int) lda, doubles(b),
                    (int) ldb, beta, doubles(c), (int) ldc);
        }
    }

    // A view's data() is a view buffer whose address is the view's first element (GemmTest covers views).
    private static FloatPointer floats(INDArray x) {
        Pointer p = x.data().addressPointer();
        return p instanceof FloatPointer f ? f : new FloatPointer(p);
    }

    private static DoublePointer doubles(INDArray x) {
        Pointer p = x.data().addressPointer();
        return p instanceof DoublePointer d ? d : new DoublePointer(p);
    }

    private static boolean directAvailable() {
        if (!Boolean.parseBoolean(System.getProperty("hgkd.gemm.direct", "true"))) {
            return false;
        }
        try {
            if (!Nd4j.getBackend().getClass().getName().equals("org.nd4j.linalg.cpu.nativecpu.CpuBackend")) {
                return false;
            }
            Class.forName("org.bytedeco.openblas.global.openblas");
            return true;
        } catch (Throwable e) {
            LOG.info("gemm: OpenBLAS is not reachable directly ({}); using Nd4j.gemm", e.toString());
            return false;
        }
    }
}
