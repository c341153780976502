package io.hgkd.core.nn;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * 2-D convolution over NCHW input, as {@code torch.nn.Conv2d}: weight {@code [out, in/groups, kH, kW]} (OIHW),
 * optional bias {@code [out]}, stride, zero padding, dilation and groups. Initialised like PyTorch's default
 * (kaiming-uniform with a = sqrt(5)); models re-initialise as timm or SparK do.
 *
 * <p>A 1x1 convolution with stride 1, no padding and one group on a large plane (at least {@link #gemmMinPlane}
 * positions, ResNet's 56x56 and 28x28 stages) runs as plain GEMMs on the NCHW layout, per image
 * {@code Y[n] = W X[n]}, {@code dX[n] = W^T dY[n]}, {@code dW += dY[n] X[n]^T}, with the weight gradient accumulated
 * in place: on those shapes this measured faster than libnd4j's oneDNN conv2d and conv2d_bp. On smaller planes
 * (below {@link #batchedMaxPlane}: ResNet's 14x14 and 7x7 stages) one GEMM per product covers the whole batch, on
 * copies in a channel-major (C, B * H * W) layout, since a per-image product is too thin there. A strided 1x1
 * convolution without padding (ResNet's downsampling shortcuts) takes the same paths on a subsampled copy of its input,
 * and its input gradient is that of the copy spread back with zeros between: at 2 threads this measured 8-10 ms
 * faster per ResNet-50 shortcut (batch 8, forward + backward) than conv2d / conv2d_bp with stride 2. Everything else
 * runs through conv2d / conv2d_bp.
 */
public class Conv2d extends Module {
    private final int inChannels;
    private final int outChannels;
    private final int kH;
    private final int kW;
    private final int stride;
    private final int padding;
    private final int dilation;
    private final int groups;
    private final boolean hasBias;

    private INDArray input;
    private INDArray output;
    private INDArray gradInput;
    private INDArray gradWeight;
    private INDArray gradBias;
    private INDArray ones;
    private boolean gemmPath;
    private boolean batchedPath;
    /** Shape of the last input when it ran subsampled (a strided 1x1 convolution on a GEMM path), else null. */
    private long[] subsampledFrom;
    private INDArray subsampled;
    private INDArray spreadGradInput;

    /** Per thread: scratch for the channel-major copies of the batched path, shared by all modules (see scratch). */
    private static final ThreadLocal<INDArray[]> SCRATCH = ThreadLocal.withInitial(() -> new INDArray[3]);

    /**
     * Smallest H * W of the output for which a 1x1 stride-1 convolution runs as GEMMs. Measured on ResNet-50's
     * shapes (batch 8, one thread): the GEMMs win at 56x56 and 28x28, are mixed at 14x14 and lose at 7x7,
     * where each per-image product is too thin. Package-private so that tests can send small shapes down this path.
     */
    static int gemmMinPlane = 28 * 28;

    /**
     * A 1x1 stride-1 convolution whose output plane is smaller than this (and below {@link #gemmMinPlane}) runs as
     * one GEMM over the batch in a channel-major layout. Measured on ResNet-50's 14x14 and 7x7 shapes (batch 8,
     * one thread), forward plus backward: 10-20% faster than oneDNN's conv2d and conv2d_bp, the four layout copies
     * included. Package-private so that tests can choose the path; {@code -Dhgkd.conv2d.batchedMaxPlane=0} turns it
     * off for A/B runs. At 2 threads it did not win: about 5% slower than oneDNN on the Fashion-MNIST H-GKD step (one
     * run each) and no different on the ResNet-50 fine-tuning step (2609/2987 ms on, 2640/2942 ms off, two runs each).
     */
    static int batchedMaxPlane = Integer.getInteger("hgkd.conv2d.batchedMaxPlane", 28 * 28);

    /**
     * Whether a strided 1x1 convolution without padding runs on the GEMM paths through a subsampled copy of its input
     * (else conv2d / conv2d_bp with the stride); {@code -Dhgkd.conv2d.subsample=false} turns it off for A/B runs.
     */
    static boolean subsampleStrided = !"false".equals(System.getProperty("hgkd.conv2d.subsample"));

    /** Square kernel, stride 1, no padding, bias: the common PyTorch shorthand. */
    public Conv2d(int inChannels, int outChannels, int kernel) {
        this(inChannels, outChannels, kernel, 1, 0, 1, 1, true);
    }

    /** Square kernel with stride, padding and bias flag. */
    public Conv2d(int inChannels, int outChannels, int kernel, int stride, int padding, boolean bias) {
        this(inChannels, outChannels, kernel, stride, padding, 1, 1, bias);
    }

    /** The full PyTorch signature with a square kernel. */
    public Conv2d(int inChannels, int outChannels, int kernel, int stride, int padding, int dilation, int groups,
                  boolean bias) {
        if (inChannels <= 0 || outChannels <= 0 || kernel <= 0 || stride <= 0 || padding < 0 || dilation <= 0
                || groups <= 0) {
            throw new IllegalArgumentException("invalid Conv2d(" + inChannels + ", " + outChannels + ", kernel="
                    + kernel + ", stride=" + stride + ", padding=" + padding + ", dilation=" + dilation
                    + ", groups=" + groups + ")");
        }
        if (inChannels % groups != 0 || outChannels % groups != 0) {
            throw new IllegalArgumentException("Conv2d channels " + inChannels + "->" + outChannels
                    + " are not divisible by groups=" + groups);
        }
        this.inChannels = inChannels;
        this.outChannels = outChannels;
        this.kH = kernel;
        this.kW = kernel;
        this.stride = stride;
        this.padding = padding;
        this.dilation = dilation;
        this.groups = groups;
        this.hasBias = bias;
        INDArray w = Nd4j.create(org.nd4j.linalg.api.buffer.DataType.FLOAT, outChannels, inChannels / groups, kH, kW);
        registerParameter("weight", w, false);
        Init.pytorchDefault(w, Init.defaultRandom());
        if (bias) {
            INDArray b = Nd4j.create(org.nd4j.linalg.api.buffer.DataType.FLOAT, outChannels);
            registerParameter("bias", b, true);
            Init.pytorchDefaultBias(b, Init.fanIn(w), Init.defaultRandom());
        }
    }

    /** The weight parameter {@code [out, in/groups, kH, kW]}. */
    public Parameter weight() {
        return param("weight");
    }

    /** The bias parameter, or null when built without bias. */
    public Parameter bias() {
        return hasBias ? param("bias") : null;
    }

    public int inChannels() {
        return inChannels;
    }

    public int outChannels() {
        return outChannels;
    }

    public int kernelSize() {
        return kH;
    }

    public int stride() {
        return stride;
    }

    public int padding() {
        return padding;
    }

    /** Output spatial size for input size {@code n}. */
    public long outSize(long n) {
        return (n + 2L * padding - (long) dilation * (kH - 1) - 1) / stride + 1;
    }

    /** Kernel extent after dilation. */
    private int effectiveKernel() {
        return dilation * (kH - 1) + 1;
    }

    private int[] iArgs() {
        // kH, kW, sH, sW, pH, pW, dH, dW, same-mode 0, data format 0 = NCHW, weight format 1 = OIHW.
        // Dilation runs as a zero-inserted kernel: M2.1's oneDNN helper rejects dilated descriptors.
        int k = effectiveKernel();
        return new int[] {k, k, stride, stride, padding, padding, 1, 1, 0, 0, 1};
    }

    /** The weight as the op sees it: itself, or zero-inserted to the dilated extent. */
    private INDArray opWeight() {
        INDArray w = weight().data();
        if (dilation == 1) {
            return w;
        }
        int k = effectiveKernel();
        INDArray wd = Nd4j.zeros(w.dataType(), w.size(0), w.size(1), k, k);
        dilatedTaps(wd).assign(w);
        return wd;
    }

    /** The view of a zero-inserted kernel holding the real taps. */
    private INDArray dilatedTaps(INDArray wd) {
        int k = effectiveKernel();
        return wd.get(NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.interval(0, dilation, k),
                NDArrayIndex.interval(0, dilation, k));
    }

    @Override
    public INDArray forward(INDArray x) {
        Tensors.requireRank(x, 4, "Conv2d");
        if (x.size(1) != inChannels) {
            throw new IllegalArgumentException("Conv2d expects " + inChannels + " input channels, got shape "
                    + Tensors.shape(x));
        }
        long oh = outSize(x.size(2));
        long ow = outSize(x.size(3));
        if (oh <= 0 || ow <= 0) {
            throw new IllegalArgumentException("Conv2d input " + Tensors.shape(x) + " is smaller than its kernel");
        }
        input = Tensors.contiguous(x);
        output = Tensors.reuse(output, x.dataType(), x.size(0), outChannels, oh, ow);
        boolean pointwise = kH == 1 && padding == 0 && groups == 1
                && x.dataType() == weight().data().dataType()
                && (x.dataType() == DataType.FLOAT || x.dataType() == DataType.DOUBLE)
                && x.length() <= Integer.MAX_VALUE && output.length() <= Integer.MAX_VALUE;
        pointwise &= stride == 1 || subsampleStrided;
        gemmPath = pointwise && oh * ow >= gemmMinPlane;
        batchedPath = pointwise && !gemmPath && oh * ow < batchedMaxPlane;
        subsampledFrom = null;
        if ((gemmPath || batchedPath) && stride > 1) {
            // a strided 1x1 convolution is a 1x1 convolution of the input's every stride-th row and column
            subsampledFrom = input.shape();
            subsampled = Tensors.reuse(subsampled, x.dataType(), x.size(0), inChannels, oh, ow);
            resample(input, subsampled, stride, false);
            input = subsampled;
        }
        if (gemmPath) {
            forwardGemm();
            return output;
        }
        if (batchedPath) {
            forwardBatched();
            return output;
        }
        INDArray w = opWeight();
        if (groups == 1) {
            INDArray[] in = hasBias ? new INDArray[] {input, w, bias().data()} : new INDArray[] {input, w};
            Tensors.exec("conv2d", in, new INDArray[] {output}, iArgs());
        } else {
            int cin = inChannels / groups;
            int cout = outChannels / groups;
            for (int g = 0; g < groups; g++) {
                INDArray xg = input.get(NDArrayIndex.all(), NDArrayIndex.interval(g * cin, (g + 1) * cin)).dup('c');
                INDArray wg = w.get(NDArrayIndex.interval(g * cout, (g + 1) * cout)).dup('c');
                INDArray yg = Nd4j.create(x.dataType(), x.size(0), cout, oh, ow);
                INDArray[] in = hasBias
                        ? new INDArray[] {xg, wg, bias().data().get(NDArrayIndex.interval(g * cout, (g + 1) * cout)).dup()}
                        : new INDArray[] {xg, wg};
                Tensors.exec("conv2d", in, new INDArray[] {yg}, iArgs());
                output.get(NDArrayIndex.all(), NDArrayIndex.interval(g * cout, (g + 1) * cout)).assign(yg);
            }
        }
        return output;
    }

    /** Per image: {@code Y[n] = W X[n] (+ b 1^T)}, with W viewed as (out, in) and X[n] as (in, H * W). */
    private void forwardGemm() {
        long batch = input.size(0);
        long plane = input.size(2) * input.size(3);
        INDArray w2 = weight().data().reshape(outChannels, inChannels);
        INDArray b = hasBias ? bias().data().reshape(outChannels, 1) : null;
        if (b != null) {
            ones = onesRow(plane);
        }
        for (long n = 0; n < batch; n++) {
            INDArray yn = output.slice(n).reshape(outChannels, plane);
            Gemm.gemm(w2, input.slice(n).reshape(inChannels, plane), yn, false, false, 1.0, 0.0);
            if (b != null) {
                Gemm.gemm(b, ones, yn, false, false, 1.0, 1.0);
            }
        }
    }

    /**
     * One GEMM over the batch: {@code Y' = W X'} with X' the input as (in, B * H * W) (a channel-major copy) and Y'
     * copied back to NCHW.
     */
    private void forwardBatched() {
        int batch = (int) input.size(0);
        int plane = (int) (input.size(2) * input.size(3));
        long cols = (long) batch * plane;
        DataType t = input.dataType();
        INDArray xp = scratch(0, t, inChannels, cols);
        INDArray yp = scratch(1, t, outChannels, cols);
        swapBatchAndChannels(input, xp, batch, inChannels, plane);
        Gemm.gemm(weight().data().reshape(outChannels, inChannels), xp, yp, false, false, 1.0, 0.0);
        if (hasBias) {
            Gemm.gemm(bias().data().reshape(outChannels, 1), onesRow(cols), yp, false, false, 1.0, 1.0);
        }
        swapBatchAndChannels(yp, output, outChannels, batch, plane);
    }

    /**
     * Backward of {@link #forwardBatched}, in the channel-major layout: {@code dX' = W^T dY'},
     * {@code dW += dY' X'^T} and {@code db += dY' 1}, the weight and bias gradients accumulated in place. X' is copied
     * again from the kept input, so that the scratch holds nothing between calls.
     */
    private INDArray backwardBatched(INDArray g) {
        int batch = (int) input.size(0);
        int plane = (int) (input.size(2) * input.size(3));
        long cols = (long) batch * plane;
        DataType t = input.dataType();
        gradInput = Tensors.reuse(gradInput, t, input.shape());
        INDArray gp = scratch(1, t, outChannels, cols);
        INDArray dxp = scratch(2, t, inChannels, cols);
        swapBatchAndChannels(g, gp, batch, outChannels, plane);
        if (weight().requiresGrad()) {
            INDArray xp = scratch(0, t, inChannels, cols);
            swapBatchAndChannels(input, xp, batch, inChannels, plane);
            double beta = weight().gradBeta();
            Gemm.gemm(gp, xp, weight().grad().reshape(outChannels, inChannels), false, true, 1.0, beta);
        }
        if (hasBias && bias().requiresGrad()) {
            Gemm.gemm(gp, onesRow(cols), bias().grad().reshape(outChannels, 1), false, true, 1.0, 1.0);
        }
        Gemm.gemm(weight().data().reshape(outChannels, inChannels), gp, dxp, true, false, 1.0, 0.0);
        swapBatchAndChannels(dxp, gradInput, inChannels, batch, plane);
        return gradInput;
    }

    /**
     * This thread's scratch {@code k} as a (rows, cols) c-order array of type {@code t}: a view of a buffer kept
     * across calls and grown to the largest size asked for, so that the batched path allocates nothing per step and
     * holds one set of buffers per thread rather than per module.
     */
    private static INDArray scratch(int k, DataType t, long rows, long cols) {
        INDArray[] s = SCRATCH.get();
        long n = rows * cols;
        if (s[k] == null || s[k].dataType() != t || s[k].length() < n) {
            s[k] = Nd4j.create(t, new long[] {n}, 'c');
        }
        return Nd4j.create(s[k].data(), new long[] {rows, cols}, new long[] {cols, 1}, 0, 'c', t);
    }

    /**
     * Copies dense {@code src} viewed as (d0, d1, plane) into dense {@code dst} as (d1, d0, plane): NCHW to
     * channel-major with (B, C), and back with (C, B). Each run of {@code plane} elements is one bulk copy between
     * the direct buffers.
     */
    private static void swapBatchAndChannels(INDArray src, INDArray dst, int d0, int d1, int plane) {
        if (!RowKernels.isDense(src) || !RowKernels.isDense(dst) || src.ordering() != 'c') {
            throw new IllegalStateException("Conv2d batched path needs dense c-order arrays");
        }
        if (src.dataType() == DataType.FLOAT) {
            java.nio.FloatBuffer s = RowKernels.floats(src);
            java.nio.FloatBuffer d = RowKernels.floats(dst);
            for (int i = 0; i < d0; i++) {
                for (int j = 0; j < d1; j++) {
                    d.put((j * d0 + i) * plane, s, (i * d1 + j) * plane, plane);
                }
            }
        } else {
            java.nio.DoubleBuffer s = RowKernels.doubles(src);
            java.nio.DoubleBuffer d = RowKernels.doubles(dst);
            for (int i = 0; i < d0; i++) {
                for (int j = 0; j < d1; j++) {
                    d.put((j * d0 + i) * plane, s, (i * d1 + j) * plane, plane);
                }
            }
        }
    }

    /**
     * Between dense (B, C, H, W) {@code full} and dense (B, C, OH, OW) {@code sub}, OH = (H - 1) / stride + 1 (and so
     * for W): with {@code spread} false, {@code sub} = every {@code stride}-th row and column of {@code full}; with it
     * true, {@code full} = {@code sub} at those positions and 0 elsewhere. One plane per task, rows by bulk copies.
     */
    private static void resample(INDArray full, INDArray sub, int stride, boolean spread) {
        if (!RowKernels.isDense(full) || !RowKernels.isDense(sub) || full.ordering() != 'c' || sub.ordering() != 'c') {
            throw new IllegalStateException("Conv2d subsampled path needs dense c-order arrays");
        }
        int planes = (int) (full.size(0) * full.size(1));
        int h = (int) full.size(2);
        int w = (int) full.size(3);
        int oh = (int) sub.size(2);
        int ow = (int) sub.size(3);
        boolean isFloat = full.dataType() == DataType.FLOAT;
        java.nio.FloatBuffer ff = isFloat ? RowKernels.floats(full) : null;
        java.nio.FloatBuffer sf = isFloat ? RowKernels.floats(sub) : null;
        java.nio.DoubleBuffer fd = isFloat ? null : RowKernels.doubles(full);
        java.nio.DoubleBuffer sd = isFloat ? null : RowKernels.doubles(sub);
        RowKernels.parallelFor(planes, (long) planes * h * w, (p0, p1) -> {
            float[] rf = isFloat ? new float[w] : null;
            float[] of = isFloat ? new float[ow] : null;
            double[] rd = isFloat ? null : new double[w];
            double[] od = isFloat ? null : new double[ow];
            for (int p = p0; p < p1; p++) {
                for (int r = 0; r < h; r++) {
                    int fullRow = (p * h + r) * w;
                    boolean kept = r % stride == 0;
                    int subRow = (p * oh + r / stride) * ow;
                    if (!spread) {
                        if (!kept) {
                            continue;
                        }
                        if (isFloat) {
                            ff.get(fullRow, rf, 0, w);
                            for (int j = 0; j < ow; j++) {
                                of[j] = rf[j * stride];
                            }
                            sf.put(subRow, of, 0, ow);
                        } else {
                            fd.get(fullRow, rd, 0, w);
                            for (int j = 0; j < ow; j++) {
                                od[j] = rd[j * stride];
                            }
                            sd.put(subRow, od, 0, ow);
                        }
                    } else if (isFloat) {
                        java.util.Arrays.fill(rf, 0f);
                        if (kept) {
                            sf.get(subRow, of, 0, ow);
                            for (int j = 0; j < ow; j++) {
                                rf[j * stride] = of[j];
                            }
                        }
                        ff.put(fullRow, rf, 0, w);
                    } else {
                        java.util.Arrays.fill(rd, 0.0);
                        if (kept) {
                            sd.get(subRow, od, 0, ow);
                            for (int j = 0; j < ow; j++) {
                                rd[j * stride] = od[j];
                            }
                        }
                        fd.put(fullRow, rd, 0, w);
                    }
                }
            }
        });
    }

    /** A (1, n) row of ones in the weight's type, kept across calls. */
    private INDArray onesRow(long n) {
        DataType t = weight().data().dataType();
        if (ones == null || ones.dataType() != t || ones.length() != n) {
            ones = Nd4j.ones(t, 1, n);
        }
        return ones;
    }

    /**
     * Per image: {@code dX[n] = W^T dY[n]}; {@code dW += dY[n] X[n]^T} and {@code db += dY[n] 1} straight into the
     * parameters' gradients (GEMMs with beta 1), skipped for frozen parameters.
     */
    private INDArray backwardGemm(INDArray g) {
        long batch = input.size(0);
        long plane = input.size(2) * input.size(3);
        gradInput = Tensors.reuse(gradInput, input.dataType(), input.shape());
        INDArray w2 = weight().data().reshape(outChannels, inChannels);
        double beta = weight().requiresGrad() ? weight().gradBeta() : 1.0;
        INDArray gw = weight().requiresGrad() ? weight().grad().reshape(outChannels, inChannels) : null;
        INDArray gb = hasBias && bias().requiresGrad() ? bias().grad().reshape(outChannels, 1) : null;
        for (long n = 0; n < batch; n++) {
            INDArray gn = g.slice(n).reshape(outChannels, plane);
            Gemm.gemm(w2, gn, gradInput.slice(n).reshape(inChannels, plane), true, false, 1.0, 0.0);
            if (gw != null) {
                // the first image overwrites a gradient that is zero since zeroGrad, the others add
                Gemm.gemm(gn, input.slice(n).reshape(inChannels, plane), gw, false, true, 1.0, n == 0 ? beta : 1.0);
            }
            if (gb != null) {
                Gemm.gemm(gn, onesRow(plane), gb, false, true, 1.0, 1.0);
            }
        }
        return gradInput;
    }

    @Override
    public INDArray backward(INDArray gradOutput) {
        INDArray g = Tensors.contiguous(gradOutput);
        if (gemmPath || batchedPath) {
            INDArray gt = g.dataType() == input.dataType() ? g : g.castTo(input.dataType());
            INDArray gx = gemmPath ? backwardGemm(gt) : backwardBatched(gt);
            if (subsampledFrom == null) {
                return gx;
            }
            spreadGradInput = Tensors.reuse(spreadGradInput, gx.dataType(), subsampledFrom);
            resample(spreadGradInput, gx, stride, true);
            return spreadGradInput;
        }
        INDArray w = opWeight();
        gradInput = Tensors.reuse(gradInput, input.dataType(), input.shape());
        gradWeight = Tensors.reuse(gradWeight, w.dataType(), w.shape());
        if (hasBias) {
            gradBias = Tensors.reuse(gradBias, w.dataType(), outChannels);
        }
        if (groups == 1) {
            INDArray[] in = hasBias ? new INDArray[] {input, w, bias().data(), g} : new INDArray[] {input, w, g};
            INDArray[] out = hasBias ? new INDArray[] {gradInput, gradWeight, gradBias}
                    : new INDArray[] {gradInput, gradWeight};
            Tensors.exec("conv2d_bp", in, out, iArgs());
        } else {
            int cin = inChannels / groups;
            int cout = outChannels / groups;
            for (int gi = 0; gi < groups; gi++) {
                INDArray xg = input.get(NDArrayIndex.all(), NDArrayIndex.interval(gi * cin, (gi + 1) * cin)).dup('c');
                INDArray wg = w.get(NDArrayIndex.interval(gi * cout, (gi + 1) * cout)).dup('c');
                INDArray gg = g.get(NDArrayIndex.all(), NDArrayIndex.interval(gi * cout, (gi + 1) * cout)).dup('c');
                INDArray gx = Nd4j.create(xg.dataType(), xg.shape());
                INDArray gw = Nd4j.create(wg.dataType(), wg.shape());
                Tensors.exec("conv2d_bp", new INDArray[] {xg, wg, gg}, new INDArray[] {gx, gw}, iArgs());
                gradInput.get(NDArrayIndex.all(), NDArrayIndex.interval(gi * cin, (gi + 1) * cin)).assign(gx);
                gradWeight.get(NDArrayIndex.interval(gi * cout, (gi + 1) * cout)).assign(gw);
            }
            if (hasBias) {
                gradBias.assign(g.sum(0, 2, 3));
            }
        }
        weight().accumulate(dilation == 1 ? gradWeight : dilatedTaps(gradWeight));
        if (hasBias) {
            bias().accumulate(gradBias);
        }
        return gradInput;
    }
}
