package io.hgkd.core.nn;

import org.nd4j.linalg.api.ndarray.INDArray;

/** Softmax over the last dimension, as {@code torch.nn.Softmax(dim=-1)}; one fused pass per row each way. */
public class Softmax extends Module {
    private INDArray output2d;
    private INDArray gradInput2d;
    private long[] shape;

    @Override
    public INDArray forward(INDArray x) {
        shape = x.shape();
        long d = x.size(x.rank() - 1);
        INDArray x2 = Tensors.contiguous(x).reshape('c', x.length() / d, d);
        output2d = Tensors.reuse(output2d, x.dataType(), x2.shape());
        RowKernels.softmaxForward(x2, output2d);
        return output2d.reshape(shape);
    }

    @Override
    public INDArray backward(INDArray gradOutput) {
        INDArray g = Tensors.contiguous(gradOutput).reshape('c', output2d.size(0), output2d.size(1));
        gradInput2d = Tensors.reuse(gradInput2d, output2d.dataType(), output2d.shape());
        RowKernels.softmaxBackward(g.castTo(output2d.dataType()), output2d, gradInput2d);
        return gradInput2d.reshape(shape);
    }
}
