package io.hgkd.core.nn;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * A trainable tensor with its accumulated gradient.
 *
 * <p>{@link #data()} is updated in place by optimizers; {@link #grad()} is allocated lazily on the first backward
 * pass and accumulates until {@link #zeroGrad()}. A parameter can be shared by a dense module and its sparse twin,
 * which is how both see the same weights under the same name.
 */
public final class Parameter {
    private INDArray data;
    private INDArray grad;
    /**
     * True after {@link #zeroGrad()} until the gradient is next touched: the buffer then holds stale values that
     * count as 0. Zeroing is deferred so that the first write of a step can overwrite instead of adding, saving a
     * pass over every gradient per step (the zero fill) and a read in the first accumulation.
     */
    private boolean gradIsZero;
    private final boolean noWeightDecay;
    private boolean requiresGrad = true;

    /**
     * @param data          initial value (owned by the parameter from now on)
     * @param noWeightDecay true for biases, norm weights, tokens and embeddings that optimizers must not decay
     */
    public Parameter(INDArray data, boolean noWeightDecay) {
        this.data = data;
        this.noWeightDecay = noWeightDecay;
    }

    /** The current value; optimizers update it in place. */
    public INDArray data() {
        return data;
    }

    /** The accumulated gradient, allocated (zeroed) on first use with the shape and type of {@link #data()}. */
    public INDArray grad() {
        if (grad == null || grad.dataType() != data.dataType()) {
            grad = Nd4j.zeros(data.dataType(), data.shape());
            gradIsZero = false;
        } else if (gradIsZero) {
            grad.assign(0);
            gradIsZero = false;
        }
        return grad;
    }

    /**
     * For a kernel about to add into {@link #grad()} in place with a factor on its current value (GEMM's beta):
     * that factor, 0 when the gradient is zero since {@link #zeroGrad()} (the buffer is then not cleared and must not
     * be read, so the kernel has to write every element), else 1. Either way the gradient counts as written from now
     * on; call this right before the write.
     */
    public double gradBeta() {
        if (grad != null && gradIsZero && grad.dataType() == data.dataType()) {
            gradIsZero = false;
            return 0.0;
        }
        grad();
        return 1.0;
    }

    /** True when a gradient has been allocated (at least one backward pass reached this parameter). */
    public boolean hasGrad() {
        return grad != null;
    }

    /** Adds {@code g} to the gradient (no-op when the parameter is frozen). */
    public void accumulate(INDArray g) {
        if (requiresGrad) {
            if (gradBeta() == 0.0) {
                grad.assign(g);
            } else {
                grad.addi(g);
            }
        }
    }

    /** Sets the gradient to zero, keeping its buffer (the clearing is deferred to its next use). */
    public void zeroGrad() {
        if (grad != null) {
            gradIsZero = true;
        }
    }

    /** Whether optimizers should skip weight decay for this tensor. */
    public boolean noWeightDecay() {
        return noWeightDecay;
    }

    /** Whether backward passes accumulate a gradient into this parameter. */
    public boolean requiresGrad() {
        return requiresGrad;
    }

    /** Freezes ({@code false}) or unfreezes the parameter. */
    public void setRequiresGrad(boolean requiresGrad) {
        this.requiresGrad = requiresGrad;
    }

    /** Replaces the value by a copy of {@code value} (shape must match). */
    public void set(INDArray value) {
        if (!java.util.Arrays.equals(value.shape(), data.shape())) {
            throw new IllegalArgumentException("shape " + java.util.Arrays.toString(value.shape())
                    + " does not match parameter shape " + java.util.Arrays.toString(data.shape()));
        }
        data.assign(value.castTo(data.dataType()));
    }

    /** Converts value and gradient to {@code type} (used for double-precision gradient checks). */
    void convert(DataType type) {
        if (data.dataType() != type) {
            data = data.castTo(type);
            grad = grad == null ? null : grad.castTo(type);
        }
    }
}
