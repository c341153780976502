package io.hgkd.models.resnet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hgkd.core.testing.TestData;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.ops.transforms.Transforms;

/** The conv scale measured against the kaiming init, and the function-preserving reset (Basic and Bottleneck). */
class ConvWeightScaleTest {

    private static ResNet model(String name) {
        ResNetConfig cfg = ResNetConfig.byName(name).withBaseWidth(8).withStem(ResNetConfig.Stem.SMALL)
                .withNumClasses(5).withZeroInitLast(false).withSeed(11);
        ResNet m = new ResNet(cfg);
        m.to(DataType.DOUBLE);
        return m;
    }

    /**
     * Each conv scaled by its own factor in [0.3, 3.3] and every BN given random affine and running statistics, with
     * large variances (weight about 10, running variance about 100) so that BatchNorm's eps does not mask an error.
     */
    private static double[] scramble(ResNet m) {
        Map<String, INDArray> s = m.stateDict();
        List<ConvWeightScale.Entry> convs = ConvWeightScale.measure(m);
        double[] factors = new double[convs.size()];
        long seed = 100;
        for (int i = 0; i < factors.length; i++) {
            factors[i] = 0.3 + 3.0 * ((i * 7919) % 13) / 12.0;
            s.get(convs.get(i).name()).muli(factors[i]);
        }
        for (Map.Entry<String, INDArray> e : s.entrySet()) {
            String k = e.getKey();
            long n = e.getValue().length();
            if (k.endsWith("running_mean") || k.endsWith("bias") && !k.startsWith("fc")) {
                e.getValue().assign(TestData.randn(seed++, n).mul(0.5));
            } else if (k.endsWith("running_var")) {
                e.getValue().assign(Transforms.abs(TestData.randn(seed++, n)).add(0.5).mul(100));
            } else if (k.endsWith("weight") && e.getValue().rank() == 1) {
                e.getValue().assign(Transforms.abs(TestData.randn(seed++, n)).add(0.5).mul(10));
            }
        }
        return factors;
    }

    private static double maxRelDiff(INDArray a, INDArray b) {
        return a.sub(b).amaxNumber().doubleValue() / b.amaxNumber().doubleValue();
    }

    @ParameterizedTest
    @ValueSource(strings = {"resnet18", "resnet50"})
    void initNormMatchesTheKaimingInitialisation(String name) {
        List<ConvWeightScale.Entry> e = ConvWeightScale.measure(model(name));
        assertEquals(name.equals("resnet18") ? 20 : 53, e.size(), "conv count (incl. stem and downsamples)");
        double median = ConvWeightScale.medianRatio(e);
        assertTrue(median > 0.95 && median < 1.05, "median norm / init norm at init: " + median);
        e.forEach(x -> assertTrue(x.ratio() > 0.7 && x.ratio() < 1.3, x.name() + " at init: " + x.ratio()));
    }

    @ParameterizedTest
    @ValueSource(strings = {"resnet18", "resnet50"})
    void resetKeepsTheFunctionInEvalAndTrainMode(String name) {
        ResNet m = model(name);
        double[] factors = scramble(m);
        List<ConvWeightScale.Entry> initial = ConvWeightScale.measure(m);
        INDArray x = TestData.randn(3, 4, 3, 16, 16).mul(10);
        m.eval();
        INDArray evalBefore = m.forward(x).dup();
        m.train(true);
        INDArray trainBefore = m.forward(x).dup();
        // the train-mode forward moved the running statistics: measure eval again from here
        m.eval();
        INDArray evalBefore2 = m.forward(x).dup();

        List<ConvWeightScale.Entry> before = ConvWeightScale.resetToInit(m);
        for (int i = 0; i < before.size(); i++) {
            assertEquals(initial.get(i).ratio(), before.get(i).ratio(), 1e-12, before.get(i).name());
        }
        assertTrue(ConvWeightScale.medianRatio(before) > 1.2, "scrambled scale " + ConvWeightScale.medianRatio(before));
        assertEquals(factors.length, before.size());
        ConvWeightScale.measure(m).forEach(x1 -> assertEquals(1.0, x1.ratio(), 1e-12, x1.name()));

        // (cx - c mu) / sqrt(c^2 var + eps) differs from the original only through eps (1e-5), which the large
        // variances of scramble() make negligible: measured 2e-6 (resnet18) and 6e-5 (resnet50, 53 BNs deep)
        assertTrue(maxRelDiff(m.forward(x), evalBefore2) < 1e-4, "eval output moved: "
                + maxRelDiff(m.forward(x), evalBefore2));
        assertTrue(maxRelDiff(evalBefore, evalBefore2) > 1e-3, "the train-mode forward should move the stats");
        m.train(true);
        assertTrue(maxRelDiff(m.forward(x), trainBefore) < 1e-4, "train output moved: "
                + maxRelDiff(m.forward(x), trainBefore));

        // a second reset is the identity
        List<ConvWeightScale.Entry> again = ConvWeightScale.resetToInit(m);
        again.forEach(x1 -> assertEquals(1.0, x1.ratio(), 1e-12, x1.name()));
    }
}
