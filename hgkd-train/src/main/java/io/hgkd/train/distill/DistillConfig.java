package io.hgkd.train.distill;

/**
 * The H-GKD loss configuration. Every default is labelled with its source as in {@code docs/method.md} §0:
 * [PAPER] the H-GKD text, [SUMMARY] secondary summaries, [SPARK] SparK's code, [INFERRED] chosen here (method.md §5).
 *
 * <ul>
 *   <li>{@code teacherBlock}: -1 (default, [INFERRED], §5 q2) takes the teacher's final tokens after its final norm;
 *       {@code i >= 0} takes the output of block {@code i} (before any norm).</li>
 *   <li>{@code normalizeTargets}: true ([INFERRED], §5 q3): per-token LayerNorm without affine over D_t, biased
 *       variance, eps {@code targetEps} = 1e-6 (the feature analogue of SparK's per-patch normalisation).</li>
 *   <li>{@code featureLoss}: {@link FeatureLossKind#MSE} ([INFERRED] following [SPARK], §5 q6).</li>
 *   <li>{@code positions}: {@link Positions#MASKED} ([INFERRED] following [SPARK], §5 q5).</li>
 *   <li>{@code featWeight} 1, {@code simWeight} 1 ([SUMMARY] "argmin(L_sim + L_feat)", §5 q8); {@code pixWeight} 0
 *       ([INFERRED], §5 q9: SparK's pixel loss is off; {@code featWeight = simWeight = 0, pixWeight = 1} is plain
 *       SparK).</li>
 *   <li>{@code simEnabled}: true ([SUMMARY] names L_sim). {@code queueSize}: 65536 ([INFERRED], MoCo's size at
 *       ImageNet scale, §5 q7; use at least 8 batches for small runs). {@code queueSeed}: seed of the queue's random
 *       unit-vector initialisation ([INFERRED] MoCo convention, §5 q16).</li>
 *   <li>{@code simTemperature}: 0 = no softmax (default, [INFERRED] §5 q7); {@code tau > 0} applies
 *       {@code softmax(a / tau)} over the queue to both similarity vectors before the Pearson correlation.</li>
 * </ul>
 *
 * @param teacherBlock     -1 for the final norm output, else a block index
 * @param normalizeTargets per-token LN (no affine) on the feature targets
 * @param targetEps        eps of that LN
 * @param featureLoss      per-token form of L_feat
 * @param positions        tokens L_feat averages over
 * @param featWeight       weight of L_feat
 * @param simWeight        weight of L_sim
 * @param pixWeight        weight of SparK's pixel loss L_pix
 * @param simEnabled       whether L_sim is computed at all (and the queue updated)
 * @param queueSize        K, rows of the teacher-embedding queue
 * @param queueSeed        seed of the queue initialisation
 * @param simTemperature   softmax temperature for L_sim; 0 disables the softmax
 */
public record DistillConfig(int teacherBlock, boolean normalizeTargets, double targetEps, FeatureLossKind featureLoss,
                            Positions positions, double featWeight, double simWeight, double pixWeight,
                            boolean simEnabled, int queueSize, long queueSeed, double simTemperature) {

    /** Per-token form of the feature-imitation loss. */
    public enum FeatureLossKind {
        /** {@code mean_c (S - T)^2}. */
        MSE,
        /** {@code mean_c smoothL1(S - T)} with beta 1 (PyTorch's default). */
        SMOOTH_L1,
        /** {@code 1 - cos(S_n, T_n)} over the channel vector of each token. */
        COSINE
    }

    /** Which tokens the feature loss averages over. */
    public enum Positions {
        /** Masked tokens only (1 in {@link io.hgkd.core.mim.TokenMask#masked}), normalised by their count. */
        MASKED,
        /** Every token, plain mean. */
        ALL
    }

    /** Default queue size K [INFERRED]. */
    public static final int DEFAULT_QUEUE_SIZE = 65536;
    /** Default target-normalisation eps (timm/MAE LayerNorm eps). */
    public static final double DEFAULT_TARGET_EPS = 1e-6;

    /** Validates every field; errors name the field and the value. */
    public DistillConfig {
        if (teacherBlock < -1) {
            throw new IllegalArgumentException("teacherBlock must be -1 (final norm) or a block index >= 0, got "
                    + teacherBlock);
        }
        if (!(targetEps > 0) || Double.isInfinite(targetEps)) {
            throw new IllegalArgumentException("targetEps must be positive and finite, got " + targetEps);
        }
        if (featureLoss == null || positions == null) {
            throw new IllegalArgumentException("featureLoss and positions must not be null");
        }
        requireWeight("featWeight", featWeight);
        requireWeight("simWeight", simWeight);
        requireWeight("pixWeight", pixWeight);
        if (featWeight == 0 && (simWeight == 0 || !simEnabled) && pixWeight == 0) {
            throw new IllegalArgumentException("all loss weights are zero: nothing to train");
        }
        if (queueSize < 2) {
            throw new IllegalArgumentException("queueSize must be >= 2 (Pearson over the queue), got " + queueSize);
        }
        if (!(simTemperature >= 0) || Double.isInfinite(simTemperature)) {
            throw new IllegalArgumentException("simTemperature must be 0 (no softmax) or positive, got "
                    + simTemperature);
        }
    }

    private static void requireWeight(String name, double w) {
        if (!(w >= 0) || Double.isInfinite(w)) {
            throw new IllegalArgumentException(name + " must be non-negative and finite, got " + w);
        }
    }

    /** The H-GKD defaults listed in the class comment. */
    public static DistillConfig defaults() {
        return new DistillConfig(-1, true, DEFAULT_TARGET_EPS, FeatureLossKind.MSE, Positions.MASKED, 1, 1, 0, true,
                DEFAULT_QUEUE_SIZE, 0L, 0);
    }

    /** Plain SparK pretraining: only the pixel loss (no teacher term, no queue). */
    public static DistillConfig sparkOnly() {
        return new DistillConfig(-1, true, DEFAULT_TARGET_EPS, FeatureLossKind.MSE, Positions.MASKED, 0, 0, 1, false,
                DEFAULT_QUEUE_SIZE, 0L, 0);
    }

    /** True when L_sim takes part in the loss. */
    public boolean usesSim() {
        return simEnabled && simWeight > 0;
    }

    /** True when the teacher is needed (L_feat or L_sim on). */
    public boolean usesTeacher() {
        return featWeight > 0 || usesSim();
    }

    public DistillConfig withTeacherBlock(int v) {
        return new DistillConfig(v, normalizeTargets, targetEps, featureLoss, positions, featWeight, simWeight,
                pixWeight, simEnabled, queueSize, queueSeed, simTemperature);
    }

    public DistillConfig withNormalizeTargets(boolean v) {
        return new DistillConfig(teacherBlock, v, targetEps, featureLoss, positions, featWeight, simWeight,
                pixWeight, simEnabled, queueSize, queueSeed, simTemperature);
    }

    public DistillConfig withFeatureLoss(FeatureLossKind v) {
        return new DistillConfig(teacherBlock, normalizeTargets, targetEps, v, positions, featWeight, simWeight,
                pixWeight, simEnabled, queueSize, queueSeed, simTemperature);
    }

    public DistillConfig withPositions(Positions v) {
        return new DistillConfig(teacherBlock, normalizeTargets, targetEps, featureLoss, v, featWeight, simWeight,
                pixWeight, simEnabled, queueSize, queueSeed, simTemperature);
    }

    public DistillConfig withWeights(double feat, double sim, double pix) {
        return new DistillConfig(teacherBlock, normalizeTargets, targetEps, featureLoss, positions, feat, sim, pix,
                simEnabled, queueSize, queueSeed, simTemperature);
    }

    public DistillConfig withSimEnabled(boolean v) {
        return new DistillConfig(teacherBlock, normalizeTargets, targetEps, featureLoss, positions, featWeight,
                simWeight, pixWeight, v, queueSize, queueSeed, simTemperature);
    }

    public DistillConfig withQueue(int size, long seed) {
        return new DistillConfig(teacherBlock, normalizeTargets, targetEps, featureLoss, positions, featWeight,
                simWeight, pixWeight, simEnabled, size, seed, simTemperature);
    }

    public DistillConfig withSimTemperature(double v) {
        return new DistillConfig(teacherBlock, normalizeTargets, targetEps, featureLoss, positions, featWeight,
                simWeight, pixWeight, simEnabled, queueSize, queueSeed, v);
    }
}
