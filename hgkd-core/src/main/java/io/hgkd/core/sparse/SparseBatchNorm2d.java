package io.hgkd.core.sparse;

import io.hgkd.core.nn.BatchNorm2d;
import io.hgkd.core.nn.Module;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * SparK's {@code SparseBatchNorm2d}: batch statistics over active positions only, running statistics updated from
 * them, inactive outputs exactly 0. Equivalent to BN1d over the gathered active positions, computed here with masked
 * sums instead of a gather/scatter. Shares parameters, buffers and names with the wrapped {@link BatchNorm2d}, so its
 * state dict is a timm {@code bn} state dict.
 */
public class SparseBatchNorm2d extends Module implements SparseModule {
    private final BatchNorm2d dense;

    /** The sparse twin of {@code dense}. */
    public SparseBatchNorm2d(BatchNorm2d dense) {
        this.dense = dense;
        shareStateWith(dense);
    }

    /** A fresh BN (weight 1, bias 0, running mean 0, running var 1) with its sparse twin. */
    public SparseBatchNorm2d(int channels) {
        this(new BatchNorm2d(channels));
    }

    public BatchNorm2d dense() {
        return dense;
    }

    @Override
    public INDArray forward(INDArray x) {
        return forward(x, null);
    }

    @Override
    public INDArray forward(INDArray x, ActiveMask activeMask) {
        return dense.forward(x, activeMask == null ? null : activeMask.like(x));
    }

    /**
     * {@code act(BN(x) + residual)} with the sparse statistics, fused into one output pass, see
     * {@link BatchNorm2d#forward(INDArray, INDArray, INDArray, BatchNorm2d.Act)}; inactive outputs are 0.
     */
    public INDArray forward(INDArray x, ActiveMask activeMask, INDArray residual, BatchNorm2d.Act act) {
        return dense.forward(x, activeMask == null ? null : activeMask.like(x), residual, act);
    }

    @Override
    public INDArray backward(INDArray gradOutput) {
        return dense.backward(gradOutput);
    }

    @Override
    public Module train(boolean mode) {
        dense.train(mode);
        return super.train(mode);
    }
}
