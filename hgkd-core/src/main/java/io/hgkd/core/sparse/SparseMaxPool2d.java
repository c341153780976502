package io.hgkd.core.sparse;

import io.hgkd.core.nn.MaxPool2d;
import io.hgkd.core.nn.Module;
import org.nd4j.linalg.api.ndarray.INDArray;

/** SparK's sparse max pooling: the dense pooling, then the output multiplied by the active mask. */
public class SparseMaxPool2d extends Module implements SparseModule {
    private final MaxPool2d dense;
    private INDArray mask;

    public SparseMaxPool2d(MaxPool2d dense) {
        this.dense = dense;
    }

    public SparseMaxPool2d(int kernel, int stride, int padding) {
        this(new MaxPool2d(kernel, stride, padding));
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
}
