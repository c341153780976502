package io.hgkd.core.optim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import io.hgkd.core.io.SafeTensors;
import io.hgkd.core.nn.Parameter;

/**
 * Exact resume: k steps, export the state through a safetensors file, a new optimizer over a copy of the parameters
 * loads it, m more steps; the result must be bit-identical to k + m steps without interruption. Also the errors of
 * {@link Optimizer#loadState}.
 */
class OptimizerStateTest {
    private static final OptimFixture FIX = new OptimFixture("lamb_pretrain");

    static Stream<Arguments> optimizers() {
        Function<List<ParamGroup>, Optimizer> adamw = g -> new AdamW(g, AdamW.Config.torchDefaults().withLr(1e-2));
        Function<List<ParamGroup>, Optimizer> sgd = g -> new Sgd(g, Sgd.Config.of(0.05).withMomentum(0.9)
                .withNesterov(true).withWeightDecay(1e-3));
        Function<List<ParamGroup>, Optimizer> lambPre = g -> new Lamb(g, Lamb.Config.sparkPretrain(0.02, 0.05));
        Function<List<ParamGroup>, Optimizer> lambFt = g -> new Lamb(g, Lamb.Config.sparkFinetune(0.02, 0.02));
        return Stream.of(Arguments.of("adamw", adamw), Arguments.of("sgd", sgd), Arguments.of("lamb_pretrain", lambPre),
                Arguments.of("lamb_finetune", lambFt));
    }

    private static Map<String, Parameter> copy(Map<String, Parameter> params) {
        Map<String, Parameter> out = new LinkedHashMap<>();
        params.forEach((n, p) -> {
            Parameter c = new Parameter(p.data().dup(), p.noWeightDecay());
            c.setRequiresGrad(p.requiresGrad());
            out.put(n, c);
        });
        return out;
    }

    /** Steps {@code from} to {@code to - 1} with the fixture's gradient sets (cycled) and a schedule. */
    private static void run(Optimizer opt, Map<String, Parameter> params, int from, int to) {
        WarmupCosine lr = WarmupCosine.spark(0.02, 2, 12);
        CosineWeightDecay wd = new CosineWeightDecay(0.04, 0.2, 12);
        for (int t = from; t < to; t++) {
            opt.setLr(lr.valueAt(t));
            opt.setWeightDecay(wd.valueAt(t));
            FIX.setGrads(params, t % FIX.steps);
            opt.step();
        }
    }

    /** Same type, shape and bits (INDArray.equals would allow a 1e-5 difference). */
    static boolean bitEqual(INDArray a, INDArray b) {
        return a.dataType() == b.dataType() && java.util.Arrays.equals(a.shape(), b.shape())
                && java.util.Arrays.equals(a.dup('c').data().asDouble(), b.dup('c').data().asDouble());
    }

    private static void assertBitIdentical(Map<String, Parameter> expected, Map<String, Parameter> actual, String what) {
        expected.forEach((n, p) -> assertTrue(bitEqual(p.data(), actual.get(n).data()), what + ": " + n));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("optimizers")
    void resumeIsBitIdentical(String name, Function<List<ParamGroup>, Optimizer> make, @TempDir Path dir)
            throws Exception {
        for (int k : new int[] {1, 4}) { // k = 1: head.weight has no state yet (no gradient at step 0)
            int m = 5;
            Map<String, Parameter> straightParams = FIX.freshParams();
            Optimizer straight = make.apply(ParamGroups.spark(straightParams));
            run(straight, straightParams, 0, k + m);

            Map<String, Parameter> firstParams = FIX.freshParams();
            Optimizer first = make.apply(ParamGroups.spark(firstParams));
            run(first, firstParams, 0, k);
            Path file = dir.resolve(name + "-" + k + ".safetensors");
            SafeTensors.write(file, first.state());
            Map<String, Parameter> resumedParams = copy(firstParams); // as if loaded from the model checkpoint
            Optimizer resumed = make.apply(ParamGroups.spark(resumedParams));
            resumed.loadState(SafeTensors.read(file));
            assertEquals(k, resumed.stepCount());
            run(resumed, resumedParams, k, k + m);

            assertEquals(straight.stepCount(), resumed.stepCount());
            assertBitIdentical(straightParams, resumedParams, name + " k=" + k);
            Map<String, INDArray> a = straight.state();
            Map<String, INDArray> b = resumed.state();
            assertEquals(a.keySet(), b.keySet(), name + ": state keys");
            a.forEach((key, v) -> assertTrue(bitEqual(v, b.get(key)), name + ": state " + key));
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("optimizers")
    void withoutStateTheResumeDiverges(String name, Function<List<ParamGroup>, Optimizer> make) {
        // guards the test above: a fresh optimizer (no loadState) must not reproduce the uninterrupted run
        Map<String, Parameter> straightParams = FIX.freshParams();
        Optimizer straight = make.apply(ParamGroups.spark(straightParams));
        run(straight, straightParams, 0, 6);
        Map<String, Parameter> p = FIX.freshParams();
        Optimizer first = make.apply(ParamGroups.spark(p));
        run(first, p, 0, 3);
        Optimizer fresh = make.apply(ParamGroups.spark(p));
        run(fresh, p, 3, 6);
        boolean differs = straightParams.keySet().stream().filter(n -> p.get(n).requiresGrad())
                .anyMatch(n -> !bitEqual(straightParams.get(n).data(), p.get(n).data()));
        assertTrue(differs, name + ": losing the state should change the result");
    }

    @Test
    void stateHasStableNamesAndIsDetached() {
        Map<String, Parameter> params = FIX.freshParams();
        Lamb lamb = new Lamb(ParamGroups.spark(params), Lamb.Config.sparkPretrain(0.01, 0.05));
        run(lamb, params, 0, 2);
        Map<String, INDArray> s = lamb.state();
        assertEquals(2L, s.get("optimizer.step_count").getLong(0));
        assertEquals(DataType.INT64, s.get("optimizer.step_count").dataType());
        assertEquals(0, s.get("optimizer.step_count").rank());
        assertEquals(2L, s.get("group.decay.step").getLong(0));
        assertEquals(lamb.lr(0), s.get("group.decay.lr").getDouble(0));
        assertEquals(0.0, s.get("group.no_decay.weight_decay").getDouble(0));
        assertEquals(0.95, s.get("hparam.beta2").getDouble(0));
        assertEquals(5.0, s.get("hparam.max_grad_norm").getDouble(0));
        assertTrue(s.containsKey("state.stem.conv.weight.exp_avg_sq"));
        assertTrue(s.containsKey("state.head.weight.exp_avg"));
        assertTrue(s.keySet().stream().noneMatch(k -> k.contains("frozen")));
        INDArray m = s.get("state.stem.conv.weight.exp_avg");
        m.assign(123);
        assertNotSame(m, lamb.state().get("state.stem.conv.weight.exp_avg"));
        assertTrue(lamb.state().get("state.stem.conv.weight.exp_avg").getDouble(0) != 123, "state() returns copies");
    }

    @Test
    void loadStateReportsEveryProblemAndChangesNothing() {
        Map<String, Parameter> params = FIX.freshParams();
        AdamW src = new AdamW(ParamGroups.spark(params), AdamW.Config.torchDefaults());
        run(src, params, 0, 2);
        Map<String, INDArray> good = src.state();

        AdamW dst = new AdamW(ParamGroups.spark(FIX.freshParams()), AdamW.Config.torchDefaults().withBetas(0.9, 0.95));
        Map<String, INDArray> bad = new LinkedHashMap<>(good);
        bad.put("state.stem.conv.weight.exp_avg", Nd4j.zeros(DataType.FLOAT, 3, 3));
        bad.remove("group.decay.lr");
        bad.put("state.nonexistent.exp_avg", Nd4j.zeros(DataType.FLOAT, 1));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> dst.loadState(bad));
        String msg = e.getMessage();
        assertTrue(msg.contains("state.stem.conv.weight.exp_avg: expected shape [4, 3, 3, 3], got [3, 3]"), msg);
        assertTrue(msg.contains("missing group.decay.lr"), msg);
        assertTrue(msg.contains("unexpected state.nonexistent.exp_avg"), msg);
        assertTrue(msg.contains("hparam.beta2: saved 0.999, this optimizer has 0.95"), msg);
        assertEquals(0, dst.stepCount(), "a failed load changes nothing");
        assertTrue(dst.state().keySet().stream().noneMatch(k -> k.startsWith("state.")));

        // another optimizer type: its hyperparameters and slots do not fit
        Sgd sgd = new Sgd(ParamGroups.spark(FIX.freshParams()), Sgd.Config.of(0.1).withMomentum(0.9));
        IllegalArgumentException e2 = assertThrows(IllegalArgumentException.class, () -> sgd.loadState(good));
        assertTrue(e2.getMessage().contains("missing hparam.momentum"), e2.getMessage());
        assertTrue(e2.getMessage().contains("unexpected state.stem.conv.weight.exp_avg"), e2.getMessage());

        // other groups
        Map<String, Parameter> p3 = FIX.freshParams();
        AdamW single = new AdamW(ParamGroups.single(p3), AdamW.Config.torchDefaults());
        IllegalArgumentException e3 = assertThrows(IllegalArgumentException.class, () -> single.loadState(good));
        assertTrue(e3.getMessage().contains("missing group.all.lr"), e3.getMessage());
    }

    @Test
    void lambClipsGradientsInPlaceLikeSpark() {
        Map<String, Parameter> params = FIX.freshParams();
        Lamb lamb = new Lamb(ParamGroups.spark(params), Lamb.Config.sparkPretrain(0.01, 0.05));
        FIX.setGrads(params, 0); // global norm 8 > 5
        lamb.step();
        assertEquals(8.0, lamb.lastGlobalGradNorm(), 1e-5);
        assertEquals(5.0, Gradients.globalNorm(lamb.parameters()), 1e-5, "p.grad now holds the clipped gradient");
    }

    @Test
    void scratchBuffersAreSharedViews() {
        Map<String, Parameter> params = FIX.freshParams();
        AdamW opt = new AdamW(ParamGroups.spark(params), AdamW.Config.torchDefaults());
        INDArray a = opt.scratch(0, 0);
        INDArray b = opt.scratch(1, 0);
        assertEquals(List.of(4L, 3L, 3L, 3L), java.util.Arrays.stream(a.shape()).boxed().toList());
        a.assign(7);
        assertEquals(7.0, b.getDouble(0), "slot views alias one buffer, so memory does not grow per parameter");
        assertTrue(opt.scratch(0, 0) == a, "views are made once and reused");
    }

    @Test
    void zeroGradAndSkippedParameters() {
        Map<String, Parameter> params = FIX.freshParams();
        Sgd sgd = new Sgd(ParamGroups.spark(params), Sgd.Config.of(0.1));
        INDArray head = params.get("head.weight").data().dup();
        FIX.setGrads(params, 0); // head.weight has no gradient at step 0
        sgd.step();
        assertTrue(bitEqual(head, params.get("head.weight").data()), "a parameter without a gradient does not move");
        sgd.zeroGrad();
        for (Parameter p : sgd.parameters()) {
            if (p.hasGrad()) {
                assertEquals(0.0, p.grad().norm1Number().doubleValue());
            }
        }
    }

    @Test
    void zeroDimensionalParameterSteps() {
        // e.g. a learnable temperature: first AdamW step without decay moves it by lr * g / (|g| + eps)
        Parameter t = new Parameter(Nd4j.scalar(1f), false);
        AdamW opt = new AdamW(List.of(ParamGroup.of("all", Map.of("logit_scale", t))),
                AdamW.Config.torchDefaults().withWeightDecay(0));
        t.accumulate(Nd4j.scalar(0.5f));
        opt.step();
        assertEquals(1.0 - 1e-3 * 0.5 / (0.5 + 1e-8), t.data().getDouble(0), 1e-7);
        assertEquals(0, opt.state().get("state.logit_scale.exp_avg").rank());
    }
}
