package io.hgkd.core.testing;

import java.nio.charset.StandardCharsets;
import java.util.zip.CRC32;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Deterministic pseudo-random tensors that Java and {@code tools/reference/detrandom.py} generate bit-identically,
 * so large reference models (ResNet-50, ViT-B) need no committed weights: only inputs and outputs are fixtures.
 *
 * <p>Element i of the tensor named {@code name} is {@code low + (high - low) * u}, where u is the upper 53 bits of
 * SplitMix64 at counter {@code i + 1} with seed {@code crc32(name) + salt}, as a double in [0, 1), rounded to float.
 */
public final class DetRandom {
    private static final long GOLDEN = 0x9E3779B97F4A7C15L;

    private DetRandom() {
    }

    /** The seed of a tensor name. */
    public static long seed(String name, long salt) {
        CRC32 crc = new CRC32();
        crc.update(name.getBytes(StandardCharsets.UTF_8));
        return crc.getValue() + salt;
    }

    /** Uniform values in [low, high) as FLOAT with the given shape. */
    public static INDArray uniform(String name, long salt, double low, double high, long... shape) {
        long seed = seed(name, salt);
        long n = 1;
        for (long s : shape) {
            n *= s;
        }
        float[] v = new float[Math.toIntExact(n)];
        for (int i = 0; i < v.length; i++) {
            long z = seed + (i + 1L) * GOLDEN;
            z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
            z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
            z = z ^ (z >>> 31);
            double u = (z >>> 11) * 0x1.0p-53;
            v[i] = (float) (low + (high - low) * u);
        }
        return Nd4j.create(v, shape, DataType.FLOAT);
    }
}
