package io.hgkd.core.nn;

import java.util.Arrays;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.DynamicCustomOp;
import org.nd4j.linalg.factory.Nd4j;

/** Small tensor helpers shared by the layers: buffer reuse and libnd4j custom-op calls. */
public final class Tensors {
    private Tensors() {
    }

    /**
     * Returns {@code current} when it already has this type and shape (c order), else a new zeroed array. Modules
     * keep their outputs and scratch arrays this way so that a training step allocates nothing once warm.
     */
    public static INDArray reuse(INDArray current, DataType type, long... shape) {
        if (current != null && current.dataType() == type && current.ordering() == 'c'
                && Arrays.equals(current.shape(), shape)) {
            return current;
        }
        return Nd4j.create(type, shape, 'c');
    }

    /** Runs libnd4j custom op {@code name} with the given inputs, preallocated outputs and integer arguments. */
    public static void exec(String name, INDArray[] inputs, INDArray[] outputs, int... iArgs) {
        DynamicCustomOp op = DynamicCustomOp.builder(name)
                .addInputs(inputs)
                .addOutputs(outputs)
                .addIntegerArguments(iArgs)
                .build();
        Nd4j.exec(op);
    }

    /**
     * A dense c-order version of {@code x}: itself when its elements already lie densely in c order from its offset
     * (reshapes of dense arrays are "views" to ND4J but need no copy), else a copy.
     */
    public static INDArray contiguous(INDArray x) {
        return x.ordering() == 'c' && RowKernels.isDense(x) ? x : x.dup('c');
    }

    /** The shape as a string, for error messages. */
    public static String shape(INDArray x) {
        return Arrays.toString(x.shape());
    }

    /** Throws an {@link IllegalArgumentException} naming {@code what} unless {@code x} has rank {@code rank}. */
    public static void requireRank(INDArray x, int rank, String what) {
        if (x.rank() != rank) {
            throw new IllegalArgumentException(what + " expects a rank-" + rank + " input, got shape " + shape(x));
        }
    }

    /**
     * Broadcast-multiplies {@code x} (B, C, H, W) in place by a per-position mask {@code m} (B, 1, H, W).
     */
    public static INDArray mulMaskInPlace(INDArray x, INDArray m) {
        return x.muli(m);
    }
}
