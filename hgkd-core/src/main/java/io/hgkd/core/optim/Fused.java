package io.hgkd.core.optim;

import io.hgkd.core.nn.RowKernels;
import java.nio.FloatBuffer;
import java.util.List;
import java.util.function.IntConsumer;
import java.util.stream.IntStream;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Support for the optimizers' fused update loops: one Java pass per element over the direct buffers of a parameter,
 * its gradient and its state, split into fixed chunks that run in parallel. One pass reads and writes each value once,
 * where a chain of ND4J ops makes about ten passes with scratch buffers in between.
 *
 * <p>Each element is computed with the same float32 operations, in the same order, as the ND4J op chain the loops
 * replace (Java float arithmetic is IEEE without fused multiply-adds), so the results do not depend on the chunking
 * or the thread count. Reductions sum per chunk in double and add the chunk sums in chunk order: deterministic too.
 *
 * <p>The loops copy {@link #BLOCK} elements at a time into {@code float[]} work arrays with bulk buffer reads, update
 * them there and copy the results back: element-wise {@code FloatBuffer.get/put} does not vectorise, loops over plain
 * arrays do (AdamW's update ran about 3x faster per element this way).
 */
final class Fused {
    /** Elements per chunk: large enough to amortise the scheduling, small enough to balance two to eight threads. */
    static final int CHUNK = 1 << 15;

    /** Elements per block of the work arrays: four blocks (64 KiB) stay in the L2 cache. */
    static final int BLOCK = 1 << 12;

    private static final ThreadLocal<float[][]> WORK = ThreadLocal.withInitial(() -> new float[4][BLOCK]);

    /** Elements {@code [from, to)} of slot {@code slot}. */
    record Span(int slot, int from, int to) {
    }

    private Fused() {
    }

    /**
     * The elements of {@code a} as a buffer indexed from 0, or null when {@code a} is not a FLOAT array in dense
     * c-order (then the caller takes its ND4J path).
     */
    static FloatBuffer floats(INDArray a) {
        if (a == null || a.dataType() != DataType.FLOAT || a.offset() + a.length() > Integer.MAX_VALUE
                || !RowKernels.isDense(a)) {
            return null;
        }
        return RowKernels.floats(a);
    }

    /** This thread's four work arrays of {@link #BLOCK} floats. */
    static float[][] work() {
        return WORK.get();
    }

    /** Appends the chunks of a slot of {@code length} elements to {@code out}. */
    static void split(int slot, long length, List<Span> out) {
        for (long from = 0; from < length; from += CHUNK) {
            out.add(new Span(slot, (int) from, (int) Math.min(length, from + CHUNK)));
        }
    }

    /** Runs {@code body} for indices {@code 0 .. n-1} on the common fork-join pool (the caller helps). */
    static void parallel(int n, IntConsumer body) {
        if (n == 1) {
            body.accept(0);
        } else if (n > 1) {
            IntStream.range(0, n).parallel().forEach(body);
        }
    }

    /** Sum of squares of {@code x[from, to)} in double. */
    static double sumSquares(FloatBuffer x, int from, int to) {
        float[] a = work()[0];
        double s = 0;
        for (int o = from; o < to; o += BLOCK) {
            int n = Math.min(BLOCK, to - o);
            x.get(o, a, 0, n);
            s += RowKernels.dot(a, a, n); // four interleaved partial sums in a fixed order: deterministic
        }
        return s;
    }

    /** {@code x[from, to) *= f} in float32. */
    static void scale(FloatBuffer x, int from, int to, float f) {
        float[] a = work()[0];
        for (int o = from; o < to; o += BLOCK) {
            int n = Math.min(BLOCK, to - o);
            x.get(o, a, 0, n);
            for (int i = 0; i < n; i++) {
                a[i] *= f;
            }
            x.put(o, a, 0, n);
        }
    }

    /** Deterministic sum of squares of all of {@code x}, in parallel chunks. */
    static double sumSquares(FloatBuffer x) {
        int n = x.capacity();
        int chunks = (n + CHUNK - 1) / CHUNK;
        double[] part = new double[chunks];
        parallel(chunks, c -> part[c] = sumSquares(x, c * CHUNK, Math.min(n, (c + 1) * CHUNK)));
        double s = 0;
        for (double p : part) {
            s += p;
        }
        return s;
    }
}
