package io.hgkd.core.nn;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Transposed 2-D convolution, as {@code torch.nn.ConvTranspose2d} with a square kernel, stride, padding and
 * dilation (no output padding, no groups): weight {@code [in, out, kH, kW]}, output size
 * {@code (H - 1) * stride - 2 * padding + dilation * (k - 1) + 1}. SparK's decoder uses k4 s2 p1, which doubles H and W.
 */
public class ConvTranspose2d extends Module {
    private final int inChannels;
    private final int outChannels;
    private final int k;
    private final int stride;
    private final int padding;
    private final int dilation;
    private final boolean hasBias;

    private INDArray input;
    private INDArray output;
    private INDArray gradInput;
    private INDArray gradWeightYxoi;
    private INDArray gradBias;

    /** {@code ConvTranspose2d(in, out, kernel, stride, padding, bias)} with dilation 1. */
    public ConvTranspose2d(int inChannels, int outChannels, int kernel, int stride, int padding, boolean bias) {
        this(inChannels, outChannels, kernel, stride, padding, 1, bias);
    }

    /** The full signature (square kernel). */
    public ConvTranspose2d(int inChannels, int outChannels, int kernel, int stride, int padding, int dilation,
                           boolean bias) {
        if (inChannels <= 0 || outChannels <= 0 || kernel <= 0 || stride <= 0 || padding < 0 || dilation <= 0) {
            throw new IllegalArgumentException("invalid ConvTranspose2d(" + inChannels + ", " + outChannels
                    + ", kernel=" + kernel + ", stride=" + stride + ", padding=" + padding + ", dilation="
                    + dilation + ")");
        }
        this.inChannels = inChannels;
        this.outChannels = outChannels;
        this.k = kernel;
        this.stride = stride;
        this.padding = padding;
        this.dilation = dilation;
        this.hasBias = bias;
        INDArray w = Nd4j.create(DataType.FLOAT, inChannels, outChannels, kernel, kernel);
        registerParameter("weight", w, false);
        Init.pytorchDefault(w, Init.defaultRandom());
        if (bias) {
            INDArray b = Nd4j.create(DataType.FLOAT, outChannels);
            registerParameter("bias", b, true);
            Init.pytorchDefaultBias(b, Init.fanIn(w), Init.defaultRandom());
        }
    }

    public Parameter weight() {
        return param("weight");
    }

    public Parameter bias() {
        return hasBias ? param("bias") : null;
    }

    /** Output spatial size for input size {@code n}. */
    public long outSize(long n) {
        return (n - 1) * stride - 2L * padding + (long) dilation * (k - 1) + 1;
    }

    private int[] iArgs() {
        return new int[] {k, k, stride, stride, padding, padding, dilation, dilation, 0, 0};
    }

    /** libnd4j's deconv2d wants weights as [kH, kW, out, in]; PyTorch stores [in, out, kH, kW]. */
    private INDArray weightYxoi() {
        return weight().data().permute(2, 3, 1, 0).dup('c');
    }

    @Override
    public INDArray forward(INDArray x) {
        Tensors.requireRank(x, 4, "ConvTranspose2d");
        if (x.size(1) != inChannels) {
            throw new IllegalArgumentException("ConvTranspose2d expects " + inChannels
                    + " input channels, got shape " + Tensors.shape(x));
        }
        input = Tensors.contiguous(x);
        output = Tensors.reuse(output, x.dataType(), x.size(0), outChannels, outSize(x.size(2)), outSize(x.size(3)));
        INDArray[] in = hasBias ? new INDArray[] {input, weightYxoi(), bias().data()}
                : new INDArray[] {input, weightYxoi()};
        Tensors.exec("deconv2d", in, new INDArray[] {output}, iArgs());
        return output;
    }

    @Override
    public INDArray backward(INDArray gradOutput) {
        INDArray g = Tensors.contiguous(gradOutput);
        INDArray w = weightYxoi();
        gradInput = Tensors.reuse(gradInput, input.dataType(), input.shape());
        gradWeightYxoi = Tensors.reuse(gradWeightYxoi, w.dataType(), w.shape());
        if (hasBias) {
            gradBias = Tensors.reuse(gradBias, w.dataType(), outChannels);
        }
        INDArray[] in = hasBias ? new INDArray[] {input, w, bias().data(), g} : new INDArray[] {input, w, g};
        INDArray[] out = hasBias ? new INDArray[] {gradInput, gradWeightYxoi, gradBias}
                : new INDArray[] {gradInput, gradWeightYxoi};
        Tensors.exec("deconv2d_bp", in, out, iArgs());
        weight().accumulate(gradWeightYxoi.permute(3, 2, 0, 1));
        if (hasBias) {
            bias().accumulate(gradBias);
        }
        return gradInput;
    }
}
