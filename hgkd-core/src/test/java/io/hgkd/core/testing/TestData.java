package io.hgkd.core.testing;

import java.util.Random;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** Seeded test tensors drawn on the host, independent of ND4J's global random state. */
public final class TestData {
    private TestData() {
    }

    /** Standard normal values in DOUBLE. */
    public static INDArray randn(long seed, long... shape) {
        Random r = new Random(seed);
        INDArray a = Nd4j.create(DataType.DOUBLE, shape);
        for (long i = 0; i < a.length(); i++) {
            a.putScalar(i, r.nextGaussian());
        }
        return a;
    }
}
