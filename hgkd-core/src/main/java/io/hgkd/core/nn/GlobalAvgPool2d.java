package io.hgkd.core.nn;

import java.util.Arrays;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/** Global average pooling (B, C, H, W) to (B, C), as timm's {@code SelectAdaptivePool2d(pool_type='avg', flatten=True)}. */
public class GlobalAvgPool2d extends Module {
    private long[] inShape;
    private DataType inType;
    private INDArray gradInput;

    @Override
    public INDArray forward(INDArray x) {
        Tensors.requireRank(x, 4, "GlobalAvgPool2d");
        inShape = x.shape();
        inType = x.dataType();
        return x.mean(2, 3);
    }

    @Override
    public INDArray backward(INDArray gradOutput) {
        if (inShape == null) {
            throw new IllegalStateException("GlobalAvgPool2d.backward called before forward");
        }
        int rows = Math.toIntExact(inShape[0] * inShape[1]);
        int plane = Math.toIntExact(inShape[2] * inShape[3]);
        if (gradOutput.length() != rows) {
            throw new IllegalArgumentException("GlobalAvgPool2d.backward expects " + inShape[0] + "x" + inShape[1]
                    + " gradients, got shape " + Tensors.shape(gradOutput));
        }
        // each gradient spread evenly over its plane, written row by row into a reused buffer (ND4J's broadcast
        // of the (B, C, 1, 1) gradient was about 1% of a ResNet-50 fine-tuning step)
        double[] g = RowKernels.toDoubles(Tensors.contiguous(gradOutput));
        gradInput = Tensors.reuse(gradInput, inType, inShape);
        RowKernels.Buf out = new RowKernels.Buf(gradInput);
        double[] row = new double[plane];
        float[] tmp = out.tmp(plane);
        double scale = 1.0 / plane;
        for (int r = 0; r < rows; r++) {
            Arrays.fill(row, g[r] * scale);
            out.store((long) r * plane, row, 0, plane, tmp);
        }
        return gradInput;
    }
}
