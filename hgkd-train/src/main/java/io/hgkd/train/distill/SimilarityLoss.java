package io.hgkd.train.distill;

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
 * The gradient flows to S only (z_t and Q are constants). The projections use ND4J matrix products in the queue's
 * data type; the rest is double arithmetic on Java arrays. The loss does not update the queue: the step enqueues
 * z_t afterwards, so the current batch is never compared with itself (§5 q16). Not thread-safe.
 */
public final class SimilarityLoss {
    /** eps in the Pearson denominator (DIST's). */
    public static final double PEARSON_EPS = 1e-8;

    private final EmbeddingQueue queue;
    private final double temperature;
    private HostGradient grad;

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
        double[] sv = FeatureLoss.toDoubles(s);
        double[] zs = new double[b * d];
        double[] norms = new double[b];
        for (int bi = 0; bi < b; bi++) {
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
        }
        DataType qt = queue.queue().dataType();
        INDArray qT = queue.queue().transpose();
        double[] as = FeatureLoss.toDoubles(Nd4j.create(zs, new long[] {b, d}, DataType.DOUBLE).castTo(qt).mmul(qT));
        double[] at = FeatureLoss.toDoubles(zt.castTo(qt).mmul(qT));
        if (temperature > 0) {
            softmaxRows(as, b, k, temperature);
            softmaxRows(at, b, k, temperature);
        }
        double[] gA = new double[b * k];
        double loss = 0;
        for (int bi = 0; bi < b; bi++) {
            int o = bi * k;
            double mu = 0, mv = 0;
            for (int j = 0; j < k; j++) {
                mu += as[o + j];
                mv += at[o + j];
            }
            mu /= k;
            mv /= k;
            double num = 0, pu = 0, pv = 0;
            for (int j = 0; j < k; j++) {
                double u = as[o + j] - mu, v = at[o + j] - mv;
                num += u * v;
                pu += u * u;
                pv += v * v;
            }
            double p = Math.sqrt(pu), q = Math.sqrt(pv);
            double den = p * q + PEARSON_EPS;
            double rho = num / den;
            loss += (1 - rho) / b;
            // d rho / d u' = v'/den - num q u' / (p den^2); then the centring: g - mean(g)
            double up = -1.0 / b;
            double coef = p > 0 ? num * q / (p * den * den) : 0;
            double gsum = 0;
            for (int j = 0; j < k; j++) {
                double u = as[o + j] - mu, v = at[o + j] - mv;
                double g = up * (v / den - coef * u);
                gA[o + j] = g;
                gsum += g;
            }
            double gmean = gsum / k;
            for (int j = 0; j < k; j++) {
                gA[o + j] -= gmean;
            }
            if (temperature > 0) {
                // softmax backward: p (g - p.g) / tau, with p = the softmax output kept in as
                double dot = 0;
                for (int j = 0; j < k; j++) {
                    dot += as[o + j] * gA[o + j];
                }
                for (int j = 0; j < k; j++) {
                    gA[o + j] = as[o + j] * (gA[o + j] - dot) / temperature;
                }
            }
        }
        double[] gZ = FeatureLoss.toDoubles(Nd4j.create(gA, new long[] {b, k}, DataType.DOUBLE).castTo(qt)
                .mmul(queue.queue()));
        double[] g = new double[sv.length];
        for (int bi = 0; bi < b; bi++) {
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
        }
        grad = new HostGradient(g, s);
        return loss;
    }

    /** Gradient of the last loss with respect to S (upstream 1): a new (B, D, G, G) array of S's type. */
    public INDArray backward() {
        return backward(1.0);
    }

    /** Gradient of {@code upstream * loss} with respect to S. */
    public INDArray backward(double upstream) {
        if (grad == null) {
            throw new IllegalStateException("SimilarityLoss.backward called before forward");
        }
        return grad.scaled(upstream);
    }

    /** In place, row by row: softmax(x / tau), max-subtracted for stability. */
    private static void softmaxRows(double[] x, int rows, int k, double tau) {
        for (int r = 0; r < rows; r++) {
            int o = r * k;
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
}
