package io.hgkd.core.nn;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.ops.transforms.Transforms;

/** {@code torch.nn.ReLU6}: min(max(x, 0), 6); the derivative is 1 on (0, 6) and 0 elsewhere, as PyTorch's hardtanh. */
public class ReLU6 extends Activation {
    @Override
    protected void apply(INDArray x, INDArray out) {
        out.assign(x);
        Transforms.max(out, 0.0, false);
        Transforms.min(out, 6.0, false);
    }

    @Override
    protected void derivative(INDArray x, INDArray out) {
        out.assign(x.gt(0).castTo(x.dataType()).muli(x.lt(6).castTo(x.dataType())));
    }
}
