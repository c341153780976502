package io.hgkd.core.nn;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
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
 */
public class BatchNorm2d extends Module {
    private final int channels;
    private final double eps;
    private final double momentum;

    private INDArray mask;
    private INDArray xhat;
    private INDArray rstd;
    private double count;
    private boolean lastTraining;
    private INDArray output;

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
        mask = activeMask == null ? null : activeMask.castTo(dt);
        lastTraining = isTraining();
        INDArray gamma = weight().data().reshape(1, channels, 1, 1);
        INDArray beta = bias().data().reshape(1, channels, 1, 1);
        if (lastTraining) {
            count = mask == null ? (double) x.length() / channels : mask.sumNumber().doubleValue();
            if (count <= 1) {
                throw new IllegalArgumentException("BatchNorm2d in training needs more than one (active) value per"
                        + " channel, got " + (long) count + " for input " + Tensors.shape(x));
            }
            INDArray xm = mask == null ? x : x.mul(mask);
            INDArray mean = xm.sum(0, 2, 3).divi(count);
            INDArray xc = x.sub(mean.reshape(1, channels, 1, 1));
            if (mask != null) {
                xc.muli(mask);
            }
            INDArray var = xc.mul(xc).sum(0, 2, 3).divi(count);
            rstd = Transforms.pow(var.add(eps), -0.5, false);
            xhat = xc.muli(rstd.reshape(1, channels, 1, 1));
            INDArray rm = runningMean();
            INDArray rv = runningVar();
            rm.muli(1 - momentum).addi(mean.castTo(rm.dataType()).muli(momentum));
            rv.muli(1 - momentum).addi(var.castTo(rv.dataType()).muli(momentum * count / (count - 1)));
            INDArray nbt = buffer("num_batches_tracked");
            nbt.assign(nbt.getLong(0) + 1);
        } else {
            rstd = Transforms.pow(runningVar().castTo(dt).add(eps), -0.5, false);
            xhat = x.sub(runningMean().castTo(dt).reshape(1, channels, 1, 1))
                    .muli(rstd.reshape(1, channels, 1, 1));
            if (mask != null) {
                xhat.muli(mask);
            }
        }
        output = Tensors.reuse(output, dt, x.shape());
        output.assign(xhat).muli(gamma).addi(beta);
        if (mask != null) {
            output.muli(mask);
        }
        return output;
    }

    @Override
    public INDArray backward(INDArray gradOutput) {
        INDArray g = mask == null ? gradOutput : gradOutput.mul(mask);
        INDArray dbeta = g.sum(0, 2, 3);
        INDArray dgamma = g.mul(xhat).sum(0, 2, 3);
        INDArray scale = weight().data().mul(rstd).reshape(1, channels, 1, 1);
        INDArray dx;
        if (lastTraining) {
            dx = g.sub(dbeta.div(count).reshape(1, channels, 1, 1))
                    .subi(xhat.mul(dgamma.div(count).reshape(1, channels, 1, 1)))
                    .muli(scale);
            if (mask != null) {
                dx.muli(mask);
            }
        } else {
            dx = g.mul(scale);
        }
        weight().accumulate(dgamma);
        bias().accumulate(dbeta);
        return dx;
    }
}
