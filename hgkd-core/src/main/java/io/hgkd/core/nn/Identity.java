package io.hgkd.core.nn;

import org.nd4j.linalg.api.ndarray.INDArray;

/** {@code torch.nn.Identity}. */
public class Identity extends Module {
    @Override
    public INDArray forward(INDArray x) {
        return x;
    }

    @Override
    public INDArray backward(INDArray gradOutput) {
        return gradOutput;
    }
}
