package io.hgkd.core.sparse;

import io.hgkd.core.nn.ChannelKernels;
import io.hgkd.core.nn.Module;
import io.hgkd.core.nn.Tensors;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * SparK's pattern for sparse ops that need no sparse statistics: run the dense module, then multiply its output by the
 * active mask at the output resolution; the backward masks the gradient the same way before the dense backward.
 */
abstract class OutputMasked<M extends Module> extends Module implements SparseModule {
    protected final M dense;
    private ChannelKernels.Positions positions;
    private INDArray gradMasked;

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
        if (activeMask == null) {
            positions = null;
            return y;
        }
        y = Tensors.contiguous(y);
        positions = ChannelKernels.Positions.of(y.shape(), activeMask.like(y));
        ChannelKernels.fillInactive(y, positions, new double[positions.channels()], y); // in place: y is ours
        return y;
    }

    @Override
    public INDArray backward(INDArray gradOutput) {
        if (positions == null) {
            return dense.backward(gradOutput);
        }
        INDArray g = Tensors.contiguous(gradOutput);
        gradMasked = Tensors.reuse(gradMasked, g.dataType(), g.shape());
        ChannelKernels.fillInactive(g, positions, new double[positions.channels()], gradMasked);
        return dense.backward(gradMasked);
    }

    @Override
    public Module train(boolean mode) {
        dense.train(mode);
        return super.train(mode);
    }
}
