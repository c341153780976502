package io.hgkd.train.distill;

import io.hgkd.core.sparse.ActiveMask;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The combined H-GKD objective (method.md §1.3 (g)):
 * {@code total = featWeight * L_feat + simWeight * L_sim + pixWeight * L_pix}, with the gradients for the student's
 * two outputs. Terms with weight 0 (or L_sim when disabled) are skipped entirely. Owns the {@link EmbeddingQueue}
 * (when L_sim is on), whose state belongs in checkpoints. Not thread-safe.
 */
public final class DistillLoss {
    private final DistillConfig config;
    private final FeatureLoss feature;
    private final SimilarityLoss similarity;
    private final PixelLoss pixel = new PixelLoss();

    /**
     * The gradients of one {@link #compute} call.
     *
     * @param terms        the loss values
     * @param gradPixels   d total / d pixels, or null when L_pix is off
     * @param gradFeatures d total / d features, or null when neither L_feat nor L_sim is on
     */
    public record Result(LossTerms terms, INDArray gradPixels, INDArray gradFeatures) {
    }

    /**
     * A loss with a fresh FLOAT queue of {@link DistillConfig#queueSize()} random unit vectors (seed
     * {@link DistillConfig#queueSeed()}) when L_sim is on.
     *
     * @param teacherDim D_t, the width of the teacher's tokens
     */
    public DistillLoss(DistillConfig config, int teacherDim) {
        this(config, config.usesSim() ? new EmbeddingQueue(config.queueSize(), teacherDim, config.queueSeed())
                : null);
    }

    /** A loss using the given queue (null only when L_sim is off); e.g. one restored from a checkpoint. */
    public DistillLoss(DistillConfig config, EmbeddingQueue queue) {
        if (config == null) {
            throw new IllegalArgumentException("DistillLoss needs a config");
        }
        if (config.usesSim() && queue == null) {
            throw new IllegalArgumentException("DistillLoss: L_sim is on but no queue was given");
        }
        this.config = config;
        this.feature = new FeatureLoss(config.featureLoss(), config.positions());
        this.similarity = config.usesSim() ? new SimilarityLoss(queue, config.simTemperature()) : null;
    }

    public DistillConfig config() {
        return config;
    }

    /** The teacher-embedding queue, or null when L_sim is off. */
    public EmbeddingQueue queue() {
        return similarity == null ? null : similarity.queue();
    }

    /**
     * Evaluates every active term and its gradient.
     *
     * @param pixels       (B, C, H, W) student reconstruction; needed only when pixWeight &gt; 0
     * @param features     (B, D, G, G) student feature-head output; needed when L_feat or L_sim is on
     * @param targets      teacher targets; needed when L_feat or L_sim is on
     * @param maskedTokens (B, G*G) 1 = masked ({@link io.hgkd.core.mim.TokenMask#masked}); needed for MASKED L_feat
     * @param image        (B, C, H, W) the unmasked input; needed only when pixWeight &gt; 0
     * @param mask         the SparK mask (1 = visible); needed only when pixWeight &gt; 0
     */
    public Result compute(INDArray pixels, INDArray features, TeacherTargets targets, INDArray maskedTokens,
                          INDArray image, ActiveMask mask) {
        double feat = 0, sim = 0, pix = 0;
        INDArray gFeat = null, gPix = null;
        if (config.usesTeacher() && (features == null || targets == null)) {
            throw new IllegalArgumentException("L_feat/L_sim need the student's features and the teacher targets");
        }
        if (config.featWeight() > 0) {
            feat = feature.forward(features, targets.tokens(), maskedTokens);
            gFeat = feature.backward(config.featWeight());
        }
        if (similarity != null) {
            sim = similarity.forward(features, targets.embedding());
            INDArray g = similarity.backward(config.simWeight());
            gFeat = gFeat == null ? g : gFeat.addi(g);
        }
        if (config.pixWeight() > 0) {
            if (pixels == null || image == null || mask == null) {
                throw new IllegalArgumentException("L_pix needs the reconstruction, the image and the mask");
            }
            pix = pixel.forward(pixels, image, mask);
            gPix = pixel.backward(config.pixWeight());
        }
        double total = config.featWeight() * feat + (similarity != null ? config.simWeight() * sim : 0)
                + config.pixWeight() * pix;
        return new Result(new LossTerms(feat, sim, pix, total), gPix, gFeat);
    }
}
