package io.hgkd.train.checkpoint;

import com.fasterxml.jackson.databind.JsonNode;
import io.hgkd.core.nn.BatchNorm2d;
import io.hgkd.core.nn.Conv2d;
import io.hgkd.core.nn.Module;
import io.hgkd.core.nn.Sequential;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** Shared helpers of the checkpoint tests (also used by the child JVM of the kill test). */
final class Fixtures {
    private Fixtures() {
    }

    /** Conv2d + BatchNorm2d: parameters, float buffers and BN's INT64 counter. */
    static Module smallModel() {
        return new Sequential(new Conv2d(2, 4, 3, 1, 1, true), new BatchNorm2d(4));
    }

    /** A FLOAT array of {@code shape} filled from {@code new Random(salt)}: the same in every JVM. */
    static INDArray values(long salt, long... shape) {
        Random r = new Random(salt);
        float[] v = new float[(int) Arrays.stream(shape).reduce(1, (a, b) -> a * b)];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) r.nextGaussian();
        }
        return Nd4j.create(v, shape, 'c');
    }

    /** A state dict shaped like {@code m}'s with {@link #values} in every floating tensor. */
    static Map<String, INDArray> deterministicState(Module m, long salt) {
        Map<String, INDArray> out = new LinkedHashMap<>();
        long s = salt;
        for (Map.Entry<String, INDArray> e : m.stateDict().entrySet()) {
            INDArray a = e.getValue();
            out.put(e.getKey(), a.dataType().isFPType() ? values(s++, a.shape()).castTo(a.dataType())
                    : Nd4j.scalar(DataType.INT64, 7L).reshape(a.shape()));
        }
        return out;
    }

    /** The raw contents, bit for bit (INDArray.equals has a tolerance). */
    static boolean bitEqual(INDArray a, INDArray b) {
        if (a.dataType() != b.dataType() || !Arrays.equals(a.shape(), b.shape())) {
            return false;
        }
        INDArray x = a.dup('c');
        INDArray y = b.dup('c');
        return switch (a.dataType()) {
            case FLOAT -> Arrays.equals(x.data().asFloat(), y.data().asFloat());
            case DOUBLE -> Arrays.equals(x.data().asDouble(), y.data().asDouble());
            default -> Arrays.equals(x.data().asLong(), y.data().asLong());
        };
    }

    /** Whether two tensor maps have the same keys (in order) and bit-equal values. */
    static boolean bitEqual(Map<String, INDArray> a, Map<String, INDArray> b) {
        if (!new java.util.ArrayList<>(a.keySet()).equals(new java.util.ArrayList<>(b.keySet()))) {
            return false;
        }
        return a.keySet().stream().allMatch(k -> bitEqual(a.get(k), b.get(k)));
    }

    static JsonNode json(String text) {
        try {
            return Checkpoint.JSON.readTree(text);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** A state for step {@code step} with {@code metric}. */
    static TrainingState state(long step, Double metric) {
        return TrainingState.of("distill", step / 10, step % 10, step, metric == null ? null : "val_top1", metric,
                metric, Map.of("data", Long.toString(1234L + step)), 1.5 * step,
                json("{\"optim\":{\"lr\":0.001},\"epochs\":10}"));
    }
}
