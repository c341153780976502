package io.hgkd.models.vit;

import io.hgkd.core.nn.RowKernels;
import io.hgkd.core.nn.RowKernels.Buf;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The attention core {@code softmax(q k^T * scale) v} and its backward as plain Java loops, one (sample, head) pair
 * per iteration, for short sequences. There a GEMM call per pair costs far more than its arithmetic (the
 * Fashion-MNIST MAE encoder has 5 tokens and 384 pairs per layer); one pass over all pairs costs only the arithmetic.
 *
 * <p>Layouts are those of {@link Attention}: {@code qkv} is {@code (B*N, 3D)} with q, k, v of head h in columns
 * {@code h*hd}, {@code D + h*hd}, {@code 2D + h*hd}; the context and its gradient are {@code (B*N, D)} with heads
 * concatenated; the probabilities are {@code (B*H, N, N)}. No transposed or per-head copies are made.
 *
 * <p>Each token's q, k, v (and gradient) row of a pair is its own {@code double[hd]} array: the axpy loops then index
 * every array from 0, which C2 vectorises (with row offsets into one flat array it does not, about 3x slower).
 */
final class AttentionKernel {
    /** Sequences up to this {@code N * N * hd} per pair run here; longer ones through GEMM. */
    static final long MAX_WORK = 40_000;

    private AttentionKernel() {
    }

    /**
     * @param probs receives the softmax probabilities (B*H, N, N)
     * @param ctx   receives the context (B*N, D)
     */
    static void forward(INDArray qkv, INDArray probs, INDArray ctx, int b, int n, int heads, int hd, double scale) {
        int d = heads * hd;
        Buf bq = new Buf(qkv);
        Buf bp = new Buf(probs);
        Buf bc = new Buf(ctx);
        int pairs = b * heads;
        RowKernels.parallelFor(pairs, (long) pairs * n * n * hd * 4, (p0, p1) -> {
            double[][] q = new double[n][hd];
            double[][] k = new double[n][hd];
            double[][] v = new double[n][hd];
            double[] s = new double[n];
            double[] o = new double[hd];
            float[] tmp = bq.tmp(Math.max(n, hd));
            for (int pair = p0; pair < p1; pair++) {
                int sample = pair / heads;
                int h = pair % heads;
                long row0 = (long) sample * n;
                for (int i = 0; i < n; i++) {
                    long idx = (row0 + i) * 3 * d + (long) h * hd;
                    bq.load(idx, q[i], 0, hd, tmp);
                    bq.load(idx + d, k[i], 0, hd, tmp);
                    bq.load(idx + 2L * d, v[i], 0, hd, tmp);
                }
                for (int i = 0; i < n; i++) {
                    double[] qi = q[i];
                    for (int j = 0; j < n; j++) {
                        s[j] = scale * RowKernels.dot(qi, k[j], hd);
                    }
                    RowKernels.softmaxInPlace(s, 0, n);
                    bp.store(((long) pair * n + i) * n, s, 0, n, tmp);
                    java.util.Arrays.fill(o, 0);
                    for (int j = 0; j < n; j++) {
                        RowKernels.axpy(s[j], v[j], o, hd);
                    }
                    bc.store((row0 + i) * d + (long) h * hd, o, 0, hd, tmp);
                }
            }
        });
    }

    /**
     * Backward of {@link #forward}: from the context gradient {@code gctx} (B*N, D) and the saved {@code qkv} and
     * {@code probs}, writes the gradient of {@code qkv} into {@code gqkv} (B*N, 3D).
     */
    static void backward(INDArray qkv, INDArray probs, INDArray gctx, INDArray gqkv, int b, int n, int heads, int hd,
                         double scale) {
        int d = heads * hd;
        Buf bq = new Buf(qkv);
        Buf bp = new Buf(probs);
        Buf bg = new Buf(gctx);
        Buf bo = new Buf(gqkv);
        int pairs = b * heads;
        RowKernels.parallelFor(pairs, (long) pairs * n * n * hd * 8, (p0, p1) -> {
            double[][] q = new double[n][hd];
            double[][] k = new double[n][hd];
            double[][] v = new double[n][hd];
            double[][] go = new double[n][hd];
            double[][] dq = new double[n][hd];
            double[][] dk = new double[n][hd];
            double[][] dv = new double[n][hd];
            double[] p = new double[n];
            double[] ds = new double[n];
            float[] tmp = bq.tmp(Math.max(n, hd));
            for (int pair = p0; pair < p1; pair++) {
                int sample = pair / heads;
                int h = pair % heads;
                long row0 = (long) sample * n;
                for (int i = 0; i < n; i++) {
                    long idx = (row0 + i) * 3 * d + (long) h * hd;
                    bq.load(idx, q[i], 0, hd, tmp);
                    bq.load(idx + d, k[i], 0, hd, tmp);
                    bq.load(idx + 2L * d, v[i], 0, hd, tmp);
                    bg.load((row0 + i) * d + (long) h * hd, go[i], 0, hd, tmp);
                    java.util.Arrays.fill(dq[i], 0);
                    java.util.Arrays.fill(dk[i], 0);
                    java.util.Arrays.fill(dv[i], 0);
                }
                for (int i = 0; i < n; i++) {
                    // dP_ij = dO_i . V_j ; dS_ij = P_ij (dP_ij - sum_k dP_ik P_ik) ; dV_j += P_ij dO_i
                    bp.load(((long) pair * n + i) * n, p, 0, n, tmp);
                    double[] goi = go[i];
                    double rowDot = 0;
                    for (int j = 0; j < n; j++) {
                        double dp = RowKernels.dot(goi, v[j], hd);
                        ds[j] = dp;
                        rowDot += dp * p[j];
                        RowKernels.axpy(p[j], goi, dv[j], hd);
                    }
                    double[] qi = q[i];
                    double[] dqi = dq[i];
                    for (int j = 0; j < n; j++) {
                        double g = scale * p[j] * (ds[j] - rowDot);
                        RowKernels.axpy(g, k[j], dqi, hd);   // dQ_i += scale dS_ij K_j
                        RowKernels.axpy(g, qi, dk[j], hd);   // dK_j += scale dS_ij Q_i
                    }
                }
                for (int i = 0; i < n; i++) {
                    long idx = (row0 + i) * 3 * d + (long) h * hd;
                    bo.store(idx, dq[i], 0, hd, tmp);
                    bo.store(idx + d, dk[i], 0, hd, tmp);
                    bo.store(idx + 2L * d, dv[i], 0, hd, tmp);
                }
            }
        });
    }
}
