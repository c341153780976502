package io.hgkd.core.nn;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.broadcast.BroadcastAddOp;
import org.nd4j.linalg.api.ops.impl.broadcast.BroadcastMulOp;
import org.nd4j.linalg.api.ops.impl.broadcast.BroadcastSubOp;
import org.nd4j.linalg.api.ops.impl.transforms.pairwise.arithmetic.MulOp;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * Layer normalisation over the last dimension, as {@code torch.nn.LayerNorm(dim, eps)} with biased variance.
 * The default eps is 1e-6, as timm and MAE use (PyTorch's own default is 1e-5). Without affine parameters it is the
 * per-token target normalisation of H-GKD. Full-size arrays are reused across calls of the same shape.
 */
public class LayerNorm extends Module {
    private static final int[] ROW_DIM = {0};
    private static final int[] FEATURE_DIM = {1};

    private final int dim;
    private final double eps;
    private final boolean affine;

    private INDArray xhat;
    private INDArray rstd;
    private long[] inShape;
    private INDArray output;
    private INDArray gradInput;
    private INDArray scratch;
    private INDArray ones;

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
        long rows = x.length() / dim;
        INDArray x2 = Tensors.contiguous(x).reshape('c', rows, dim);
        xhat = Tensors.reuse(xhat, dt, rows, dim);
        scratch = Tensors.reuse(scratch, dt, rows, dim);
        Nd4j.exec(new BroadcastSubOp(x2, x2.mean(1), xhat, ROW_DIM));
        Nd4j.exec(new MulOp(xhat, xhat, scratch));
        rstd = Transforms.pow(scratch.mean(1).addi(eps), -0.5, false);
        Nd4j.exec(new BroadcastMulOp(xhat, rstd, xhat, ROW_DIM));
        output = Tensors.reuse(output, dt, rows, dim);
        if (affine) {
            Nd4j.exec(new BroadcastMulOp(xhat, weight().data().castTo(dt), output, FEATURE_DIM));
            Nd4j.exec(new BroadcastAddOp(output, bias().data().castTo(dt), output, FEATURE_DIM));
        } else {
            output.assign(xhat);
        }
        return output.reshape(inShape);
    }

    @Override
    public INDArray backward(INDArray gradOutput) {
        long rows = xhat.size(0);
        DataType dt = xhat.dataType();
        INDArray g = Tensors.contiguous(gradOutput).reshape('c', rows, dim);
        gradInput = Tensors.reuse(gradInput, dt, rows, dim);
        INDArray dxhat = gradInput;
        if (affine) {
            // column sums as a ones-row GEMM: several times faster than ND4J's column reduction
            ones = Tensors.reuse(ones, dt, 1, rows);
            if (ones.getDouble(0) != 1.0) {
                ones.assign(1.0);
            }
            Nd4j.exec(new MulOp(g, xhat, scratch));
            INDArray colSum = Nd4j.create(dt, 1, dim);
            Nd4j.gemm(ones, scratch, colSum, false, false, 1.0, 0.0);
            weight().accumulate(colSum.reshape(dim));
            Nd4j.gemm(ones, g, colSum, false, false, 1.0, 0.0);
            bias().accumulate(colSum.reshape(dim));
            Nd4j.exec(new BroadcastMulOp(g, weight().data().castTo(dt), dxhat, FEATURE_DIM));
        } else {
            dxhat.assign(g);
        }
        // dx = rstd * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat)), means over the feature dimension
        Nd4j.exec(new MulOp(dxhat, xhat, scratch));
        INDArray meanDX = scratch.mean(1);
        INDArray meanD = dxhat.mean(1);
        Nd4j.exec(new BroadcastMulOp(xhat, meanDX, scratch, ROW_DIM));
        dxhat.subi(scratch);
        Nd4j.exec(new BroadcastSubOp(dxhat, meanD, dxhat, ROW_DIM));
        Nd4j.exec(new BroadcastMulOp(dxhat, rstd, dxhat, ROW_DIM));
        return dxhat.reshape(inShape);
    }
}
