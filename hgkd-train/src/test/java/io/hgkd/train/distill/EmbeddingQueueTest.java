package io.hgkd.train.distill;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Map;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** FIFO order, wrap-around, checkpoint state and seeded initialisation of the teacher-embedding queue. */
class EmbeddingQueueTest {
    /** Row i filled with value v + i. */
    private static INDArray rows(int b, int d, double v) {
        INDArray z = Nd4j.create(DataType.FLOAT, b, d);
        for (int i = 0; i < b; i++) {
            z.getRow(i).assign(v + i);
        }
        return z;
    }

    @Test
    void initialRowsAreUnitVectorsAndSeedsReproduce() {
        EmbeddingQueue a = new EmbeddingQueue(32, 5, 42);
        EmbeddingQueue b = new EmbeddingQueue(32, 5, 42);
        EmbeddingQueue c = new EmbeddingQueue(32, 5, 43);
        INDArray norms = a.queue().norm2(1);
        for (int i = 0; i < 32; i++) {
            assertEquals(1.0, norms.getDouble(i), 1e-6);
        }
        assertEquals(a.queue(), b.queue());
        assertNotEquals(a.queue(), c.queue());
        assertEquals(DataType.FLOAT, a.queue().dataType());
        assertEquals(0, a.pointer());
    }

    @Test
    void enqueueOverwritesOldestFirstAndWrapsAround() {
        EmbeddingQueue q = new EmbeddingQueue(5, 3, 1);
        INDArray init = q.queue().dup();
        q.enqueue(rows(2, 3, 10)); // rows 0, 1
        assertEquals(2, q.pointer());
        assertEquals(10.0, q.queue().getDouble(0, 0));
        assertEquals(11.0, q.queue().getDouble(1, 2));
        assertEquals(init.getRow(2), q.queue().getRow(2));
        q.enqueue(rows(2, 3, 20)); // rows 2, 3
        q.enqueue(rows(2, 3, 30)); // row 4, then wraps to row 0
        assertEquals(1, q.pointer());
        assertEquals(30.0, q.queue().getDouble(4, 1));
        assertEquals(31.0, q.queue().getDouble(0, 1));
        assertEquals(11.0, q.queue().getDouble(1, 0)); // the oldest survivor
        assertEquals(21.0, q.queue().getDouble(3, 0));
        q.enqueue(rows(5, 3, 40)); // a full-size batch replaces everything, starting at row 1
        assertEquals(1, q.pointer());
        assertEquals(40.0, q.queue().getDouble(1, 0));
        assertEquals(44.0, q.queue().getDouble(0, 0));
    }

    @Test
    void stateRoundTripAndValidation() {
        EmbeddingQueue q = new EmbeddingQueue(6, 4, 7);
        q.enqueue(rows(4, 4, 1));
        Map<String, INDArray> st = q.state();
        q.enqueue(rows(3, 4, 100)); // the exported state is a copy
        EmbeddingQueue r = new EmbeddingQueue(6, 4, 999);
        r.load(st);
        assertEquals(4, r.pointer());
        assertEquals(st.get(EmbeddingQueue.KEY_QUEUE), r.queue());
        assertEquals(1.0, r.queue().getDouble(0, 0));
        // restored and original continue identically
        EmbeddingQueue o = new EmbeddingQueue(6, 4, 7);
        o.enqueue(rows(4, 4, 1));
        o.enqueue(rows(3, 4, 5));
        r.enqueue(rows(3, 4, 5));
        assertEquals(o.queue(), r.queue());
        assertEquals(o.pointer(), r.pointer());

        assertThrows(IllegalArgumentException.class, () -> new EmbeddingQueue(5, 4, 0).load(st));
        assertThrows(IllegalArgumentException.class, () -> r.load(Map.of(EmbeddingQueue.KEY_QUEUE, st.get("queue"))));
        assertThrows(IllegalArgumentException.class, () -> r.load(Map.of(EmbeddingQueue.KEY_QUEUE,
                st.get("queue"), EmbeddingQueue.KEY_PTR, Nd4j.scalar(6L))));
        assertThrows(IllegalArgumentException.class, () -> r.enqueue(rows(7, 4, 0)));
        assertThrows(IllegalArgumentException.class, () -> r.enqueue(rows(2, 3, 0)));
    }
}
