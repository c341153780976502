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
 */
final class Fused {
    /** Elements per chunk: large enough to amortise the scheduling, small enough to balance two to eight threads. */
    static final int CHUNK = 1 << 15;

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
        double s = 0;
        for (int i = from; i < to; i++) {
            double v = x.get(i);
            s += v * v;
        }
        return s;
    }

    /** {@code x[from, to) *= f} in float32. */
    static void scale(FloatBuffer x, int from, int to, float f) {
        for (int i = from; i < to; i++) {
            x.put(i, x.get(i) * f);
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
