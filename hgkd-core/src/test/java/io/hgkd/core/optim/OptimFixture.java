package io.hgkd.core.optim;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.ToIntFunction;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.NDArrayIndex;
import io.hgkd.core.nn.Parameter;
import io.hgkd.core.testing.Fixtures;

/**
 * One optimizer case of {@code src-test-data/optim} (written by {@code tools/reference/make_optim_fixtures.py}): the
 * tiny model's parameters, the gradient sequence, the per-step base lr/wd, and the reference trajectory.
 */
final class OptimFixture {
    /** Tolerances for float32 parity with PyTorch: relative 1e-6, plus 1e-7 absolute for entries near 0. */
    static final double RTOL = 1e-6;
    static final double ATOL = 1e-7;

    final String name;
    final Fixtures.Case arrays;
    final JsonNode config;
    final List<String> paramNames = new ArrayList<>();
    final List<String> frozen = new ArrayList<>();
    final int steps;

    private static JsonNode manifest;

    OptimFixture(String name) {
        this.name = name;
        this.arrays = new Fixtures.Case(name, Fixtures.load("optim/" + name + ".npz"));
        JsonNode m = manifest();
        this.config = m.get("cases").get(name).get("config");
        m.get("param_names").forEach(n -> paramNames.add(n.asText()));
        m.get("frozen").forEach(n -> frozen.add(n.asText()));
        this.steps = m.get("steps").asInt();
    }

    static synchronized JsonNode manifest() {
        if (manifest == null) {
            try {
                manifest = new ObjectMapper().readTree(Fixtures.file("optim/manifest.json"));
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        }
        return manifest;
    }

    /** Fresh parameters with the initial values, in model order; the frozen one has requiresGrad false. */
    Map<String, Parameter> freshParams() {
        Map<String, Parameter> out = new LinkedHashMap<>();
        for (String n : paramNames) {
            Parameter p = new Parameter(arrays.get("init." + n).dup(), false);
            p.setRequiresGrad(!frozen.contains(n));
            out.put(n, p);
        }
        return out;
    }

    /** The layer-id function of the fixture's layer-decay case (mirrors {@code layer_id} in the script). */
    static final ToIntFunction<String> LAYER_ID = n -> n.startsWith("blocks.") ? 1 : n.startsWith("head.") ? 2 : 0;

    /** Sets the gradients of step {@code s} (zeroing first; a parameter without a gradient at that step is left alone). */
    void setGrads(Map<String, Parameter> params, int s) {
        INDArray has = arrays.get("has_grad");
        for (int i = 0; i < paramNames.size(); i++) {
            String n = paramNames.get(i);
            if (has.getDouble(s, i) != 0) {
                Parameter p = params.get(n);
                p.zeroGrad();
                p.accumulate(row(arrays.get("grad." + n), s));
            }
        }
    }

    double lr(int s) {
        return arrays.get("lr").getDouble(s);
    }

    double wd(int s) {
        return arrays.get("wd").getDouble(s);
    }

    /** Expected value of parameter {@code n} after step {@code s}. */
    INDArray paramAfter(String n, int s) {
        return row(arrays.get("param." + n), s);
    }

    static INDArray row(INDArray stacked, int s) {
        long[] shape = java.util.Arrays.copyOfRange(stacked.shape(), 1, stacked.rank());
        return stacked.get(NDArrayIndex.point(s)).dup('c').reshape(shape);
    }

    /** The manifest's groups as (name, params, lr_scale, weight_decay_scale), checked against {@code groups}. */
    void assertGroupsMatch(List<ParamGroup> groups) {
        JsonNode expected = config.get("groups");
        assertEquals(expected.size(), groups.size(), name + ": number of groups");
        for (int g = 0; g < groups.size(); g++) {
            JsonNode e = expected.get(g);
            ParamGroup actual = groups.get(g);
            assertEquals(e.get("name").asText(), actual.name(), name + ": group " + g + " name");
            List<String> names = new ArrayList<>();
            e.get("params").forEach(n -> names.add(n.asText()));
            assertEquals(names, new ArrayList<>(actual.params().keySet()), name + ": group " + actual.name());
            assertEquals(e.get("lr_scale").asDouble(), actual.lrScale(), 1e-15 * e.get("lr_scale").asDouble(),
                    name + ": lr_scale of " + actual.name());
            assertEquals(e.get("weight_decay_scale").asDouble(), actual.weightDecayScale(),
                    name + ": weight_decay_scale of " + actual.name());
        }
    }

    /** Groups as the manifest lists them (for cases whose groups are not produced by {@link ParamGroups}). */
    List<ParamGroup> groupsFromManifest(Map<String, Parameter> params) {
        List<ParamGroup> out = new ArrayList<>();
        for (JsonNode e : config.get("groups")) {
            Map<String, Parameter> ps = new LinkedHashMap<>();
            e.get("params").forEach(n -> ps.put(n.asText(), params.get(n.asText())));
            out.add(new ParamGroup(e.get("name").asText(), ps, e.get("lr_scale").asDouble(),
                    e.get("weight_decay_scale").asDouble()));
        }
        return out;
    }
}
