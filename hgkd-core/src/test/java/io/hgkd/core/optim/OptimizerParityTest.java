package io.hgkd.core.optim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;
import io.hgkd.core.nn.Parameter;
import io.hgkd.core.testing.Parity;

/**
 * Replays the gradient sequences of {@code src-test-data/optim} and compares every parameter after every step, and
 * the final optimizer state, with PyTorch (AdamW, SGD) and with SparK's LAMB formula run in PyTorch. Tolerance: float32,
 * {@code |java - torch| <= 1e-6 |torch| + 1e-7}.
 */
class OptimizerParityTest {

    private static void replay(OptimFixture f, Map<String, Parameter> params, Optimizer opt) {
        for (int s = 0; s < f.steps; s++) {
            opt.setLr(f.lr(s));
            opt.setWeightDecay(f.wd(s));
            f.setGrads(params, s);
            opt.step();
            if (opt instanceof Lamb lamb) {
                double expected = f.arrays.get("global_grad_norm").getDouble(s);
                assertEquals(expected, lamb.lastGlobalGradNorm(), 1e-6 * expected, f.name + ": global grad norm " + s);
            }
            for (String n : f.paramNames) {
                Parity.assertClose(f.name, "param." + n + "@" + s, f.paramAfter(n, s), params.get(n).data(),
                        OptimFixture.RTOL, OptimFixture.ATOL);
            }
        }
        assertEquals(f.steps, opt.stepCount());
    }

    /** Every {@code state.*} entry of the fixture matches the optimizer's state, and there are no others. */
    private static void assertStateMatches(OptimFixture f, Optimizer opt) {
        Map<String, INDArray> state = opt.state();
        long expectedKeys = f.arrays.arrays().keySet().stream().filter(k -> k.startsWith("state.")).count();
        long actualKeys = state.keySet().stream().filter(k -> k.startsWith("state.")).count();
        assertEquals(expectedKeys, actualKeys, f.name + ": number of per-parameter state entries");
        f.arrays.arrays().forEach((k, expected) -> {
            if (!k.startsWith("state.")) {
                return;
            }
            INDArray actual = state.get(k);
            if (actual == null) {
                throw new AssertionError(f.name + ": optimizer state lacks " + k + "; has " + state.keySet());
            }
            if (k.endsWith(".step")) {
                assertEquals(expected.getLong(0), actual.getLong(0), f.name + ": " + k);
            } else {
                Parity.assertClose(f.name, k, expected, actual, OptimFixture.RTOL, OptimFixture.ATOL);
            }
        });
    }

    private static Optimizer run(String fixture, Function<Map<String, Parameter>, List<ParamGroup>> grouping,
                                 Function<List<ParamGroup>, Optimizer> make) {
        OptimFixture f = new OptimFixture(fixture);
        Map<String, Parameter> params = f.freshParams();
        List<ParamGroup> groups = grouping.apply(params);
        f.assertGroupsMatch(groups);
        Optimizer opt = make.apply(groups);
        replay(f, params, opt);
        assertStateMatches(f, opt);
        // the frozen parameter is in no group and never moves
        Parity.exact(f.name, "frozen.weight", f.arrays.get("init.frozen.weight"), params.get("frozen.weight").data());
        return opt;
    }

    @Test
    void adamwMatchesTorchWithTwoGroups() {
        OptimFixture f = new OptimFixture("adamw");
        AdamW.Config cfg = AdamW.Config.torchDefaults().withBetas(f.config.get("betas").get(0).asDouble(),
                f.config.get("betas").get(1).asDouble()).withEps(f.config.get("eps").asDouble());
        Optimizer opt = run("adamw", f::groupsFromManifest, g -> new AdamW(g, cfg));
        // head.weight had no gradient at step 0: its own step count lags, as in torch
        assertEquals(4, opt.state().get("state.head.weight.step").getLong(0));
        assertEquals(5, opt.state().get("state.stem.conv.weight.step").getLong(0));
    }

    @Test
    void sgdNesterovMatchesTorch() {
        run("sgd_nesterov", ParamGroups::spark,
                g -> new Sgd(g, Sgd.Config.of(0.1).withMomentum(0.9).withNesterov(true)));
    }

    @Test
    void sgdMomentumMatchesTorch() {
        run("sgd_momentum", ParamGroups::spark, g -> new Sgd(g, Sgd.Config.of(0.1).withMomentum(0.9)));
    }

    @Test
    void lambPretrainMatchesSparkFormula() {
        OptimFixture f = new OptimFixture("lamb_pretrain");
        // the case must exercise both clip branches, or this test would not prove the clip
        INDArray norms = f.arrays.get("global_grad_norm");
        boolean above = false;
        boolean below = false;
        for (int s = 0; s < f.steps; s++) {
            above |= norms.getDouble(s) > 5.0;
            below |= norms.getDouble(s) < 5.0;
        }
        assertTrue(above && below, "fixture needs gradient norms above and below 5");
        Optimizer opt = run("lamb_pretrain", ParamGroups::spark, g -> new Lamb(g, Lamb.Config.sparkPretrain(0, 0)));
        assertEquals(5, opt.state().get("group.decay.step").getLong(0));
        assertEquals(5, opt.state().get("group.no_decay.step").getLong(0));
        assertFalse(((Lamb) opt).config().alwaysAdapt());
    }

    @Test
    void lambFinetuneMatchesSparkFormulaWithLayerDecay() {
        OptimFixture f = new OptimFixture("lamb_finetune");
        ParamGroups.LayerDecay ld = new ParamGroups.LayerDecay(f.config.get("lr_decay").asDouble(),
                f.config.get("num_layers").asInt(), OptimFixture.LAYER_ID);
        Optimizer opt = run("lamb_finetune", p -> ParamGroups.spark(p, ld),
                g -> new Lamb(g, Lamb.Config.sparkFinetune(0, 0)));
        INDArray groupSteps = f.arrays.get("group_step");
        for (int g = 0; g < opt.groups().size(); g++) {
            assertEquals(groupSteps.getLong(g), opt.state().get("group." + opt.groups().get(g).name() + ".step")
                    .getLong(0));
        }
    }
}
