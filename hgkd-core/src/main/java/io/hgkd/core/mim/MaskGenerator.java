package io.hgkd.core.mim;

import io.hgkd.core.sparse.ActiveMask;
import java.util.SplittableRandom;

/**
 * SparK's random mask ({@code SparK.mask} in pretrain/spark.py): per sample, exactly
 * {@code len_keep = round(h * w * (1 - maskRatio))} cells of the h x w grid are active (visible), drawn uniformly
 * without replacement and independently per sample.
 *
 * <p>{@code round} is Python's (round half to even), as in SparK, so 7x7 at ratio 0.6 keeps 20 cells; MAE's
 * {@code int()} would differ. SparK draws them by argsort of uniform noise; this class uses a partial
 * Fisher-Yates shuffle, which has the same distribution (every keep-subset equally likely) but not the same
 * random stream, so masks are not bit-identical to PyTorch's.
 *
 * <p>The configuration (ratio, seed) is immutable. The generator owns a random stream seeded from {@code seed}:
 * successive {@link #next} calls give successive masks, and two generators with the same seed give the same
 * sequence. {@link #next} is synchronized, so one generator may be shared by threads (the sequence then depends on
 * call order).
 */
public final class MaskGenerator {
    /** SparK's default mask ratio. */
    public static final double DEFAULT_MASK_RATIO = 0.6;

    private final double maskRatio;
    private final long seed;
    private final SplittableRandom random;

    /**
     * @param maskRatio fraction of masked cells, in [0, 1)
     * @param seed      seed of the random stream
     */
    public MaskGenerator(double maskRatio, long seed) {
        if (!(maskRatio >= 0 && maskRatio < 1)) {
            throw new IllegalArgumentException("mask ratio must be in [0, 1), got " + maskRatio);
        }
        this.maskRatio = maskRatio;
        this.seed = seed;
        this.random = new SplittableRandom(seed);
    }

    /** The fraction of masked cells. */
    public double maskRatio() {
        return maskRatio;
    }

    /** The seed the random stream started from. */
    public long seed() {
        return seed;
    }

    /**
     * The number of active (visible) cells per sample on an h x w grid: {@code rint(h*w*(1-ratio))}, i.e. Python's
     * {@code round} (half to even), as SparK computes {@code len_keep}.
     *
     * @throws IllegalArgumentException if h or w is not positive, or the ratio leaves no visible cell
     */
    public int keepCount(int h, int w) {
        if (h <= 0 || w <= 0) {
            throw new IllegalArgumentException("mask grid must be positive, got " + h + "x" + w);
        }
        int n = h * w;
        int keep = (int) Math.rint(n * (1 - maskRatio));
        if (keep < 1) {
            throw new IllegalArgumentException("mask ratio " + maskRatio + " leaves no visible cell on a " + h + "x"
                    + w + " grid (round(" + n + " * " + (1 - maskRatio) + ") = 0)");
        }
        return keep;
    }

    /**
     * Draws the next mask.
     *
     * @param batch number of samples B (positive)
     * @param h     grid height (SparK: input size / 32)
     * @param w     grid width
     * @return a (B, 1, h, w) mask with exactly {@link #keepCount(int, int)} active cells per sample
     */
    public synchronized ActiveMask next(int batch, int h, int w) {
        if (batch <= 0) {
            throw new IllegalArgumentException("batch size must be positive, got " + batch);
        }
        int keep = keepCount(h, w);
        int n = h * w;
        int[] perm = new int[n];
        boolean[][] active = new boolean[batch][n];
        for (int b = 0; b < batch; b++) {
            for (int i = 0; i < n; i++) {
                perm[i] = i;
            }
            // partial Fisher-Yates: perm[0..keep) becomes a uniform random keep-subset
            for (int i = 0; i < keep; i++) {
                int j = i + random.nextInt(n - i);
                int t = perm[i];
                perm[i] = perm[j];
                perm[j] = t;
                active[b][perm[i]] = true;
            }
        }
        return ActiveMask.of(active, h, w);
    }

    @Override
    public String toString() {
        return "MaskGenerator(maskRatio=" + maskRatio + ", seed=" + seed + ")";
    }
}
