package io.hgkd.core.nn;

import org.nd4j.linalg.api.ndarray.INDArray;

/** Base for parameter-free element-wise layers: keeps the last input for the derivative. */
abstract class Activation extends Module {
    protected INDArray input;
    protected INDArray output;

    @Override
    public final INDArray forward(INDArray x) {
        input = x;
        output = Tensors.reuse(output, x.dataType(), x.shape());
        apply(x, output);
        return output;
    }

    /** Writes f(x) into {@code out}. */
    protected abstract void apply(INDArray x, INDArray out);

    @Override
    public final INDArray backward(INDArray gradOutput) {
        return gradOutput.mul(derivative(input));
    }

    /** f'(x) as a new array. */
    protected abstract INDArray derivative(INDArray x);
}
