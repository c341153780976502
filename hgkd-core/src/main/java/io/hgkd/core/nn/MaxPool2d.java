package io.hgkd.core.nn;

import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Max pooling over NCHW input, as {@code torch.nn.MaxPool2d(kernel, stride, padding)} (padding never wins the max).
 * The ResNet stem uses k3 s2 p1.
 */
public class MaxPool2d extends Module {
    private final int kernel;
    private final int stride;
    private final int padding;
    private INDArray input;
    private INDArray output;
    private INDArray gradInput;

    /** {@code MaxPool2d(kernel, stride, padding)}. */
    public MaxPool2d(int kernel, int stride, int padding) {
        if (kernel <= 0 || stride <= 0 || padding < 0 || padding * 2 > kernel) {
            throw new IllegalArgumentException("invalid MaxPool2d(kernel=" + kernel + ", stride=" + stride
                    + ", padding=" + padding + "): padding must be at most half the kernel");
        }
        this.kernel = kernel;
        this.stride = stride;
        this.padding = padding;
    }

    /** Output spatial size for input size {@code n} (floor mode). */
    public long outSize(long n) {
        return (n + 2L * padding - kernel) / stride + 1;
    }

    private int[] iArgs() {
        // kH, kW, sH, sW, pH, pW, dH, dW, same-mode 0, extra 0, data format 0 = NCHW
        return new int[] {kernel, kernel, stride, stride, padding, padding, 1, 1, 0, 0, 0};
    }

    @Override
    public INDArray forward(INDArray x) {
        Tensors.requireRank(x, 4, "MaxPool2d");
        input = Tensors.contiguous(x);
        output = Tensors.reuse(output, x.dataType(), x.size(0), x.size(1), outSize(x.size(2)), outSize(x.size(3)));
        Tensors.exec("maxpool2d", new INDArray[] {input}, new INDArray[] {output}, iArgs());
        return output;
    }

    @Override
    public INDArray backward(INDArray gradOutput) {
        gradInput = Tensors.reuse(gradInput, input.dataType(), input.shape());
        Tensors.exec("maxpool2d_bp", new INDArray[] {input, Tensors.contiguous(gradOutput)},
                new INDArray[] {gradInput}, iArgs());
        return gradInput;
    }
}
