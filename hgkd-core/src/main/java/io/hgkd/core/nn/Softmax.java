package io.hgkd.core.nn;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.ops.transforms.Transforms;

/** Softmax over the last dimension, as {@code torch.nn.Softmax(dim=-1)}. */
public class Softmax extends Module {
    private INDArray output2d;
    private long[] shape;

    @Override
    public INDArray forward(INDArray x) {
        shape = x.shape();
        long d = x.size(x.rank() - 1);
        INDArray x2 = Tensors.contiguous(x).reshape('c', x.length() / d, d);
        // subtract the row max for stability, exp, normalise
        INDArray e = Transforms.exp(x2.subColumnVector(x2.max(1).reshape(-1, 1)), false);
        output2d = e.diviColumnVector(e.sum(1).reshape(-1, 1));
        return output2d.reshape(shape);
    }

    @Override
    public INDArray backward(INDArray gradOutput) {
        INDArray g = Tensors.contiguous(gradOutput).reshape('c', output2d.size(0), output2d.size(1));
        INDArray dot = g.mul(output2d).sum(1).reshape(-1, 1);
        return g.subColumnVector(dot).muli(output2d).reshape(shape);
    }
}
