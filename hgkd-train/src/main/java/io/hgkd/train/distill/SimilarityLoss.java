package io.hgkd.train.distill;

import io.hgkd.core.nn.Gemm;
import io.hgkd.core.nn.Tensors;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * L_sim, the similarity-distribution term (method.md §1.3 (f)), against an {@link EmbeddingQueue} Q (K x D):
 * <pre>
 *   z_s[b] = l2norm(mean_n S[b, :, n])           (l2norm clamps the norm at 1e-12, as F.normalize)
 *   a_s = Q z_s,  a_t = Q z_t                    (K cosine similarities each)
 *   optional: a = softmax(a / tau) over K        (tau &gt; 0)
 *   rho(u, v) = sum (u - mean u)(v - mean v) / (|u - mean u| |v - mean v| + 1e-8)
 *   L = mean_b [1 - rho(a_s[b], a_t[b])]
 * </pre>
 * The gradient flows to S only (z_t and Q are constants). The products with Q are two {@link Gemm#gemm} calls in
 * the queue's data type into reused arrays; the rest is double arithmetic on reused Java arrays, in parallel over the
 * samples. The loss does not update the queue: the step enqueues
 * z_t afterwards, so the current batch is never compared with itself (§5 q16). Not thread-safe.
 */
public final class SimilarityLoss {
    /** eps in the Pearson denominator (DIST's). */
    public static final double PEARSON_EPS = 1e-8;

    private final EmbeddingQueue queue;
    private final double temperature;
    // reused from call to call: host copies, the gemm operands and results, the backward output
    private double[] sHost;
    private double[] zHost;
    private double[] ztHost;
    private double[] aHost;
    private double[] gAHost;
    private double[] gZHost;
    private double[] gHost;
    private INDArray zArr;
    private INDArray aArr;
    private INDArray gAArr;
    private INDArray gZArr;
    private long[] gradShape;
    private DataType gradType;
    private INDArray gradOut;

    /**
     * @param queue       the queue the similarities are taken against (shared, not copied)
     * @param temperature 0 for no softmax, else the softmax temperature tau
     */
    public SimilarityLoss(EmbeddingQueue queue, double temperature) {
        if (queue == null) {
            throw new IllegalArgumentException("SimilarityLoss needs a queue");
        }
        if (!(temperature >= 0) || Double.isInfinite(temperature)) {
            throw new IllegalArgumentException("SimilarityLoss temperature must be 0 or positive, got " + temperature);
        }
        this.queue = queue;
        this.temperature = temperature;
    }

    public EmbeddingQueue queue() {
        return queue;
    }

    public double temperature() {
        return temperature;
    }

    /**
     * Computes the loss and caches its gradient.
     *
     * @param s  (B, D, G, G) student prediction
     * @param zt (B, D) teacher embeddings ({@link TeacherTargets#embedding()})
     * @return the scalar loss
     */
    public double forward(INDArray s, INDArray zt) {
        Tensors.requireRank(s, 4, "SimilarityLoss student features");
        Tensors.requireRank(zt, 2, "SimilarityLoss teacher embeddings");
        int b = (int) s.size(0), d = (int) s.size(1), n = (int) (s.size(2) * s.size(3));
        if (d != queue.dim() || zt.size(0) != b || zt.size(1) != d) {
            throw new IllegalArgumentException("SimilarityLoss: student features " + Tensors.shape(s)
                    + ", teacher embeddings " + Tensors.shape(zt) + " and queue (" + queue.size() + ", "
                    + queue.dim() + ") must agree on B and D");
        }
        int k = queue.size();
        double[] sv = sHost = Host.read(s, sHost);
        double[] zs = new double[b * d];
        double[] norms = new double[b];
        Host.parallel(b, bi -> {
            double ss = 0;
            for (int c = 0; c < d; c++) {
                double sum = 0;
                int base = (bi * d + c) * n;
                for (int i = 0; i < n; i++) {
                    sum += sv[base + i];
                }
                double u = sum / n;
                zs[bi * d + c] = u;
                ss += u * u;
            }
            norms[bi] = Math.max(Math.sqrt(ss), TeacherTargets.L2_EPS);
            for (int c = 0; c < d; c++) {
                zs[bi * d + c] /= norms[bi];
            }
        });
        // the projections of z_s and z_t: one gemm of the stacked (2B, D) rows with Q (read once), in the queue's
        // type into a reused array; then d loss / d z_s = gA Q, a second gemm
        INDArray q = queue.queue();
        DataType qt = q.dataType();
        double[] z2 = zHost = zHost != null && zHost.length == 2 * b * d ? zHost : new double[2 * b * d];
        System.arraycopy(zs, 0, z2, 0, b * d);
        ztHost = Host.read(zt, ztHost);
        System.arraycopy(ztHost, 0, z2, b * d, b * d);
        zArr = Host.write(z2, 1.0, zArr, new long[] {2L * b, d}, qt);
        aArr = reuse(aArr, qt, new long[] {2L * b, k});
        Gemm.gemm(zArr, q, aArr, false, true, 1.0, 0.0);
        double[] a = aHost = Host.read(aArr, aHost); // rows 0..B-1: a_s, rows B..2B-1: a_t
        double[] gA = gAHost = gAHost != null && gAHost.length == b * k ? gAHost : new double[b * k];
        double[] perSample = new double[b];
        Host.parallel(b, bi -> perSample[bi] = sample(bi, b, k, a, gA));
        double loss = 0;
        for (double l : perSample) {
            loss += l; // in sample order: the same sum on any thread count
        }
        gAArr = Host.write(gA, 1.0, gAArr, new long[] {b, k}, qt);
        gZArr = reuse(gZArr, qt, new long[] {b, d});
        Gemm.gemm(gAArr, q, gZArr, false, false, 1.0, 0.0);
        double[] gZ = gZHost = Host.read(gZArr, gZHost);
        double[] g = gHost = gHost != null && gHost.length == sv.length ? gHost : new double[sv.length];
        Host.parallel(b, bi -> {
            double dot = 0;
            for (int c = 0; c < d; c++) {
                dot += zs[bi * d + c] * gZ[bi * d + c];
            }
            // through l2norm (only while the norm is not clamped) and the mean over the n tokens
            boolean clamped = norms[bi] <= TeacherTargets.L2_EPS;
            for (int c = 0; c < d; c++) {
                double gu = clamped ? gZ[bi * d + c] / norms[bi]
                        : (gZ[bi * d + c] - zs[bi * d + c] * dot) / norms[bi];
                double gs = gu / n;
                int base = (bi * d + c) * n;
                for (int i = 0; i < n; i++) {
                    g[base + i] = gs;
                }
            }
        });
        gradShape = s.shape();
        gradType = s.dataType();
        return loss;
    }

    /**
     * Sample {@code bi}: its share of the loss, and d loss / d a_s into {@code gA}; {@code a} holds a_s in rows 0..B-1
     * and a_t in rows B..2B-1.
     */
    private double sample(int bi, int b, int k, double[] a, double[] gA) {
        int o = bi * k;
        int t = (b + bi) * k;
        if (temperature > 0) {
            softmax(a, o, k, temperature);
            softmax(a, t, k, temperature);
        }
        double mu = 0, mv = 0;
        for (int j = 0; j < k; j++) {
            mu += a[o + j];
            mv += a[t + j];
        }
        mu /= k;
        mv /= k;
        double num = 0, pu = 0, pv = 0;
        for (int j = 0; j < k; j++) {
            double u = a[o + j] - mu, v = a[t + j] - mv;
            num += u * v;
            pu += u * u;
            pv += v * v;
        }
        double p = Math.sqrt(pu), q = Math.sqrt(pv);
        double den = p * q + PEARSON_EPS;
        double rho = num / den;
        // d rho / d u' = v'/den - num q u' / (p den^2); then the centring: g - mean(g)
        double up = -1.0 / b;
        double coef = p > 0 ? num * q / (p * den * den) : 0;
        double gsum = 0;
        for (int j = 0; j < k; j++) {
            double u = a[o + j] - mu, v = a[t + j] - mv;
            double g = up * (v / den - coef * u);
            gA[o + j] = g;
            gsum += g;
        }
        double gmean = gsum / k;
        for (int j = 0; j < k; j++) {
            gA[o + j] -= gmean;
        }
        if (temperature > 0) {
            // softmax backward: p (g - p.g) / tau, with p = the softmax output kept in a
            double dot = 0;
            for (int j = 0; j < k; j++) {
                dot += a[o + j] * gA[o + j];
            }
            for (int j = 0; j < k; j++) {
                gA[o + j] = a[o + j] * (gA[o + j] - dot) / temperature;
            }
        }
        return (1 - rho) / b;
    }

    /**
     * Gradient of the last loss with respect to S (upstream 1), (B, D, G, G) of S's type, in a buffer the next call
     * of a backward method overwrites.
     */
    public INDArray backward() {
        return backward(1.0);
    }

    /** Gradient of {@code upstream * loss} with respect to S, in the buffer of {@link #backward()}. */
    public INDArray backward(double upstream) {
        if (gradShape == null) {
            throw new IllegalStateException("SimilarityLoss.backward called before forward");
        }
        gradOut = Host.write(gHost, upstream, gradOut, gradShape, gradType);
        return gradOut;
    }

    private static INDArray reuse(INDArray a, DataType type, long[] shape) {
        return a != null && a.dataType() == type && java.util.Arrays.equals(a.shape(), shape) ? a
                : Nd4j.createUninitialized(type, shape, 'c');
    }

    /** In place: softmax(x / tau) of {@code x[o, o + k)}, max-subtracted for stability. */
    private static void softmax(double[] x, int o, int k, double tau) {
        double max = Double.NEGATIVE_INFINITY;
        for (int j = 0; j < k; j++) {
            max = Math.max(max, x[o + j] / tau);
        }
        double sum = 0;
        for (int j = 0; j < k; j++) {
            double e = Math.exp(x[o + j] / tau - max);
            x[o + j] = e;
            sum += e;
        }
        for (int j = 0; j < k; j++) {
            x[o + j] /= sum;
        }
    }
}
