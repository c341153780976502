package io.hgkd.core.nn;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * Layer normalisation over the last dimension, as {@code torch.nn.LayerNorm(dim, eps)} with biased variance.
 * The default eps is 1e-6, as timm and MAE use (PyTorch's own default is 1e-5). Without affine parameters it is the
 * per-token target normalisation of H-GKD.
 */
public class LayerNorm extends Module {
    private final int dim;
    private final double eps;
    private final boolean affine;

    private INDArray xhat;
    private INDArray rstd;
    private long[] inShape;
    private INDArray output;

    /** {@code LayerNorm(dim)} with eps 1e-6 and affine parameters. */
    public LayerNorm(int dim) {
        this(dim, 1e-6, true);
    }

    /** {@code LayerNorm(dim, eps, elementwise_affine)}. */
    public LayerNorm(int dim, double eps, boolean affine) {
        if (dim <= 0 || !(eps > 0)) {
            throw new IllegalArgumentException("invalid LayerNorm(" + dim + ", eps=" + eps + ")");
        }
        this.dim = dim;
        this.eps = eps;
        this.affine = affine;
        if (affine) {
            registerParameter("weight", Nd4j.ones(DataType.FLOAT, dim), true);
            registerParameter("bias", Nd4j.zeros(DataType.FLOAT, dim), true);
        }
    }

    public Parameter weight() {
        return affine ? param("weight") : null;
    }

    public Parameter bias() {
        return affine ? param("bias") : null;
    }

    @Override
    public INDArray forward(INDArray x) {
        if (x.size(x.rank() - 1) != dim) {
            throw new IllegalArgumentException("LayerNorm(" + dim + ") got input of shape " + Tensors.shape(x));
        }
        inShape = x.shape();
        INDArray x2 = Tensors.contiguous(x).reshape('c', x.length() / dim, dim);
        INDArray mean = x2.mean(1).reshape(-1, 1);
        INDArray xc = x2.subColumnVector(mean);
        INDArray var = xc.mul(xc).mean(1).reshape(-1, 1);
        rstd = Transforms.pow(var.addi(eps), -0.5, false);
        xhat = xc.muliColumnVector(rstd);
        output = Tensors.reuse(output, x.dataType(), x2.shape());
        output.assign(xhat);
        if (affine) {
            output.muliRowVector(weight().data()).addiRowVector(bias().data());
        }
        return output.reshape(inShape);
    }

    @Override
    public INDArray backward(INDArray gradOutput) {
        INDArray g = Tensors.contiguous(gradOutput).reshape('c', xhat.size(0), dim);
        INDArray dxhat;
        if (affine) {
            weight().accumulate(g.mul(xhat).sum(0));
            bias().accumulate(g.sum(0));
            dxhat = g.mulRowVector(weight().data());
        } else {
            dxhat = g.dup();
        }
        INDArray meanD = dxhat.mean(1).reshape(-1, 1);
        INDArray meanDX = dxhat.mul(xhat).mean(1).reshape(-1, 1);
        INDArray dx = dxhat.subiColumnVector(meanD).subi(xhat.mulColumnVector(meanDX)).muliColumnVector(rstd);
        return dx.reshape(inShape);
    }
}
