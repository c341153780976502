package io.hgkd.core.nn;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.scalar.RectifiedLinear;
import org.nd4j.linalg.api.ops.impl.scalar.Step;
import org.nd4j.linalg.factory.Nd4j;

/** {@code torch.nn.ReLU}: max(x, 0); the derivative at 0 is 0 as in PyTorch. */
public class ReLU extends Activation {
    @Override
    protected void apply(INDArray x, INDArray out) {
        Nd4j.exec(new RectifiedLinear(x, out, 0.0));
    }

    @Override
    protected void derivative(INDArray x, INDArray out) {
        Nd4j.exec(new Step(x, out, 0.0)); // 1 where x > 0, else 0
    }
}
