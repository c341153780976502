package io.hgkd.train.distill;

import io.hgkd.core.nn.Tensors;
import io.hgkd.train.distill.DistillConfig.FeatureLossKind;
import io.hgkd.train.distill.DistillConfig.Positions;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * L_feat, feature imitation (method.md §1.3 (e)): the student's head output S (B, D, G, G) against the teacher
 * targets T (B, N, D), N = G*G, token n = r*G + c.
 * <pre>
 *   MSE:       l[b,n] = mean_c (S[b,c,n] - T[b,n,c])^2
 *   SMOOTH_L1: l[b,n] = mean_c huber1(S - T), huber1(x) = 0.5 x^2 if |x| &lt; 1 else |x| - 0.5   (beta 1)
 *   COSINE:    l[b,n] = 1 - S_n.T_n / max(|S_n| |T_n|, 1e-8)
 *   MASKED:    L = sum(l * m) / (sum(m) + 1e-8), m = 1 on masked tokens (whole batch, as SparK)
 *   ALL:       L = mean(l)
 * </pre>
 * Arithmetic is in double on reused Java arrays (the tensors are at most a few million values), in parallel over
 * the samples; the gradient comes back in S's data type. Not thread-safe: {@link #backward} uses what the last
 * {@link #forward} cached.
 */
public final class FeatureLoss {
    /** Denominator eps of the masked average (SparK's). */
    public static final double MASK_EPS = 1e-8;
    /** Lower bound of |S_n| |T_n| in the cosine (as {@code F.cosine_similarity}'s eps). */
    public static final double COS_EPS = 1e-8;

    private final FeatureLossKind kind;
    private final Positions positions;
    // reused from call to call: the host copies of the inputs, the gradient, and the backward output
    private double[] weights;
    private double[] sHost;
    private double[] tHost;
    private double[] gHost;
    private long[] gradShape;
    private DataType gradType;
    private INDArray gradOut;

    /** A loss of the given per-token form and positions. */
    public FeatureLoss(FeatureLossKind kind, Positions positions) {
        if (kind == null || positions == null) {
            throw new IllegalArgumentException("FeatureLoss needs a kind and positions");
        }
        this.kind = kind;
        this.positions = positions;
    }

    public FeatureLossKind kind() {
        return kind;
    }

    public Positions positions() {
        return positions;
    }

    /**
     * Computes the loss and caches its gradient.
     *
     * @param s      (B, D, G, G) student prediction
     * @param target (B, G*G, D) teacher targets ({@link TeacherTargets#tokens()})
     * @param masked (B, G*G), 1 = masked ({@link io.hgkd.core.mim.TokenMask#masked}); ignored (may be null) for ALL
     * @return the scalar loss
     */
    public double forward(INDArray s, INDArray target, INDArray masked) {
        Tensors.requireRank(s, 4, "FeatureLoss student features");
        Tensors.requireRank(target, 3, "FeatureLoss targets");
        int b = (int) s.size(0), d = (int) s.size(1), n = (int) (s.size(2) * s.size(3));
        if (target.size(0) != b || target.size(1) != n || target.size(2) != d) {
            throw new IllegalArgumentException("FeatureLoss targets " + Tensors.shape(target) + " do not match student"
                    + " features " + Tensors.shape(s) + " (expected (" + b + ", " + n + ", " + d + "))");
        }
        double[] w = weights = weights != null && weights.length == b * n ? weights : new double[b * n];
        if (positions == Positions.MASKED) {
            if (masked == null || masked.length() != (long) b * n || masked.size(0) != b) {
                throw new IllegalArgumentException("FeatureLoss masked map must be (" + b + ", " + n + "), got "
                        + (masked == null ? "null" : Tensors.shape(masked)));
            }
            double[] m = Host.read(masked, w);
            double sum = 0;
            for (double v : m) {
                sum += v;
            }
            double denom = sum + MASK_EPS;
            for (int i = 0; i < w.length; i++) {
                w[i] = m[i] / denom;
            }
        } else {
            java.util.Arrays.fill(w, 1.0 / w.length);
        }
        double[] sv = sHost = Host.read(s, sHost);
        double[] tv = tHost = Host.read(target, tHost);
        double[] g = gHost = gHost != null && gHost.length == sv.length ? gHost : new double[sv.length];
        double[] perSample = new double[b];
        Host.parallel(b, bi -> perSample[bi] = sample(bi, n, d, w, sv, tv, g));
        double loss = 0;
        for (double l : perSample) {
            loss += l; // in sample order: the same sum on any thread count
        }
        gradShape = s.shape();
        gradType = s.dataType();
        return loss;
    }

    /** Sample {@code bi}'s weighted loss; writes its gradient into {@code g}. */
    private double sample(int bi, int n, int d, double[] w, double[] sv, double[] tv, double[] g) {
        double loss = 0;
        for (int ni = 0; ni < n; ni++) {
            double wt = w[bi * n + ni];
            int tBase = (bi * n + ni) * d;
            int sBase = bi * d * n + ni; // S[b, c, n] at sBase + c * n
            switch (kind) {
                case MSE -> {
                    double l = 0;
                    for (int c = 0; c < d; c++) {
                        double diff = sv[sBase + c * n] - tv[tBase + c];
                        l += diff * diff;
                        g[sBase + c * n] = 2 * diff / d * wt;
                    }
                    loss += wt * l / d;
                }
                case SMOOTH_L1 -> {
                    double l = 0;
                    for (int c = 0; c < d; c++) {
                        double diff = sv[sBase + c * n] - tv[tBase + c];
                        double a = Math.abs(diff);
                        l += a < 1 ? 0.5 * diff * diff : a - 0.5;
                        g[sBase + c * n] = (a < 1 ? diff : Math.signum(diff)) / d * wt;
                    }
                    loss += wt * l / d;
                }
                case COSINE -> {
                    double dot = 0, ss = 0, tt = 0;
                    for (int c = 0; c < d; c++) {
                        double x = sv[sBase + c * n], y = tv[tBase + c];
                        dot += x * y;
                        ss += x * x;
                        tt += y * y;
                    }
                    double ns = Math.sqrt(ss), nt = Math.sqrt(tt);
                    double den = ns * nt;
                    boolean clamped = den < COS_EPS;
                    double cos = dot / (clamped ? COS_EPS : den);
                    loss += wt * (1 - cos);
                    for (int c = 0; c < d; c++) {
                        double x = sv[sBase + c * n], y = tv[tBase + c];
                        // d cos / d x: y / den - cos x / |x|^2 (the second term vanishes when clamped)
                        double dc = clamped ? y / COS_EPS : y / den - cos * x / ss;
                        g[sBase + c * n] = -dc * wt;
                    }
                }
                default -> throw new IllegalStateException("unknown kind " + kind);
            }
        }
        return loss;
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
            throw new IllegalStateException("FeatureLoss.backward called before forward");
        }
        gradOut = Host.write(gHost, upstream, gradOut, gradShape, gradType);
        return gradOut;
    }
}
