package io.hgkd.train.distill;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * A loss gradient computed on the host in double precision, with the shape and type of the prediction it belongs
 * to; the losses of this package keep one from their last forward for {@code backward(upstream)}.
 */
final class HostGradient {
    private final double[] values;
    private final long[] shape;
    private final DataType type;

    HostGradient(double[] values, INDArray like) {
        this.values = values;
        this.shape = like.shape();
        this.type = like.dataType();
    }

    /** {@code upstream} times the gradient, as a new array of the prediction's shape and type. */
    INDArray scaled(double upstream) {
        INDArray out = Nd4j.create(values, shape, DataType.DOUBLE);
        if (upstream != 1.0) {
            out.muli(upstream);
        }
        return type == DataType.DOUBLE ? out : out.castTo(type);
    }
}
