package io.hgkd.models;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.hgkd.core.nn.Module;
import io.hgkd.core.testing.DetRandom;
import io.hgkd.core.testing.Fixtures;
import io.hgkd.core.testing.Parity;
import java.io.IOException;
import java.nio.file.Files;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The Java half of {@code tools/reference/make_resnet_fixtures.py}: the DetRandom weight rule by state-dict name,
 * DetRandom inputs and upstream gradients, key lists written by PyTorch, and comparison of possibly subsampled
 * reference tensors from {@code src-test-data/models}.
 */
public final class ModelFixtures {
    /** Tensors above this many elements are stored subsampled. */
    public static final long FULL_MAX = 4096;
    /** Subsampling step = n / SUB_TARGET. */
    public static final long SUB_TARGET = 2048;

    private ModelFixtures() {
    }

    /** The arrays of {@code src-test-data/models/<name>.npz}. */
    public static Fixtures.Case load(String name) {
        return new Fixtures.Case(name, Fixtures.load("models/" + name + ".npz"));
    }

    /** A key list written by the script: state-dict names in order with shapes (empty for scalars). */
    public static LinkedHashMap<String, long[]> keys(String file) {
        try {
            List<String> lines = Files.readAllLines(Fixtures.file("models/" + file).toPath());
            LinkedHashMap<String, long[]> out = new LinkedHashMap<>();
            for (String line : lines) {
                if (line.isBlank()) {
                    continue;
                }
                String[] p = line.trim().split(" ");
                long[] shape = p[1].equals("-") ? new long[0]
                        : Arrays.stream(p[1].split(",")).mapToLong(Long::parseLong).toArray();
                out.put(p[0], shape);
            }
            return out;
        } catch (IOException e) {
            throw new IllegalStateException("cannot read key list " + file, e);
        }
    }

    /** The DetRandom value of state entry {@code name} (the script's {@code det_value}); null for counters. */
    public static INDArray detValue(String name, long[] shape) {
        if (name.endsWith("num_batches_tracked")) {
            return null;
        }
        if (name.endsWith("running_mean")) {
            return DetRandom.uniform(name, 0, -0.1, 0.1, shape);
        }
        if (name.endsWith("running_var")) {
            return DetRandom.uniform(name, 0, 0.5, 1.5, shape);
        }
        if (name.startsWith("mask_tokens.") || name.contains(".mask_tokens.")) {
            return DetRandom.uniform(name, 0, -0.5, 0.5, shape);
        }
        if (name.endsWith("weight") && shape.length >= 2) {
            long fanIn = 1;
            for (int i = 1; i < shape.length; i++) {
                fanIn *= shape[i];
            }
            double b = Math.sqrt(3.0 / fanIn);
            return DetRandom.uniform(name, 0, -b, b, shape);
        }
        if (name.endsWith("weight")) {
            return DetRandom.uniform(name, 0, 0.5, 1.5, shape);
        }
        if (name.endsWith("bias")) {
            return DetRandom.uniform(name, 0, -0.1, 0.1, shape);
        }
        throw new IllegalArgumentException("no DetRandom rule for " + name);
    }

    /** A full state dict for the given key list, as PyTorch's {@code det_fill} leaves it (counters 0). */
    public static Map<String, INDArray> detState(Map<String, long[]> keys) {
        Map<String, INDArray> out = new LinkedHashMap<>();
        keys.forEach((k, shape) -> {
            INDArray v = detValue(k, shape);
            out.put(k, v != null ? v : Nd4j.scalar(DataType.LONG, 0L));
        });
        return out;
    }

    /** Fills every parameter and floating buffer of {@code m} by the DetRandom rule, in place. */
    public static void detFill(Module m) {
        m.stateDict().forEach((k, v) -> {
            INDArray d = detValue(k, v.shape());
            if (d != null) {
                v.assign(d.castTo(v.dataType()));
            }
        });
    }

    /** The script's {@code det_input}: U(-2, 2) named {@code <case>/x}. */
    public static INDArray input(String caseName, long... shape) {
        return DetRandom.uniform(caseName + "/x", 0, -2, 2, shape);
    }

    /** The script's {@code det_grad}: U(-1, 1) named {@code <case>/<key>}. */
    public static INDArray upstream(String caseName, String key, long... shape) {
        return DetRandom.uniform(caseName + "/" + key, 0, -1, 1, shape);
    }

    /** {@code actual} as the script stored it: itself when small, else its flattening with step n / 2048. */
    public static INDArray stored(INDArray actual) {
        long n = actual.length();
        if (n <= FULL_MAX) {
            return actual;
        }
        long step = n / SUB_TARGET;
        INDArray flat = actual.castTo(DataType.FLOAT).dup('c').reshape(n);
        long count = (n + step - 1) / step;
        float[] v = new float[(int) count];
        for (int i = 0; i < count; i++) {
            v[i] = flat.getFloat(i * step);
        }
        return Nd4j.create(v, new long[] {count}, DataType.FLOAT);
    }

    /**
     * Forward comparison of a (possibly subsampled) reference with {@link Parity}'s fp32 tolerances, the absolute
     * one taken relative to the tensor's scale: {@code atol = max(FWD_ATOL, FWD_RTOL * max|expected|)}. Deep
     * networks compute near-zero outputs by cancellation of terms of the tensor's magnitude, so their absolute error
     * scales with it (the references are exact float64 results rounded to float32).
     */
    public static void forward(Fixtures.Case c, String key, INDArray actual) {
        compare(c, key, actual, Parity.FWD_RTOL, Parity.FWD_ATOL);
    }

    /** Gradient comparison, as {@link #forward} with {@code GRAD_RTOL} and {@code GRAD_ATOL}. */
    public static void gradient(Fixtures.Case c, String key, INDArray actual) {
        compare(c, key, actual, Parity.GRAD_RTOL, Parity.GRAD_ATOL);
    }

    private static void compare(Fixtures.Case c, String key, INDArray actual, double rtol, double atol) {
        INDArray expected = c.get(key);
        INDArray a = stored(actual);
        assertEquals(expected.length(), a.length(), c.name() + "/" + key + ": stored element count");
        double scale = expected.amaxNumber().doubleValue();
        Parity.assertClose(c.name(), key, expected, a.reshape(expected.shape()), rtol, Math.max(atol, rtol * scale));
    }
}
