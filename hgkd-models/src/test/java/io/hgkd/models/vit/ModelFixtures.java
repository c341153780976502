package io.hgkd.models.vit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hgkd.core.nn.Module;
import io.hgkd.core.nn.Parameter;
import io.hgkd.core.testing.DetRandom;
import io.hgkd.core.testing.Fixtures;
import io.hgkd.core.testing.Parity;
import io.hgkd.core.testing.TestData;
import java.util.Map;
import java.util.TreeSet;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Loads {@code src-test-data/models} fixtures (tools/reference/make_vit_fixtures.py) and regenerates their DetRandom
 * weights by parameter name.
 */
public final class ModelFixtures {
    private ModelFixtures() {
    }

    /** The case {@code src-test-data/models/<name>.npz}. */
    public static Fixtures.Case load(String name) {
        return new Fixtures.Case(name, Fixtures.load("models/" + name + ".npz"));
    }

    /**
     * Sets every trainable parameter of {@code m} to the DetRandom tensor the fixture describes ({@code range.<key>},
     * {@code salt}) and checks every fixed one against {@code fixed.<key>} when the fixture has it. Fails when a
     * trainable parameter has no range (it would keep its Java initialisation) or the fixture names an unknown key.
     */
    public static void detInit(Module m, Fixtures.Case c) {
        long salt = c.get("salt").getLong(0);
        Map<String, Parameter> params = m.namedParameters();
        for (Map.Entry<String, Parameter> e : params.entrySet()) {
            String key = e.getKey();
            Parameter p = e.getValue();
            if (p.requiresGrad()) {
                assertTrue(c.has("range." + key), c.name() + ": fixture has no weights for trainable " + key);
                INDArray r = c.get("range." + key);
                p.set(DetRandom.uniform(key, salt, r.getDouble(0), r.getDouble(1), p.data().shape()));
            } else if (c.has("fixed." + key)) {
                Parity.forward(c.name(), "fixed." + key, c.get("fixed." + key), p.data());
            }
        }
        for (String k : c.arrays().keySet()) {
            if (k.startsWith("range.")) {
                assertNotNull(params.get(k.substring(6)), c.name() + ": the model has no parameter " + k.substring(6));
            }
        }
    }

    /**
     * Compares every {@code grad.<key>} of the fixture with the accumulated gradients, and checks that the trainable
     * parameters are exactly the ones PyTorch has gradients for.
     */
    public static void compareGrads(Module m, Fixtures.Case c) {
        Map<String, Parameter> params = m.namedParameters();
        TreeSet<String> expected = new TreeSet<>();
        c.arrays().keySet().stream().filter(k -> k.startsWith("grad.")).forEach(k -> expected.add(k.substring(5)));
        TreeSet<String> trainable = new TreeSet<>();
        params.forEach((k, p) -> {
            if (p.requiresGrad()) {
                trainable.add(k);
            }
        });
        assertEquals(expected, trainable, c.name() + ": trainable parameters differ from PyTorch's");
        for (String k : expected) {
            Parity.gradient(c.name(), "grad." + k, c.get("grad." + k), params.get(k).grad());
        }
    }

    /**
     * Random parameters for finite-difference checks, so that biases, norm affines and tokens are all exercised:
     * norm weights 1 + 0.2 N(0,1), other rank-1 and token tensors 0.3 N(0,1), weights N(0, 1/fan_in).
     */
    public static void randomize(Module m, long seed) {
        long s = seed;
        for (Map.Entry<String, Parameter> e : m.namedParameters().entrySet()) {
            INDArray d = e.getValue().data();
            INDArray r = TestData.randn(s++, d.shape());
            String key = e.getKey();
            boolean normWeight = key.endsWith("weight") && key.substring(0, key.lastIndexOf('.')).contains("norm");
            if (normWeight) {
                r.muli(0.2).addi(1.0);
            } else if (d.rank() >= 2 && !key.endsWith("token") && !key.endsWith("pos_embed")) {
                r.muli(1.0 / Math.sqrt(d.length() / d.size(0)));
            } else {
                r.muli(0.3);
            }
            d.assign(r.castTo(d.dataType()));
        }
    }

    /** A FLOAT copy of {@code a} (fixtures hold FLOAT; a DOUBLE model compares in DOUBLE). */
    public static INDArray f32(INDArray a) {
        return a.castTo(DataType.FLOAT);
    }
}
