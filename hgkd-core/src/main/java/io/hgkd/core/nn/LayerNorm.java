package io.hgkd.core.nn;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Layer normalisation over the last dimension, as {@code torch.nn.LayerNorm(dim, eps)} with biased variance.
 * The default eps is 1e-6, as timm and MAE use (PyTorch's own default is 1e-5). Without affine parameters it is the
 * per-token target normalisation of H-GKD. Full-size arrays are reused across calls of the same shape; both directions
 * are one fused pass per row ({@link RowKernels}). The input is kept (not copied) for the backward pass, which
 * recomputes the normalised rows from it, as {@link Conv2d} and {@link BatchNorm2d} keep theirs: do not modify it in
 * between.
 */
public class LayerNorm extends Module {
    private final int dim;
    private final double eps;
    private final boolean affine;

    private INDArray input;
    private double[] mean;
    private double[] rstd;
    private long[] inShape;
    private INDArray output;
    private INDArray gradInput;

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
        DataType dt = x.dataType();
        inShape = x.shape();
        int rows = Math.toIntExact(x.length() / dim);
        input = Tensors.contiguous(x).reshape('c', rows, dim);
        output = Tensors.reuse(output, dt, rows, dim);
        if (rstd == null || rstd.length != rows) {
            mean = new double[rows];
            rstd = new double[rows];
        }
        RowKernels.layerNormForward(input, affine ? weight().data() : null, affine ? bias().data() : null, eps, output,
                mean, rstd);
        return output.reshape(inShape);
    }

    @Override
    public INDArray backward(INDArray gradOutput) {
        long rows = input.size(0);
        INDArray g = Tensors.contiguous(gradOutput).reshape('c', rows, dim);
        gradInput = Tensors.reuse(gradInput, input.dataType(), rows, dim);
        INDArray wGrad = affine && weight().requiresGrad() ? weight().grad() : null;
        INDArray bGrad = affine && bias().requiresGrad() ? bias().grad() : null;
        RowKernels.layerNormBackward(g.castTo(input.dataType()), input, mean, rstd, affine ? weight().data() : null,
                gradInput, wGrad, bGrad);
        return gradInput.reshape(inShape);
    }
}
