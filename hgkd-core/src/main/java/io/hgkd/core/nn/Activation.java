package io.hgkd.core.nn;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.transforms.pairwise.arithmetic.MulOp;
import org.nd4j.linalg.factory.Nd4j;

/** Base for parameter-free element-wise layers: keeps the last input; output and gradient buffers are reused. */
abstract class Activation extends Module {
    protected INDArray input;
    private INDArray output;
    private INDArray gradInput;

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
        gradInput = Tensors.reuse(gradInput, input.dataType(), input.shape());
        gradient(input, Tensors.contiguous(gradOutput).castTo(input.dataType()), gradInput);
        return gradInput;
    }

    /** Writes {@code g * f'(x)} into {@code out}; the default multiplies {@link #derivative} by {@code g}. */
    protected void gradient(INDArray x, INDArray g, INDArray out) {
        derivative(x, out);
        Nd4j.exec(new MulOp(out, g, out));
    }

    /** Writes f'(x) into {@code out}. */
    protected abstract void derivative(INDArray x, INDArray out);
}
