package io.hgkd.core.loss;

import io.hgkd.core.nn.Tensors;
import java.util.Arrays;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * Cross-entropy on logits, mean over the batch, as {@code F.cross_entropy(logits, target, label_smoothing=eps)}.
 *
 * <ul>
 *   <li>Class indices ({@link #forward(INDArray, int[])}, {@link #forward(INDArray, INDArray)}): the target
 *       distribution is {@code (1 - eps) * onehot + eps / K}, PyTorch's label smoothing.</li>
 *   <li>Soft targets ({@link #forwardSoft(INDArray, INDArray)}): rows of probabilities (e.g. mixup/cutmix);
 *       label smoothing, when set, is applied to them in the same way, as PyTorch does for probability targets.</li>
 * </ul>
 * {@code loss = -1/B sum_b sum_k t[b,k] log_softmax(logits)[b,k]}, with a max-shifted (stable) log-softmax.
 * {@link #backward()} returns {@code (softmax - t) / B}. Not thread-safe: use one instance per concurrent caller.
 */
public final class CrossEntropy {
    /** Tolerance on the row sums of soft targets (they are usually float32). */
    private static final double ROW_SUM_TOL = 1e-3;

    private final double labelSmoothing;

    private INDArray softmax;
    private INDArray targets;
    private INDArray targetSums;

    /** Plain cross-entropy (no label smoothing). */
    public CrossEntropy() {
        this(0.0);
    }

    /**
     * @param labelSmoothing PyTorch's {@code label_smoothing}, in [0, 1]
     */
    public CrossEntropy(double labelSmoothing) {
        if (!(labelSmoothing >= 0 && labelSmoothing <= 1)) {
            throw new IllegalArgumentException("CrossEntropy label smoothing must be in [0, 1], got " + labelSmoothing);
        }
        this.labelSmoothing = labelSmoothing;
    }

    /** The label-smoothing factor eps. */
    public double labelSmoothing() {
        return labelSmoothing;
    }

    /**
     * Loss for integer class labels.
     *
     * @param logits (B, K)
     * @param labels B class indices in [0, K)
     * @return the mean loss over the batch
     */
    public double forward(INDArray logits, int[] labels) {
        long[] l = new long[labels.length];
        for (int i = 0; i < labels.length; i++) {
            l[i] = labels[i];
        }
        return forwardLabels(logits, l);
    }

    /**
     * Loss for integer class labels given as an array (any numeric type, e.g. PyTorch's int64).
     *
     * @param logits (B, K)
     * @param labels rank-1 (B) array of integral class indices in [0, K); for (B, K) probabilities use
     *               {@link #forwardSoft(INDArray, INDArray)}
     * @return the mean loss over the batch
     */
    public double forward(INDArray logits, INDArray labels) {
        if (labels.rank() != 1) {
            throw new IllegalArgumentException("CrossEntropy labels must be a rank-1 array of B class indices, got"
                    + " shape " + Tensors.shape(labels) + " (use forwardSoft for (B, K) soft targets)");
        }
        long[] l = new long[(int) labels.length()];
        for (int i = 0; i < l.length; i++) {
            double v = labels.getDouble(i);
            if (v != Math.rint(v)) {
                throw new IllegalArgumentException("CrossEntropy label " + i + " is not an integer: " + v);
            }
            l[i] = (long) v;
        }
        return forwardLabels(logits, l);
    }

    private double forwardLabels(INDArray logits, long[] labels) {
        requireLogits(logits);
        long b = logits.size(0), k = logits.size(1);
        if (labels.length != b) {
            throw new IllegalArgumentException("CrossEntropy got " + labels.length + " labels for a batch of " + b
                    + " logits (shape " + Tensors.shape(logits) + ")");
        }
        // dense smoothed targets: (1 - eps) * onehot + eps / K
        INDArray t = Nd4j.valueArrayOf(new long[] {b, k}, labelSmoothing / k, logits.dataType());
        for (int i = 0; i < b; i++) {
            if (labels[i] < 0 || labels[i] >= k) {
                throw new IllegalArgumentException("CrossEntropy label " + labels[i] + " at index " + i
                        + " is out of range [0, " + k + ")");
            }
            t.putScalar(i, labels[i], 1.0 - labelSmoothing + labelSmoothing / k);
        }
        return compute(logits, t, false);
    }

    /**
     * Loss for soft targets.
     *
     * @param logits  (B, K)
     * @param targets (B, K) non-negative rows summing to 1 (within 1e-3); cast to the type of {@code logits}
     * @return the mean loss over the batch
     */
    public double forwardSoft(INDArray logits, INDArray targets) {
        requireLogits(logits);
        if (!Arrays.equals(logits.shape(), targets.shape())) {
            throw new IllegalArgumentException("CrossEntropy soft targets shape " + Tensors.shape(targets)
                    + " does not match logits shape " + Tensors.shape(logits));
        }
        INDArray t = Tensors.contiguous(targets.castTo(logits.dataType())).dup('c');
        double min = t.minNumber().doubleValue();
        if (min < 0 || Double.isNaN(min)) {
            throw new IllegalArgumentException("CrossEntropy soft targets must be non-negative, found " + min);
        }
        INDArray sums = t.sum(1);
        for (int i = 0; i < sums.length(); i++) {
            double s = sums.getDouble(i);
            if (!(Math.abs(s - 1) <= ROW_SUM_TOL)) {
                throw new IllegalArgumentException("CrossEntropy soft target row " + i + " sums to " + s
                        + ", expected 1");
            }
        }
        if (labelSmoothing > 0) {
            t.muli(1 - labelSmoothing).addi(labelSmoothing / logits.size(1));
        }
        return compute(logits, t, true);
    }

    private static void requireLogits(INDArray logits) {
        if (logits.rank() != 2 || logits.size(0) == 0 || logits.size(1) == 0) {
            throw new IllegalArgumentException("CrossEntropy logits must be a non-empty (B, K) array, got shape "
                    + Tensors.shape(logits));
        }
        if (!logits.dataType().isFPType()) {
            throw new IllegalArgumentException("CrossEntropy logits must be floating point, got "
                    + logits.dataType());
        }
    }

    private double compute(INDArray logits, INDArray t, boolean soft) {
        INDArray x = Tensors.contiguous(logits);
        // log_softmax = (x - max) - log(sum(exp(x - max))): no overflow, and the largest term is exp(0) = 1
        INDArray shifted = x.subColumnVector(x.max(1).reshape(-1, 1));
        INDArray lse = Transforms.log(Transforms.exp(shifted, true).sum(1), false).reshape(-1, 1);
        INDArray logp = shifted.subiColumnVector(lse);
        long b = x.size(0);
        double loss = -logp.mul(t).sumNumber().doubleValue() / b;
        softmax = Transforms.exp(logp, true);
        targets = t;
        // d/dx of -sum_k t_k log p_k is p * sum_k t_k - t; sum_k t_k = 1 by construction for labels, so it is kept for soft
        // targets only, where float rounding can leave it slightly off 1
        targetSums = soft ? t.sum(1).reshape(-1, 1) : null;
        return loss;
    }

    /** Gradient of the last loss with respect to the logits (upstream gradient 1): {@code (softmax - t) / B}. */
    public INDArray backward() {
        return backward(1.0);
    }

    /**
     * Gradient of {@code upstream * loss} with respect to the logits.
     *
     * @return a new (B, K) array of the type of the last logits
     */
    public INDArray backward(double upstream) {
        if (softmax == null) {
            throw new IllegalStateException("CrossEntropy.backward called before forward");
        }
        INDArray p = targetSums == null ? softmax.dup() : softmax.mulColumnVector(targetSums);
        return p.subi(targets).muli(upstream / softmax.size(0));
    }
}
