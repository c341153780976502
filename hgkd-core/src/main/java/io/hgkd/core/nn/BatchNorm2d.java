package io.hgkd.core.nn;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Batch normalisation over NCHW input, as {@code torch.nn.BatchNorm2d}: affine {@code weight}/{@code bias}, buffers
 * {@code running_mean}, {@code running_var} and {@code num_batches_tracked}. Training normalises with the biased batch
 * variance and updates the running variance with the unbiased one (momentum 0.1, eps 1e-5 by default).
 *
 * <p>{@link #forward(INDArray, INDArray)} takes an optional per-position mask (B, 1, H, W) of 0/1 values: statistics
 * then use the active positions only and inactive outputs are exactly 0. This is SparK's {@code SparseBatchNorm2d}
 * (BN1d over the gathered active positions), exposed to {@code io.hgkd.core.sparse}.
 *
 * <p>Forward and backward run as fused per-channel passes ({@link ChannelKernels}); inactive positions are skipped.
 * The output and gradient arrays are reused across calls of the same shape. The input is kept (not copied) for the
 * backward pass, as {@link Conv2d} keeps its input: do not modify it in between.
 */
public class BatchNorm2d extends Module {
    private final int channels;
    private final double eps;
    private final double momentum;

    private INDArray input;
    private ChannelKernels.Positions positions;
    private double[] mean;
    private double[] rstd;
    private double[] gamma;
    private boolean lastTraining;
    private Act lastAct = Act.NONE;
    private boolean lastResidual;
    private INDArray output;
    private INDArray gradInput;
    private INDArray residualGrad;
    private INDArray dGamma;
    private INDArray dBeta;

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
        return forward(x, activeMask, null, Act.NONE);
    }

    /** An activation fused into the BN's output pass. */
    public enum Act {
        /** No activation. */
        NONE(Double.NaN),
        /** {@code torch.nn.ReLU}. */
        RELU(Double.POSITIVE_INFINITY),
        /** {@code torch.nn.ReLU6}. */
        RELU6(6.0);

        private final double cap;

        Act(double cap) {
            this.cap = cap;
        }
    }

    /**
     * {@code act(BN(x) + residual)}, fused into one pass: the BN as {@link #forward(INDArray, INDArray)}, then the
     * optional residual added and the activation applied; {@link #backward} then takes the gradient of this
     * output, and {@link #residualGradient()} holds the gradient of {@code residual}. With a mask, inactive outputs
     * are 0 (the residual is assumed 0 there too, as in a sparse ResNet).
     *
     * @param residual null, or an array of the shape of {@code x}
     * @param act      the activation
     */
    public INDArray forward(INDArray x, INDArray activeMask, INDArray residual, Act act) {
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
        if (residual != null && !java.util.Arrays.equals(residual.shape(), x.shape())) {
            throw new IllegalArgumentException("BatchNorm2d residual shape " + Tensors.shape(residual)
                    + " does not match input " + Tensors.shape(x));
        }
        DataType dt = x.dataType();
        input = Tensors.contiguous(x);
        positions = ChannelKernels.Positions.of(x.shape(), activeMask);
        lastTraining = isTraining();
        lastAct = act;
        lastResidual = residual != null;
        mean = new double[channels];
        rstd = new double[channels];
        gamma = ChannelKernels.toDoubles(weight().data());
        double[] beta = ChannelKernels.toDoubles(bias().data());
        double[] scale = gamma.clone();
        output = Tensors.reuse(output, dt, x.shape());
        INDArray res = residual == null ? null : Tensors.contiguous(residual.castTo(dt));
        if (lastTraining) {
            int n = positions.count();
            if (n <= 1) {
                throw new IllegalArgumentException("BatchNorm2d in training needs more than one (active) value per"
                        + " channel, got " + n + " for input " + Tensors.shape(x));
            }
            // statistics and normalisation in one visit per channel; scale becomes gamma * rstd
            double[] var = new double[channels];
            ChannelKernels.batchNormForward(input, positions, true, mean, var, scale, beta, eps, res, act.cap,
                    output);
            double[] rm = ChannelKernels.toDoubles(runningMean());
            double[] rv = ChannelKernels.toDoubles(runningVar());
            for (int c = 0; c < channels; c++) {
                rstd[c] = 1.0 / Math.sqrt(var[c] + eps);
                rm[c] = (1 - momentum) * rm[c] + momentum * mean[c];
                rv[c] = (1 - momentum) * rv[c] + momentum * var[c] * n / (n - 1);
            }
            ChannelKernels.fromDoubles(rm, runningMean());
            ChannelKernels.fromDoubles(rv, runningVar());
            INDArray nbt = buffer("num_batches_tracked");
            nbt.assign(nbt.getLong(0) + 1);
        } else {
            mean = ChannelKernels.toDoubles(runningMean());
            double[] rv = ChannelKernels.toDoubles(runningVar());
            for (int c = 0; c < channels; c++) {
                rstd[c] = 1.0 / Math.sqrt(rv[c] + eps);
                scale[c] = gamma[c] * rstd[c];
            }
            ChannelKernels.affine(input, positions, mean, scale, beta, res, act.cap, output);
        }
        return output;
    }

    /**
     * The gradient of the {@code residual} of the last fused {@link #forward(INDArray, INDArray, INDArray, Act)},
     * valid after {@link #backward}: the incoming gradient times the activation's derivative (a module-owned buffer).
     */
    public INDArray residualGradient() {
        if (!lastResidual) {
            throw new IllegalStateException("the last BatchNorm2d forward had no residual");
        }
        return residualGrad;
    }

    @Override
    public INDArray backward(INDArray gradOutput) {
        INDArray g = Tensors.contiguous(gradOutput);
        DataType dt = input.dataType();
        if (g.dataType() != dt) {
            g = g.castTo(dt);
        }
        gradInput = Tensors.reuse(gradInput, dt, input.shape());
        INDArray gRes = null;
        if (lastResidual) {
            residualGrad = Tensors.reuse(residualGrad, dt, input.shape());
            gRes = residualGrad;
        }
        double[] dgamma = new double[channels];
        double[] dbeta = new double[channels];
        ChannelKernels.batchNormBackward(input, output, g, positions, mean, rstd, gamma, lastTraining, lastAct.cap,
                gRes, gradInput, dgamma, dbeta);
        dGamma = Tensors.reuse(dGamma, weight().data().dataType(), channels);
        dBeta = Tensors.reuse(dBeta, bias().data().dataType(), channels);
        ChannelKernels.fromDoubles(dgamma, dGamma);
        ChannelKernels.fromDoubles(dbeta, dBeta);
        weight().accumulate(dGamma);
        bias().accumulate(dBeta);
        return gradInput;
    }
}
