package io.hgkd.train.finetune;

import java.util.Arrays;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * Binary cross-entropy with logits on (B, K) soft targets, averaged over all B·K entries: timm's
 * {@code BinaryCrossEntropy} as SparK uses it with LAMB (targets already smoothed and mixed by {@link BatchMixup},
 * so no further smoothing, no threshold, no weights), i.e.
 * {@code F.binary_cross_entropy_with_logits(x, t, reduction='mean')}.
 *
 * <p>Per entry, {@code l = max(x, 0) - x t + log(1 + exp(-|x|))}, the overflow-free form of
 * {@code -t log σ(x) - (1 - t) log(1 - σ(x))}; the gradient is {@code (σ(x) - t) / (B K)}. Computed in the dtype of
 * the logits. Not thread-safe: one instance per concurrent caller.
 */
public final class BinaryCrossEntropyLoss {
    private INDArray logits;
    private INDArray targets;

    /**
     * The mean loss.
     *
     * @param logits  (B, K), float or double
     * @param targets (B, K) values in [0, 1], same shape
     * @return the mean over B·K of the element losses
     * @throws IllegalArgumentException on a rank or shape mismatch, or a target outside [0, 1]
     */
    public double forward(INDArray logits, INDArray targets) {
        if (logits.rank() != 2 || !Arrays.equals(logits.shape(), targets.shape())) {
            throw new IllegalArgumentException("BinaryCrossEntropyLoss needs (B, K) logits and targets of the same"
                    + " shape, got " + Arrays.toString(logits.shape()) + " and " + Arrays.toString(targets.shape()));
        }
        if (logits.length() == 0) {
            throw new IllegalArgumentException("BinaryCrossEntropyLoss got an empty batch");
        }
        double tMin = targets.minNumber().doubleValue();
        double tMax = targets.maxNumber().doubleValue();
        if (!(tMin >= 0 && tMax <= 1)) {
            throw new IllegalArgumentException("BinaryCrossEntropyLoss targets must lie in [0, 1], got range [" + tMin
                    + ", " + tMax + "]");
        }
        this.logits = logits;
        this.targets = targets.castTo(logits.dataType());
        INDArray x = logits;
        INDArray loss = Transforms.relu(x, true).subi(x.mul(this.targets))
                .addi(Transforms.log1p(Transforms.exp(Transforms.abs(x, true).negi(), false), false));
        return loss.sumNumber().doubleValue() / x.length();
    }

    /**
     * The gradient of the last {@link #forward} result with respect to the logits: {@code (σ(x) - t) / (B K)}.
     *
     * @throws IllegalStateException before any forward
     */
    public INDArray backward() {
        if (logits == null) {
            throw new IllegalStateException("BinaryCrossEntropyLoss.backward() called before forward()");
        }
        return Transforms.sigmoid(logits, true).subi(targets).divi(logits.length());
    }
}
