package io.hgkd.train.distill;

import io.hgkd.core.nn.Tensors;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * The FIFO memory queue of past teacher embeddings Q (K x D) used by {@link SimilarityLoss} (method.md §1.3 (f),
 * §5 q16). It starts as K random unit vectors (MoCo's convention) drawn from {@code java.util.Random(seed)}, so a seed
 * gives the same queue on every platform. {@link #enqueue} overwrites the oldest rows, wrapping around the end.
 *
 * <p>Checkpoint state is {@link #state()}: {@code queue} (K, D) and {@code ptr} (a scalar LONG, the next row to
 * write). Not thread-safe.
 */
public final class EmbeddingQueue {
    /** State key of the (K, D) queue. */
    public static final String KEY_QUEUE = "queue";
    /** State key of the write pointer. */
    public static final String KEY_PTR = "ptr";

    private final INDArray queue;
    private int ptr;

    /**
     * A queue of {@code size} random unit vectors of width {@code dim}.
     *
     * @param type FLOAT for training; DOUBLE for gradient checks
     */
    public EmbeddingQueue(int size, int dim, long seed, DataType type) {
        if (size < 1 || dim < 1) {
            throw new IllegalArgumentException("EmbeddingQueue size and dim must be positive, got K=" + size
                    + ", D=" + dim);
        }
        if (!type.isFPType()) {
            throw new IllegalArgumentException("EmbeddingQueue needs a floating-point type, got " + type);
        }
        Random r = new Random(seed);
        double[] v = new double[size * dim];
        for (int k = 0; k < size; k++) {
            double ss = 0;
            for (int c = 0; c < dim; c++) {
                double x = r.nextGaussian();
                v[k * dim + c] = x;
                ss += x * x;
            }
            double inv = 1 / Math.sqrt(ss);
            for (int c = 0; c < dim; c++) {
                v[k * dim + c] *= inv;
            }
        }
        INDArray q = Nd4j.create(v, new long[] {size, dim}, DataType.DOUBLE);
        this.queue = type == DataType.DOUBLE ? q : q.castTo(type);
        this.ptr = 0;
    }

    /** A FLOAT queue. */
    public EmbeddingQueue(int size, int dim, long seed) {
        this(size, dim, seed, DataType.FLOAT);
    }

    /**
     * A queue holding exactly {@code rows} (copied), writing next at {@code ptr}: for tests and restores.
     */
    public static EmbeddingQueue of(INDArray rows, int ptr) {
        Tensors.requireRank(rows, 2, "EmbeddingQueue");
        EmbeddingQueue q = new EmbeddingQueue((int) rows.size(0), (int) rows.size(1), 0L, rows.dataType());
        q.load(Map.of(KEY_QUEUE, rows, KEY_PTR, Nd4j.scalar((long) ptr)));
        return q;
    }

    /** K. */
    public int size() {
        return (int) queue.size(0);
    }

    /** D. */
    public int dim() {
        return (int) queue.size(1);
    }

    /** The next row {@link #enqueue} writes. */
    public int pointer() {
        return ptr;
    }

    /** The live (K, D) queue: read it, do not modify it. */
    public INDArray queue() {
        return queue;
    }

    /**
     * Appends a batch of (detached) embeddings, overwriting the oldest rows; row {@code i} goes to
     * {@code (ptr + i) mod K}.
     *
     * @param z (B, D) with B &lt;= K; copied and cast to the queue's type
     */
    public void enqueue(INDArray z) {
        Tensors.requireRank(z, 2, "EmbeddingQueue.enqueue");
        if (z.size(1) != dim()) {
            throw new IllegalArgumentException("EmbeddingQueue.enqueue: embeddings " + Tensors.shape(z)
                    + " do not match the queue width D=" + dim());
        }
        int b = (int) z.size(0);
        int k = size();
        if (b > k) {
            throw new IllegalArgumentException("EmbeddingQueue.enqueue: batch of " + b + " is larger than the queue (K="
                    + k + ")");
        }
        INDArray src = z.dataType() == queue.dataType() ? z : z.castTo(queue.dataType());
        int first = Math.min(b, k - ptr);
        queue.get(NDArrayIndex.interval(ptr, ptr + first), NDArrayIndex.all())
                .assign(src.get(NDArrayIndex.interval(0, first), NDArrayIndex.all()));
        if (first < b) {
            queue.get(NDArrayIndex.interval(0, b - first), NDArrayIndex.all())
                    .assign(src.get(NDArrayIndex.interval(first, b), NDArrayIndex.all()));
        }
        ptr = (ptr + b) % k;
    }

    /** A copy of the state for a checkpoint: {@value #KEY_QUEUE} (K, D) and {@value #KEY_PTR} (LONG scalar). */
    public Map<String, INDArray> state() {
        Map<String, INDArray> m = new LinkedHashMap<>();
        m.put(KEY_QUEUE, queue.dup());
        m.put(KEY_PTR, Nd4j.scalar((long) ptr));
        return m;
    }

    /** Restores {@link #state()}; the shapes must match this queue's. */
    public void load(Map<String, INDArray> state) {
        INDArray q = state.get(KEY_QUEUE);
        INDArray p = state.get(KEY_PTR);
        if (q == null || p == null) {
            throw new IllegalArgumentException("EmbeddingQueue state needs keys '" + KEY_QUEUE + "' and '" + KEY_PTR
                    + "', got " + state.keySet());
        }
        if (q.rank() != 2 || q.size(0) != size() || q.size(1) != dim()) {
            throw new IllegalArgumentException("EmbeddingQueue state queue " + Tensors.shape(q) + " does not match ("
                    + size() + ", " + dim() + ")");
        }
        long pv = p.getLong(0);
        if (pv < 0 || pv >= size()) {
            throw new IllegalArgumentException("EmbeddingQueue state ptr " + pv + " outside [0, " + size() + ")");
        }
        queue.assign(q.castTo(queue.dataType()));
        ptr = (int) pv;
    }
}
