package io.hgkd.models.vit;

import java.util.Arrays;
import java.util.function.Function;
import org.nd4j.linalg.api.buffer.DataBuffer;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Per-(sample, head) views of a buffer, built once while the underlying storage, offset and shape stay the same.
 * Creating an ND4J view costs tens of microseconds and attention needs several per (sample, head) per step, so the
 * GEMM loops reuse them. Keyed by storage rather than by array object because layers return fresh reshaped views of
 * the same reused buffer on every call.
 */
final class ViewCache {
    private DataBuffer data;
    private long offset;
    private long[] shape;
    private INDArray[] views;

    INDArray[] get(INDArray a, Function<INDArray, INDArray[]> build) {
        if (views == null || a.data() != data || a.offset() != offset || !Arrays.equals(a.shape(), shape)) {
            views = build.apply(a);
            data = a.data();
            offset = a.offset();
            shape = a.shape();
        }
        return views;
    }

    /** The 2-D slices {@code a.slice(i)} of a contiguous 3-D array. */
    static INDArray[] slices(INDArray a) {
        INDArray[] v = new INDArray[(int) a.size(0)];
        for (int i = 0; i < v.length; i++) {
            v[i] = a.slice(i);
        }
        return v;
    }
}
