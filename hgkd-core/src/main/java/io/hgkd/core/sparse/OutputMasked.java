package io.hgkd.core.sparse;

import io.hgkd.core.nn.Module;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * SparK's pattern for sparse ops that need no sparse statistics: run the dense module, then multiply its output by the
 * active mask at the output resolution; the backward masks the gradient the same way before the dense backward.
 */
abstract class OutputMasked<M extends Module> extends Module implements SparseModule {
    protected final M dense;
    private INDArray mask;

    OutputMasked(M dense) {
        this.dense = dense;
    }

    /** The wrapped dense module. */
    public M dense() {
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
