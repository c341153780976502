package io.hgkd.core.loss;

import io.hgkd.core.nn.Tensors;
import java.util.Arrays;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.transforms.pairwise.arithmetic.MulOp;
import org.nd4j.linalg.api.ops.impl.transforms.pairwise.arithmetic.SubOp;
import org.nd4j.linalg.factory.Nd4j;

/**
 * SparK's masked reconstruction loss (pretrain/spark.py), also the form of H-GKD's feature-imitation loss:
 * <pre>
 *   l[b,n] = mean_d (pred[b,n,d] - target[b,n,d])^2
 *   loss   = sum_{b,n} l[b,n] * mask[b,n] / (sum(mask) + eps)
 * </pre>
 * with {@code mask} 1 where a position is counted (a <em>masked</em> patch or token) and {@code eps = 1e-8}.
 * The loss is averaged over the whole batch, not per sample, as in SparK.
 *
 * <p>{@link #forward} caches the residual and the mask; {@link #backward()} returns the gradient with respect to
 * {@code pred}. Not thread-safe: use one instance per concurrent caller.
 */
public final class MaskedMse {
    /** SparK's denominator eps. */
    public static final double DEFAULT_EPS = 1e-8;

    private final double eps;

    // buffers reused across calls of the same shape (ND4J memory is off-heap: no garbage per step)
    private INDArray diff;
    private INDArray mask;
    private INDArray squares;
    private INDArray perRow;
    private INDArray grad;
    private double denom;
    private long[] predShape;

    /** A loss with SparK's eps of 1e-8. */
    public MaskedMse() {
        this(DEFAULT_EPS);
    }

    /**
     * @param eps added to {@code sum(mask)}; must be non-negative and finite (0 is allowed but then an all-zero mask
     *            gives NaN)
     */
    public MaskedMse(double eps) {
        if (!(eps >= 0) || Double.isInfinite(eps)) {
            throw new IllegalArgumentException("MaskedMse eps must be non-negative and finite, got " + eps);
        }
        this.eps = eps;
    }

    /** The eps added to the mask sum. */
    public double eps() {
        return eps;
    }

    /**
     * Computes the loss and caches what {@link #backward()} needs.
     *
     * @param pred   (B, L, D) predictions (any rank >= 2: the last dimension is averaged)
     * @param target same shape as {@code pred}; cast to the type of {@code pred}
     * @param mask   (B, L), i.e. {@code pred}'s shape without the last dimension; 1 = counted. Any real weights work.
     * @return the scalar loss
     */
    public double forward(INDArray pred, INDArray target, INDArray mask) {
        if (pred.rank() < 2) {
            throw new IllegalArgumentException("MaskedMse pred must have rank >= 2 (B, L, D), got shape "
                    + Tensors.shape(pred));
        }
        if (!Arrays.equals(pred.shape(), target.shape())) {
            throw new IllegalArgumentException("MaskedMse target shape " + Tensors.shape(target)
                    + " does not match pred shape " + Tensors.shape(pred));
        }
        long[] lead = Arrays.copyOf(pred.shape(), pred.rank() - 1);
        if (!Arrays.equals(lead, mask.shape())) {
            throw new IllegalArgumentException("MaskedMse mask shape " + Tensors.shape(mask) + " must be "
                    + Arrays.toString(lead) + " (pred shape " + Tensors.shape(pred) + " without the last dimension)");
        }
        DataType type = pred.dataType();
        predShape = pred.shape();
        long d = pred.size(pred.rank() - 1);
        long rows = pred.length() / d;
        diff = Tensors.reuse(diff, type, rows, d);
        Nd4j.exec(new SubOp(Tensors.contiguous(pred).reshape('c', rows, d),
                Tensors.contiguous(target.castTo(type)).reshape('c', rows, d), diff));
        this.mask = Tensors.reuse(this.mask, type, rows, 1);
        this.mask.assign(Tensors.contiguous(mask.castTo(type)).reshape('c', rows, 1));
        denom = this.mask.sumNumber().doubleValue() + eps;
        squares = Tensors.reuse(squares, type, rows, d);
        Nd4j.exec(new MulOp(diff, diff, squares));
        perRow = Tensors.reuse(perRow, type, rows);
        squares.mean(perRow, 1);
        return perRow.reshape('c', rows, 1).muli(this.mask).sumNumber().doubleValue() / denom;
    }

    /** Gradient of the last loss with respect to {@code pred} (upstream gradient 1). */
    public INDArray backward() {
        return backward(1.0);
    }

    /**
     * Gradient of {@code upstream * loss} with respect to {@code pred}:
     * {@code 2 (pred - target) / D * mask / (sum(mask) + eps) * upstream}.
     *
     * @return a new array with the shape and type of the last {@code pred}
     */
    public INDArray backward(double upstream) {
        if (diff == null) {
            throw new IllegalStateException("MaskedMse.backward called before forward");
        }
        long d = diff.size(1);
        return diff.mulColumnVector(mask).muli(2.0 * upstream / (d * denom)).reshape('c', predShape);
    }

    /**
     * As {@link #backward(double)}, into a buffer owned by this loss that the next call overwrites: for training
     * loops, which should not make native garbage every step.
     */
    public INDArray backwardShared(double upstream) {
        if (diff == null) {
            throw new IllegalStateException("MaskedMse.backward called before forward");
        }
        long d = diff.size(1);
        grad = Tensors.reuse(grad, diff.dataType(), diff.shape());
        return grad.assign(diff).muliColumnVector(mask).muli(2.0 * upstream / (d * denom)).reshape('c', predShape);
    }
}
