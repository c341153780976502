package io.hgkd.models.resnet;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hgkd.core.nn.LoadReport;
import io.hgkd.core.nn.Parameter;
import io.hgkd.core.sparse.ActiveMask;
import io.hgkd.core.testing.TestData;
import io.hgkd.models.ModelFixtures;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** timm-style tests of every variant, configuration validation, names and state-dict loading. */
class ResNetSmokeTest {

    private static boolean allZero(INDArray a) {
        return a.amaxNumber().doubleValue() == 0.0;
    }

    /**
     * The parameters that legitimately get an exactly zero gradient at timm's initialisation: with zero_init_last
     * the last BN of every residual branch outputs its bias (0) whatever its input, so nothing before it in the
     * branch (conv1, bn1, conv2 [, bn2, conv3]) receives a gradient; the last BN's own weight and bias do.
     */
    private static Set<Parameter> zeroInitShadowed(ResNet m) {
        Set<Parameter> out = new HashSet<>();
        for (int s = 0; s < 4; s++) {
            for (ResidualBlock b : m.blocks(s)) {
                Set<Parameter> last = Set.of(b.lastBn().weight(), b.lastBn().bias());
                b.namedParameters().forEach((k, p) -> {
                    if (!k.startsWith("downsample.") && !last.contains(p)) {
                        out.add(p);
                    }
                });
            }
        }
        return out;
    }

    private static void step(ResNet m, INDArray x) {
        m.zeroGrad();
        INDArray y = m.forward(x);
        m.backward(TestData.randn(5, y.shape()).castTo(DataType.FLOAT));
    }

    @ParameterizedTest
    @ValueSource(strings = {"resnet18", "resnet34", "resnet50", "resnet101", "resnet152"})
    void everyVariantTrainsFromTimmInit(String name) {
        ResNetConfig cfg = ResNetConfig.byName(name).withNumClasses(10);
        // the deep variants at batch 1 to keep the run short; 64 px leaves layer4 2x2, so train-mode BN has >1 value
        int batch = cfg.depthBlocks() > 16 ? 1 : 2;
        ResNet m = new ResNet(cfg);
        m.train(true);
        INDArray x = TestData.randn(1, batch, 3, 64, 64).castTo(DataType.FLOAT);
        INDArray y = m.forward(x);
        assertArrayEquals(new long[] {batch, 10}, y.shape());
        assertFalse(y.isNaN().any() || y.isInfinite().any(), name + " produced NaN/Inf");
        step(m, x);
        Set<Parameter> shadowed = zeroInitShadowed(m);
        assertFalse(shadowed.isEmpty());
        for (Map.Entry<String, Parameter> e : m.namedParameters().entrySet()) {
            Parameter p = e.getValue();
            assertFalse(p.grad().isNaN().any(), name + "/" + e.getKey() + " has a NaN gradient");
            if (shadowed.contains(p)) {
                assertTrue(allZero(p.grad()), name + "/" + e.getKey() + " should have no gradient at zero_init_last");
            } else {
                assertFalse(allZero(p.grad()), name + "/" + e.getKey() + " got no gradient");
            }
        }
        if (cfg.depthBlocks() > 16) {
            return; // the deep variants repeat ResNet-50's Bottleneck; the step below is checked on 18/34/50
        }
        // one SGD step moves the zero-initialised BN weights, after which every parameter gets a gradient
        m.parameters().forEach(p -> p.data().subi(p.grad().mul(0.1)));
        step(m, x);
        m.namedParameters().forEach((k, p) -> assertFalse(allZero(p.grad()), name + "/" + k + " got no gradient"));
    }

    @Test
    void timmInitialisationAndTorchvisionSizes() {
        ResNet m = new ResNet(ResNetConfig.resnet50());
        // torchvision's published sizes for 1000 classes
        assertEquals(25_557_032L, m.numParameters());
        assertEquals(11_689_512L, new ResNet(ResNetConfig.resnet18()).numParameters());
        Map<String, INDArray> s = m.stateDict();
        // kaiming_normal fan_out: std sqrt(2 / (out * k * k))
        INDArray w = s.get("layer3.2.conv2.weight");
        double std = w.stdNumber().doubleValue();
        assertEquals(Math.sqrt(2.0 / (256 * 9)), std, 0.05 * std);
        assertTrue(allZero(s.get("layer3.2.bn3.weight")), "zero_init_last");
        assertEquals(1.0, s.get("layer3.2.bn2.weight").minNumber().doubleValue());
        assertTrue(allZero(s.get("layer3.2.bn2.bias")));
        assertEquals(1.0, s.get("layer2.0.downsample.1.weight").minNumber().doubleValue());
        double bound = 1 / Math.sqrt(2048);
        assertTrue(s.get("fc.weight").amaxNumber().doubleValue() <= bound, "fc keeps PyTorch's default init");
        ResNetConfig tiny = ResNetConfig.resnet18().withBaseWidth(4);
        assertTrue(allZero(new ResNet(tiny).stateDict().get("layer1.1.bn2.weight")));
        assertEquals(1.0, new ResNet(tiny.withZeroInitLast(false)).stateDict()
                .get("layer1.1.bn2.weight").minNumber().doubleValue());
        // the seed decides the weights
        assertEquals(new ResNet(tiny.withSeed(3)).stateDict().get("conv1.weight"),
                new ResNet(tiny.withSeed(3)).stateDict().get("conv1.weight"));
        assertFalse(new ResNet(tiny.withSeed(3)).stateDict().get("conv1.weight")
                .equals(new ResNet(tiny.withSeed(4)).stateDict().get("conv1.weight")));
    }

    @Test
    void dropPathRisesLinearlyAsTimm() {
        // ResNet-50's 16-block layout (SparK's drop-path 0.05) at width 4, to keep the test fast
        ResNet m = new ResNet(ResNetConfig.resnet50().withBaseWidth(4).withDropPathRate(0.05));
        List<Double> rates = new ArrayList<>();
        for (int s = 0; s < 4; s++) {
            m.blocks(s).forEach(b -> rates.add(b.dropPathRate()));
        }
        assertEquals(16, rates.size());
        for (int k = 0; k < 16; k++) {
            assertEquals(0.05 * k / 15, rates.get(k), 1e-12);
        }
        // eval mode makes drop path the identity: two eval passes agree; in train mode the BN weights of zero_init
        // would hide the branches, so compare with all-ones last BNs
        m.eval();
        INDArray x = TestData.randn(2, 2, 3, 32, 32).castTo(DataType.FLOAT);
        assertEquals(m.forward(x).dup(), m.forward(x).dup());
        ResNet dp = new ResNet(ResNetConfig.resnet18().withBaseWidth(4).withDropPathRate(0.5)
                .withZeroInitLast(false));
        dp.train(true);
        INDArray a = dp.forward(x).dup();
        INDArray b = dp.forward(x).dup();
        assertFalse(a.equalsWithEps(b, 1e-6), "drop path samples per call in train mode");
    }

    @Test
    void loadsTorchvisionStateDict() {
        Map<String, long[]> keys = ModelFixtures.keys("torchvision_resnet50_keys.txt");
        ResNet m = new ResNet(ResNetConfig.resnet50());
        assertEquals(new ArrayList<>(keys.keySet()), new ArrayList<>(m.stateDict().keySet()));
        LoadReport r = m.loadStateDict(ModelFixtures.detState(keys), true);
        assertTrue(r.isClean(), r.toString());
        assertEquals(ModelFixtures.detValue("layer4.2.conv3.weight", new long[] {2048, 512, 1, 1}),
                m.stateDict().get("layer4.2.conv3.weight"));
        // a headless encoder takes the same file and reports only the classifier as unexpected
        ResNet enc = new ResNet(ResNetConfig.resnet50().withNumClasses(0));
        LoadReport re = enc.loadStateDict(ModelFixtures.detState(keys), false);
        assertEquals(List.of(), re.missing());
        assertEquals(List.of("fc.weight", "fc.bias"), re.unexpected());
        assertEquals(List.of(), re.wrongShape());
    }

    @Test
    void featureShapesBothStemsAndAnyInputChannels() {
        ResNet r50 = new ResNet(ResNetConfig.resnet50().withNumClasses(0));
        assertArrayEquals(new int[] {256, 512, 1024, 2048}, r50.featureChannels());
        assertEquals(32, r50.downsampleRatio());
        List<INDArray> f = r50.features(TestData.randn(1, 2, 3, 64, 64).castTo(DataType.FLOAT), null);
        for (int i = 0; i < 4; i++) {
            assertArrayEquals(new long[] {2, r50.featureChannels()[i], 16 >> i, 16 >> i}, f.get(i).shape());
        }
        assertArrayEquals(new long[] {2, 2048}, r50.forward(TestData.randn(1, 2, 3, 64, 64)
                .castTo(DataType.FLOAT)).shape(), "numClasses 0 returns pooled features");

        // the Fashion-MNIST student encoder: 1 channel, small stem, half width, 28 px dense and 32 px sparse
        ResNet small = new ResNet(ResNetConfig.resnet18().withStem(ResNetConfig.Stem.SMALL).withBaseWidth(32)
                .withInChans(1).withNumClasses(0));
        assertArrayEquals(new int[] {32, 64, 128, 256}, small.featureChannels());
        assertEquals(8, small.downsampleRatio());
        List<INDArray> g = small.features(TestData.randn(2, 2, 1, 28, 28).castTo(DataType.FLOAT), null);
        assertArrayEquals(new long[] {2, 32, 28, 28}, g.get(0).shape());
        assertArrayEquals(new long[] {2, 256, 4, 4}, g.get(3).shape());
        ActiveMask mask = ActiveMask.of(new boolean[][] {{true, false, false, true}, {false, true, true, true}}, 2, 2);
        List<INDArray> sp = small.features(TestData.randn(3, 2, 1, 16, 16).castTo(DataType.FLOAT), mask);
        assertArrayEquals(new long[] {2, 256, 2, 2}, sp.get(3).shape());
        INDArray gx = small.backwardFeatures(java.util.Arrays.asList(null, Nd4j.onesLike(sp.get(1)), null, null));
        assertArrayEquals(new long[] {2, 1, 16, 16}, gx.shape());
        assertTrue(allZero(gx.mul(mask.at(16, 16).rsub(1.0))), "masked pixels get no gradient");
    }

    @Test
    void validationNamesTheProblem() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new ResNetConfig(
                ResNetConfig.Block.BASIC, new int[] {2, 2, 2}, 3, 10, ResNetConfig.Stem.IMAGENET, 64, 0, true, 0));
        assertTrue(e.getMessage().contains("[2, 2, 2]"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> ResNetConfig.resnet18().withInChans(0));
        assertThrows(IllegalArgumentException.class, () -> ResNetConfig.resnet18().withNumClasses(-1));
        assertThrows(IllegalArgumentException.class, () -> ResNetConfig.resnet18().withBaseWidth(0));
        assertThrows(IllegalArgumentException.class, () -> ResNetConfig.resnet18().withDropPathRate(1.0));
        e = assertThrows(IllegalArgumentException.class, () -> ResNetConfig.byName("resnet19"));
        assertTrue(e.getMessage().contains("resnet18"), e.getMessage());
        ResNet m = new ResNet(ResNetConfig.resnet18().withNumClasses(0));
        e = assertThrows(IllegalArgumentException.class,
                () -> m.forward(Nd4j.zeros(DataType.FLOAT, 1, 1, 32, 32)));
        assertTrue(e.getMessage().contains("3 input channels"), e.getMessage());
        ActiveMask mask = ActiveMask.allActive(1, 2, 2);
        e = assertThrows(IllegalArgumentException.class,
                () -> m.features(Nd4j.zeros(DataType.FLOAT, 1, 3, 32, 32), mask));
        assertTrue(e.getMessage().contains("downsample ratio 32"), e.getMessage());
        int[] layers = {1, 1, 1, 1};
        ResNetConfig c = new ResNetConfig(ResNetConfig.Block.BASIC, layers, 3, 0, ResNetConfig.Stem.SMALL, 8, 0, true, 0);
        layers[0] = 5;
        assertEquals(1, c.layers()[0], "the record copies its array");
        assertEquals(c, new ResNetConfig(ResNetConfig.Block.BASIC, new int[] {1, 1, 1, 1}, 3, 0,
                ResNetConfig.Stem.SMALL, 8, 0, true, 0));
    }

    @Test
    void sparseWithAllActiveMaskEqualsDense() {
        ResNet m = new ResNet(ResNetConfig.resnet18().withNumClasses(0).withZeroInitLast(false));
        m.eval();
        INDArray x = TestData.randn(4, 2, 3, 64, 64).castTo(DataType.FLOAT);
        List<INDArray> dense = new ArrayList<>();
        m.features(x, null).forEach(a -> dense.add(a.dup()));
        List<INDArray> sparse = m.features(x, ActiveMask.allActive(2, 2, 2));
        for (int i = 0; i < 4; i++) {
            assertTrue(dense.get(i).equalsWithEps(sparse.get(i), 1e-6), "stage " + i);
        }
    }
}
