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
 * in place: on those shapes this measured faster than libnd4j's oneDNN conv2d and conv2d_bp. Everything else runs
 * through conv2d / conv2d_bp.
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

    /**
     * Smallest H * W of the output for which a 1x1 stride-1 convolution runs as GEMMs. Measured on ResNet-50's
     * shapes (batch 8, one thread): the GEMMs win at 56x56 and 28x28, are mixed at 14x14 and lose at 7x7,
     * where each per-image product is too thin. Package-private so that tests can send small shapes down this path.
     */
    static int gemmMinPlane = 28 * 28;

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
        gemmPath = kH == 1 && stride == 1 && padding == 0 && groups == 1 && oh * ow >= gemmMinPlane
                && x.dataType() == weight().data().dataType();
        if (gemmPath) {
            forwardGemm();
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
            Nd4j.gemm(w2, input.slice(n).reshape(inChannels, plane), yn, false, false, 1.0, 0.0);
            if (b != null) {
                Nd4j.gemm(b, ones, yn, false, false, 1.0, 1.0);
            }
        }
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
        INDArray gw = weight().requiresGrad() ? weight().grad().reshape(outChannels, inChannels) : null;
        INDArray gb = hasBias && bias().requiresGrad() ? bias().grad().reshape(outChannels, 1) : null;
        for (long n = 0; n < batch; n++) {
            INDArray gn = g.slice(n).reshape(outChannels, plane);
            Nd4j.gemm(w2, gn, gradInput.slice(n).reshape(inChannels, plane), true, false, 1.0, 0.0);
            if (gw != null) {
                Nd4j.gemm(gn, input.slice(n).reshape(inChannels, plane), gw, false, true, 1.0, 1.0);
            }
            if (gb != null) {
                Nd4j.gemm(gn, onesRow(plane), gb, false, true, 1.0, 1.0);
            }
        }
        return gradInput;
    }

    @Override
    public INDArray backward(INDArray gradOutput) {
        INDArray g = Tensors.contiguous(gradOutput);
        if (gemmPath) {
            return backwardGemm(g.dataType() == input.dataType() ? g : g.castTo(input.dataType()));
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
