package io.hgkd.core.nn;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.broadcast.BroadcastAddOp;
import org.nd4j.linalg.api.ops.impl.broadcast.BroadcastMulOp;
import org.nd4j.linalg.api.ops.impl.broadcast.BroadcastSubOp;
import org.nd4j.linalg.api.ops.impl.transforms.pairwise.arithmetic.MulOp;
import org.nd4j.linalg.api.ops.impl.transforms.pairwise.arithmetic.SubOp;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * Batch normalisation over NCHW input, as {@code torch.nn.BatchNorm2d}: affine {@code weight}/{@code bias}, buffers
 * {@code running_mean}, {@code running_var} and {@code num_batches_tracked}. Training normalises with the biased batch
 * variance and updates the running variance with the unbiased one (momentum 0.1, eps 1e-5 by default).
 *
 * <p>{@link #forward(INDArray, INDArray)} takes an optional per-position mask (B, 1, H, W) of 0/1 values: statistics
 * then use the active positions only and inactive outputs are exactly 0. This is SparK's {@code SparseBatchNorm2d}
 * (BN1d over the gathered active positions), exposed to {@code io.hgkd.core.sparse}.
 *
 * <p>All full-size arrays (normalised input, output, input gradient, scratch) are reused across calls of the same
 * shape; per-channel work uses libnd4j broadcast ops writing into those buffers.
 */
public class BatchNorm2d extends Module {
    private static final int[] CHANNEL_DIM = {1};
    private static final int[] POSITION_DIMS = {0, 2, 3};

    private final int channels;
    private final double eps;
    private final double momentum;

    private INDArray mask3;
    private INDArray xhat;
    private INDArray rstd;
    private double count;
    private boolean lastTraining;
    private INDArray output;
    private INDArray scratch;
    private INDArray gradInput;

    /** {@code BatchNorm2d(channels)} with eps 1e-5 and momentum 0.1. */
    public BatchNorm2d(int channels) {
        this(channels, 1e-5, 0.1);
    }

    /** {@code BatchNorm2d(channels, eps, momentum)}. */
    public BatchNorm2d(int channels, double eps, double momentum) {
        if (channels <= 0 || !(eps > 0) || !(momentum >= 0 && momentum <= 1)) {
            throw new IllegalArgumentException("invalid BatchNorm2d(" + channels + ", eps=" + eps + ", momentum="
                    + momentum + ")");
        }
        this.channels = channels;
        this.eps = eps;
        this.momentum = momentum;
        registerParameter("weight", Nd4j.ones(DataType.FLOAT, channels), true);
        registerParameter("bias", Nd4j.zeros(DataType.FLOAT, channels), true);
        registerBuffer("running_mean", Nd4j.zeros(DataType.FLOAT, channels));
        registerBuffer("running_var", Nd4j.ones(DataType.FLOAT, channels));
        registerBuffer("num_batches_tracked", Nd4j.scalar(DataType.LONG, 0L));
    }

    public Parameter weight() {
        return param("weight");
    }

    public Parameter bias() {
        return param("bias");
    }

    public INDArray runningMean() {
        return buffer("running_mean");
    }

    public INDArray runningVar() {
        return buffer("running_var");
    }

    public int channels() {
        return channels;
    }

    public double eps() {
        return eps;
    }

    @Override
    public INDArray forward(INDArray x) {
        return forward(x, null);
    }

    /**
     * Normalises {@code x}; with a non-null {@code activeMask} (B, 1, H, W) only active positions enter the
     * statistics and inactive outputs are 0.
     */
    public INDArray forward(INDArray x, INDArray activeMask) {
        Tensors.requireRank(x, 4, "BatchNorm2d");
        if (x.size(1) != channels) {
            throw new IllegalArgumentException("BatchNorm2d expects " + channels + " channels, got shape "
                    + Tensors.shape(x));
        }
        if (activeMask != null && (activeMask.size(0) != x.size(0) || activeMask.size(1) != 1
                || activeMask.size(2) != x.size(2) || activeMask.size(3) != x.size(3))) {
            throw new IllegalArgumentException("BatchNorm2d mask shape " + Tensors.shape(activeMask)
                    + " does not match input " + Tensors.shape(x) + " (expected B x 1 x H x W)");
        }
        DataType dt = x.dataType();
        x = Tensors.contiguous(x);
        // the mask as (B, H, W) so broadcast ops can apply it along dims 0, 2, 3 of (B, C, H, W)
        mask3 = activeMask == null ? null
                : Tensors.contiguous(activeMask.castTo(dt)).reshape('c', x.size(0), x.size(2), x.size(3));
        lastTraining = isTraining();
        xhat = Tensors.reuse(xhat, dt, x.shape());
        if (lastTraining) {
            count = mask3 == null ? (double) x.length() / channels : mask3.sumNumber().doubleValue();
            if (count <= 1) {
                throw new IllegalArgumentException("BatchNorm2d in training needs more than one (active) value per"
                        + " channel, got " + (long) count + " for input " + Tensors.shape(x));
            }
            INDArray mean;
            if (mask3 == null) {
                mean = x.sum(POSITION_DIMS).divi(count);
            } else {
                scratch = Tensors.reuse(scratch, dt, x.shape());
                Nd4j.exec(new BroadcastMulOp(x, mask3, scratch, POSITION_DIMS));
                mean = scratch.sum(POSITION_DIMS).divi(count);
            }
            Nd4j.exec(new BroadcastSubOp(x, mean, xhat, CHANNEL_DIM));
            if (mask3 != null) {
                Nd4j.exec(new BroadcastMulOp(xhat, mask3, xhat, POSITION_DIMS));
            }
            scratch = Tensors.reuse(scratch, dt, x.shape());
            Nd4j.exec(new MulOp(xhat, xhat, scratch));
            INDArray var = scratch.sum(POSITION_DIMS).divi(count);
            rstd = Transforms.pow(var.add(eps), -0.5, false);
            Nd4j.exec(new BroadcastMulOp(xhat, rstd, xhat, CHANNEL_DIM));
            INDArray rm = runningMean();
            INDArray rv = runningVar();
            rm.muli(1 - momentum).addi(mean.castTo(rm.dataType()).muli(momentum));
            rv.muli(1 - momentum).addi(var.castTo(rv.dataType()).muli(momentum * count / (count - 1)));
            INDArray nbt = buffer("num_batches_tracked");
            nbt.assign(nbt.getLong(0) + 1);
        } else {
            rstd = Transforms.pow(runningVar().castTo(dt).add(eps), -0.5, false);
            Nd4j.exec(new BroadcastSubOp(x, runningMean().castTo(dt), xhat, CHANNEL_DIM));
            Nd4j.exec(new BroadcastMulOp(xhat, rstd, xhat, CHANNEL_DIM));
            if (mask3 != null) {
                Nd4j.exec(new BroadcastMulOp(xhat, mask3, xhat, POSITION_DIMS));
            }
        }
        output = Tensors.reuse(output, dt, x.shape());
        Nd4j.exec(new BroadcastMulOp(xhat, weight().data().castTo(dt), output, CHANNEL_DIM));
        Nd4j.exec(new BroadcastAddOp(output, bias().data().castTo(dt), output, CHANNEL_DIM));
        if (mask3 != null) {
            Nd4j.exec(new BroadcastMulOp(output, mask3, output, POSITION_DIMS));
        }
        return output;
    }

    @Override
    public INDArray backward(INDArray gradOutput) {
        INDArray g = Tensors.contiguous(gradOutput);
        DataType dt = g.dataType();
        scratch = Tensors.reuse(scratch, dt, g.shape());
        gradInput = Tensors.reuse(gradInput, dt, g.shape());
        if (mask3 != null) {
            Nd4j.exec(new BroadcastMulOp(g, mask3, scratch, POSITION_DIMS));
            g = scratch;
        }
        INDArray dbeta = g.sum(POSITION_DIMS);
        Nd4j.exec(new MulOp(g, xhat, gradInput));
        INDArray dgamma = gradInput.sum(POSITION_DIMS);
        INDArray scale = weight().data().castTo(dt).mul(rstd);
        if (lastTraining) {
            // dx = gamma * rstd * (g - sum(g)/n - xhat * sum(g * xhat)/n), over active positions
            Nd4j.exec(new BroadcastMulOp(xhat, dgamma.div(count), gradInput, CHANNEL_DIM));
            Nd4j.exec(new SubOp(g, gradInput, gradInput));
            Nd4j.exec(new BroadcastSubOp(gradInput, dbeta.div(count), gradInput, CHANNEL_DIM));
            Nd4j.exec(new BroadcastMulOp(gradInput, scale, gradInput, CHANNEL_DIM));
            if (mask3 != null) {
                Nd4j.exec(new BroadcastMulOp(gradInput, mask3, gradInput, POSITION_DIMS));
            }
        } else {
            Nd4j.exec(new BroadcastMulOp(g, scale, gradInput, CHANNEL_DIM));
        }
        weight().accumulate(dgamma);
        bias().accumulate(dbeta);
        return gradInput;
    }
}
