package io.hgkd.core.nn;

import org.nd4j.linalg.api.ndarray.INDArray;

/** Nearest-neighbour upsampling by an integer factor, as {@code F.interpolate(scale_factor=s, mode='nearest')}. */
public class UpsampleNearest2d extends Module {
    private final int scale;
    private long[] inShape;

    /** @param scale integer factor applied to H and W */
    public UpsampleNearest2d(int scale) {
        if (scale <= 0) {
            throw new IllegalArgumentException("UpsampleNearest2d scale must be positive, got " + scale);
        }
        this.scale = scale;
    }

    @Override
    public INDArray forward(INDArray x) {
        Tensors.requireRank(x, 4, "UpsampleNearest2d");
        inShape = x.shape();
        return upsample(x, scale);
    }

    /** Nearest upsampling of an NCHW array by {@code s} (a new c-order array). */
    public static INDArray upsample(INDArray x, int s) {
        long b = x.size(0), c = x.size(1), h = x.size(2), w = x.size(3);
        INDArray src = Tensors.contiguous(x).reshape('c', b, c, h, 1, w, 1);
        return src.broadcast(b, c, h, s, w, s).dup('c').reshape('c', b, c, h * s, w * s);
    }

    @Override
    public INDArray backward(INDArray gradOutput) {
        long b = inShape[0], c = inShape[1], h = inShape[2], w = inShape[3];
        return Tensors.contiguous(gradOutput).reshape('c', b, c, h, scale, w, scale).sum(3, 5);
    }
}
