package io.hgkd.train.distill;

import io.hgkd.core.nn.RowKernels;
import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;
import java.util.Arrays;
import java.util.function.IntConsumer;
import java.util.stream.IntStream;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Moves loss tensors between ND4J arrays and reusable Java {@code double[]} arrays, where the losses of this package
 * do their arithmetic (in double, whatever the tensor type: FLOAT for training, DOUBLE for gradient checks). Dense
 * FLOAT and DOUBLE arrays are copied straight from and to their direct buffers; no ND4J array is allocated per call.
 */
final class Host {
    private Host() {
    }

    /** The elements of {@code x} in c-order, in {@code reuse} when it has exactly the right length. */
    static double[] read(INDArray x, double[] reuse) {
        int n = Math.toIntExact(x.length());
        double[] out = reuse != null && reuse.length == n ? reuse : new double[n];
        if (!RowKernels.isDense(x)) {
            x = x.dup('c');
        }
        if (x.dataType() == DataType.FLOAT) {
            FloatBuffer b = RowKernels.floats(x);
            for (int i = 0; i < n; i++) {
                out[i] = b.get(i);
            }
        } else if (x.dataType() == DataType.DOUBLE) {
            RowKernels.doubles(x).get(out);
        } else {
            System.arraycopy(x.castTo(DataType.DOUBLE).data().asDouble(), 0, out, 0, n);
        }
        return out;
    }

    /**
     * {@code out = scale * values}, with {@code out} reused when it has the given shape and type (else a new dense
     * array of them); returns {@code out}.
     */
    static INDArray write(double[] values, double scale, INDArray out, long[] shape, DataType type) {
        if (out == null || out.dataType() != type || !Arrays.equals(out.shape(), shape) || !RowKernels.isDense(out)) {
            out = Nd4j.createUninitialized(type, shape, 'c');
        }
        int n = values.length;
        if (type == DataType.FLOAT) {
            FloatBuffer b = RowKernels.floats(out);
            for (int i = 0; i < n; i++) {
                b.put(i, (float) (scale * values[i]));
            }
        } else if (type == DataType.DOUBLE) {
            DoubleBuffer b = RowKernels.doubles(out);
            for (int i = 0; i < n; i++) {
                b.put(i, scale * values[i]);
            }
        } else {
            double[] v = values.clone();
            for (int i = 0; i < n; i++) {
                v[i] *= scale;
            }
            out.assign(Nd4j.create(v, shape, DataType.DOUBLE).castTo(type));
        }
        return out;
    }

    /** Runs {@code body} for {@code 0 .. n-1} on the common fork-join pool (rows are independent). */
    static void parallel(int n, IntConsumer body) {
        IntStream.range(0, n).parallel().forEach(body);
    }
}
