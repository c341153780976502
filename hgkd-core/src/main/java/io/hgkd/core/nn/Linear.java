package io.hgkd.core.nn;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Fully connected layer {@code y = x W^T + b} over the last dimension, as {@code torch.nn.Linear}: weight
 * {@code [out, in]}. Any leading dimensions are flattened into rows; the products run through {@link Gemm#gemm}
 * into preallocated arrays and the weight gradient accumulates inside the GEMM (beta = 1); the bias is added and its
 * gradient summed by {@link RowKernels} (an ND4J broadcast, or a ones-row GEMM, cost as much as the product here).
 */
public class Linear extends Module {
    private final int inFeatures;
    private final int outFeatures;
    private final boolean hasBias;

    private INDArray input2d;
    private long[] inShape;
    private INDArray output;
    private INDArray gradInput;

    /** {@code Linear(in, out)} with bias. */
    public Linear(int inFeatures, int outFeatures) {
        this(inFeatures, outFeatures, true);
    }

    /** {@code Linear(in, out, bias)}, PyTorch default initialisation. */
    public Linear(int inFeatures, int outFeatures, boolean bias) {
        if (inFeatures <= 0 || outFeatures <= 0) {
            throw new IllegalArgumentException("invalid Linear(" + inFeatures + ", " + outFeatures + ")");
        }
        this.inFeatures = inFeatures;
        this.outFeatures = outFeatures;
        this.hasBias = bias;
        INDArray w = Nd4j.create(DataType.FLOAT, outFeatures, inFeatures);
        registerParameter("weight", w, false);
        Init.pytorchDefault(w, Init.defaultRandom());
        if (bias) {
            INDArray b = Nd4j.create(DataType.FLOAT, outFeatures);
            registerParameter("bias", b, true);
            Init.pytorchDefaultBias(b, inFeatures, Init.defaultRandom());
        }
    }

    public Parameter weight() {
        return param("weight");
    }

    public Parameter bias() {
        return hasBias ? param("bias") : null;
    }

    public int inFeatures() {
        return inFeatures;
    }

    public int outFeatures() {
        return outFeatures;
    }

    @Override
    public INDArray forward(INDArray x) {
        if (x.rank() < 1 || x.size(x.rank() - 1) != inFeatures) {
            throw new IllegalArgumentException("Linear(" + inFeatures + ", " + outFeatures + ") got input of shape "
                    + Tensors.shape(x));
        }
        inShape = x.shape();
        long rows = x.length() / inFeatures;
        input2d = Tensors.contiguous(x).reshape('c', rows, inFeatures);
        output = Tensors.reuse(output, x.dataType(), rows, outFeatures);
        Gemm.gemm(input2d, weight().data(), output, false, true, 1.0, 0.0);
        if (hasBias) {
            RowKernels.addRowVector(output, bias().data());
        }
        long[] outShape = inShape.clone();
        outShape[outShape.length - 1] = outFeatures;
        return output.reshape(outShape);
    }

    @Override
    public INDArray backward(INDArray gradOutput) {
        long rows = input2d.size(0);
        INDArray g = Tensors.contiguous(gradOutput).reshape('c', rows, outFeatures);
        if (weight().requiresGrad()) {
            double beta = weight().gradBeta();
            Gemm.gemm(g, input2d, weight().grad(), true, false, 1.0, beta);
        }
        if (hasBias && bias().requiresGrad()) {
            RowKernels.addColumnSums(g, bias().grad());
        }
        gradInput = Tensors.reuse(gradInput, g.dataType(), rows, inFeatures);
        Gemm.gemm(g, weight().data(), gradInput, false, false, 1.0, 0.0);
        return gradInput.reshape(inShape);
    }
}
