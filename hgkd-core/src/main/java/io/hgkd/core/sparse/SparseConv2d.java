package io.hgkd.core.sparse;

import io.hgkd.core.nn.Conv2d;
import io.hgkd.core.nn.Module;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * SparK's sparse convolution: the dense convolution (bias included), then the output multiplied by the active mask at
 * the output resolution. Inactive inputs are already 0, so this emulates a submanifold sparse convolution at dense
 * cost. It shares the parameters (and names) of the wrapped {@link Conv2d}.
 */
public class SparseConv2d extends Module implements SparseModule {
    private final Conv2d dense;
    private INDArray mask;

    /** The sparse twin of {@code dense}, sharing its weight and bias. */
    public SparseConv2d(Conv2d dense) {
        this.dense = dense;
        shareStateWith(dense);
    }

    /** The wrapped dense convolution. */
    public Conv2d dense() {
        return dense;
    }

    @Override
    public INDArray forward(INDArray x) {
        return forward(x, null);
    }

    @Override
    public INDArray forward(INDArray x, ActiveMask activeMask) {
        INDArray y = dense.forward(x);
        mask = activeMask == null ? null : activeMask.like(y);
        return mask == null ? y : y.muli(mask);
    }

    @Override
    public INDArray backward(INDArray gradOutput) {
        return dense.backward(mask == null ? gradOutput : gradOutput.mul(mask));
    }

    @Override
    public Module train(boolean mode) {
        dense.train(mode);
        return super.train(mode);
    }
}
