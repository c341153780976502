package io.hgkd.core.nn;

import org.nd4j.linalg.api.ndarray.INDArray;

/** Global average pooling (B, C, H, W) to (B, C), as timm's {@code SelectAdaptivePool2d(pool_type='avg', flatten=True)}. */
public class GlobalAvgPool2d extends Module {
    private long[] inShape;

    @Override
    public INDArray forward(INDArray x) {
        Tensors.requireRank(x, 4, "GlobalAvgPool2d");
        inShape = x.shape();
        return x.mean(2, 3);
    }

    @Override
    public INDArray backward(INDArray gradOutput) {
        double scale = 1.0 / (inShape[2] * inShape[3]);
        INDArray g = gradOutput.reshape(inShape[0], inShape[1], 1, 1).mul(scale);
        return g.broadcast(inShape).dup('c');
    }
}
