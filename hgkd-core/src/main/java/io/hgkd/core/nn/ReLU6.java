package io.hgkd.core.nn;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.ops.transforms.Transforms;

/** {@code torch.nn.ReLU6}: min(max(x, 0), 6); the derivative is 1 on (0, 6) and 0 elsewhere, as PyTorch's hardtanh. */
public class ReLU6 extends Activation {
    @Override
    protected void apply(INDArray x, INDArray out) {
        out.assign(Transforms.min(Transforms.max(x, 0.0, true), 6.0, false));
    }

    @Override
    protected INDArray derivative(INDArray x) {
        return x.gt(0).castTo(x.dataType()).muli(x.lt(6).castTo(x.dataType()));
    }
}
