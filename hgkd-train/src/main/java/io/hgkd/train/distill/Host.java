package io.hgkd.train.distill;

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
        if (!denseC(x)) {
            x = x.dup('c');
        }
        if (x.dataType() == DataType.FLOAT) {
            FloatBuffer b = floats(x);
            for (int i = 0; i < n; i++) {
                out[i] = b.get(i);
            }
        } else if (x.dataType() == DataType.DOUBLE) {
            doubles(x).get(out);
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
        if (out == null || out.dataType() != type || !Arrays.equals(out.shape(), shape) || !denseC(out)) {
            out = Nd4j.createUninitialized(type, shape, 'c');
        }
        int n = values.length;
        if (type == DataType.FLOAT) {
            FloatBuffer b = floats(out);
            for (int i = 0; i < n; i++) {
                b.put(i, (float) (scale * values[i]));
            }
        } else if (type == DataType.DOUBLE) {
            DoubleBuffer b = doubles(out);
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

    private static FloatBuffer floats(INDArray a) {
        FloatBuffer b = a.data().asNioFloat().duplicate();
        b.limit(Math.toIntExact(a.offset() + a.length())).position((int) a.offset());
        return b.slice();
    }

    private static DoubleBuffer doubles(INDArray a) {
        DoubleBuffer b = a.data().asNioDouble().duplicate();
        b.limit(Math.toIntExact(a.offset() + a.length())).position((int) a.offset());
        return b.slice();
    }

    /** Whether the elements of {@code a} lie in c-order without gaps (the stride of a size-1 dimension is free). */
    private static boolean denseC(INDArray a) {
        long expected = 1;
        for (int d = a.rank() - 1; d >= 0; d--) {
            if (a.size(d) != 1) {
                if (a.stride(d) != expected) {
                    return false;
                }
                expected *= a.size(d);
            }
        }
        return true;
    }
}
