package io.hgkd.core.nn;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.ops.transforms.Transforms;

/** {@code torch.nn.ReLU}: max(x, 0); the derivative at 0 is 0 as in PyTorch. */
public class ReLU extends Activation {
    @Override
    protected void apply(INDArray x, INDArray out) {
        out.assign(Transforms.relu(x, true));
    }

    @Override
    protected INDArray derivative(INDArray x) {
        return x.gt(0).castTo(x.dataType());
    }
}
