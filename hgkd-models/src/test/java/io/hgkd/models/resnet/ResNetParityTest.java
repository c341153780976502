package io.hgkd.models.resnet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hgkd.core.nn.LoadReport;
import io.hgkd.core.nn.Parameter;
import io.hgkd.core.sparse.ActiveMask;
import io.hgkd.core.testing.Fixtures;
import io.hgkd.models.ModelFixtures;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * ResNet against PyTorch (tools/reference/make_resnet_fixtures.py): torchvision's real resnet18/50 classes (weights
 * loaded strictly from torchvision's own key list, so names and semantics are both proven), the small-stem
 * half-width variant, and SparK's literal sparse encoder. Weights, inputs and upstream gradients are DetRandom.
 */
class ResNetParityTest {
    private static final ResNetConfig SMALL_HALF_18 = ResNetConfig.resnet18().withStem(ResNetConfig.Stem.SMALL)
            .withBaseWidth(32).withNumClasses(10);

    /** A ResNet loaded strictly from the DetRandom state dict built on PyTorch's key list. */
    private static ResNet loadFromKeys(ResNetConfig config, String keyFile) {
        ResNet m = new ResNet(config);
        LoadReport r = m.loadStateDict(ModelFixtures.detState(ModelFixtures.keys(keyFile)), true);
        assertTrue(r.isClean(), r.toString());
        assertEquals(new ArrayList<>(ModelFixtures.keys(keyFile).keySet()), new ArrayList<>(m.stateDict().keySet()),
                "state-dict key order differs from PyTorch's");
        return m;
    }

    private static void evalCase(String name, ResNet m, long size) {
        Fixtures.Case c = ModelFixtures.load(name);
        m.eval();
        INDArray x = ModelFixtures.input(name, 2, 3, size, size);
        ModelFixtures.forward(c, "logits", m.forward(x).dup());
        List<INDArray> f = m.features(x, null);
        for (int i = 0; i < 4; i++) {
            ModelFixtures.forward(c, "feat." + i, f.get(i));
            ModelFixtures.forward(c, "featmean." + i, f.get(i).mean(0, 2, 3));
        }
    }

    private static void trainCase(String name, ResNet m, long size, DataType type) {
        Fixtures.Case c = ModelFixtures.load(name);
        m.to(type);
        m.train(true);
        m.zeroGrad();
        INDArray x = ModelFixtures.input(name, 2, 3, size, size).castTo(type);
        INDArray logits = m.forward(x).dup();
        ModelFixtures.forward(c, "logits", logits);
        INDArray gx = m.backward(ModelFixtures.upstream(name, "gy", logits.shape()).castTo(type));
        ModelFixtures.gradient(c, "gx", gx);
        checkGradsAndBuffers(c, m);
    }

    private static void checkGradsAndBuffers(Fixtures.Case c, ResNet m) {
        Map<String, Parameter> params = m.namedParameters();
        Map<String, INDArray> buffers = m.namedBuffers();
        int n = 0;
        for (String k : c.arrays().keySet()) {
            if (k.startsWith("grad.")) {
                ModelFixtures.gradient(c, k, params.get(k.substring(5)).grad());
                n++;
            } else if (k.startsWith("buffer.")) {
                ModelFixtures.forward(c, k, buffers.get(k.substring(7)));
                n++;
            }
        }
        assertTrue(n >= 10, c.name() + ": expected selected gradients and buffers, found " + n);
    }

    @Test
    void torchvisionResnet18Eval() {
        evalCase("tv_resnet18_eval", loadFromKeys(ResNetConfig.resnet18().withNumClasses(10), "tv_resnet18_keys.txt"),
                64);
    }

    @Test
    void torchvisionResnet50Eval() {
        evalCase("tv_resnet50_eval", loadFromKeys(ResNetConfig.resnet50().withNumClasses(10), "tv_resnet50_keys.txt"),
                64);
    }

    @Test
    void torchvisionResnet18Train() {
        trainCase("tv_resnet18_train",
                loadFromKeys(ResNetConfig.resnet18().withNumClasses(10), "tv_resnet18_keys.txt"), 64, DataType.FLOAT);
    }

    /**
     * In double precision: this case is ill-conditioned in float32 (PyTorch's own float32 input gradient is 0.7% off
     * the exact one, because layer4's train-mode BN normalises 8 values per channel), so float32 could only be
     * checked loosely. The float32 path of ResNet-50 is covered by {@link #torchvisionResnet50Eval()}.
     */
    @Test
    void torchvisionResnet50TrainDouble() {
        trainCase("tv_resnet50_train",
                loadFromKeys(ResNetConfig.resnet50().withNumClasses(10), "tv_resnet50_keys.txt"), 64, DataType.DOUBLE);
    }

    @Test
    void smallStemHalfWidthResnet18() {
        evalCase("small_half_resnet18_eval", loadFromKeys(SMALL_HALF_18, "small_half_resnet18_keys.txt"), 32);
        trainCase("small_half_resnet18_train", loadFromKeys(SMALL_HALF_18, "small_half_resnet18_keys.txt"), 32,
                DataType.FLOAT);
    }

    @Test
    void smallStemHalfWidthResnet50Eval() {
        ResNetConfig cfg = ResNetConfig.resnet50().withStem(ResNetConfig.Stem.SMALL).withBaseWidth(32)
                .withNumClasses(10);
        evalCase("small_half_resnet50_eval", loadFromKeys(cfg, "small_half_resnet50_keys.txt"), 32);
    }

    private static void sparseCase(String name, ResNetConfig cfg, long size) {
        Fixtures.Case c = ModelFixtures.load(name);
        ResNet m = new ResNet(cfg);
        ModelFixtures.detFill(m);
        m.train(true);
        ActiveMask mask = ActiveMask.of(c.get("mask"));
        INDArray x = ModelFixtures.input(name, 2, 3, size, size);
        List<INDArray> f = m.features(x, mask);
        List<INDArray> gys = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            ModelFixtures.forward(c, "feat." + i, f.get(i));
            ModelFixtures.forward(c, "featmean." + i, f.get(i).mean(0, 2, 3));
            INDArray inactive = mask.like(f.get(i)).rsub(1.0);
            assertEquals(0.0, f.get(i).mul(inactive).amaxNumber().doubleValue(),
                    name + ": stage " + i + " must be exactly 0 at masked positions");
            gys.add(ModelFixtures.upstream(name, "gy." + i, f.get(i).shape()));
        }
        INDArray gx = m.backwardFeatures(gys);
        ModelFixtures.gradient(c, "gx", gx);
        checkGradsAndBuffers(c, m);
    }

    @Test
    void sparseResnet18ImagenetStem128() {
        sparseCase("sparse_resnet18_128", ResNetConfig.resnet18().withNumClasses(0), 128);
    }

    @Test
    void sparseSmallStemHalfWidthResnet18At32() {
        sparseCase("sparse_small_half_resnet18_32", SMALL_HALF_18.withNumClasses(0), 32);
    }

    @Test
    void maskedInputIsIgnored() {
        // garbage at masked pixels must not change anything: the input is masked first
        ResNet a = new ResNet(ResNetConfig.resnet18().withNumClasses(0).withZeroInitLast(false));
        ResNet b = new ResNet(ResNetConfig.resnet18().withNumClasses(0).withZeroInitLast(false));
        ActiveMask mask = ActiveMask.of(new boolean[][] {{true, false, false, true}, {false, true, true, true}}, 2, 2);
        INDArray x = ModelFixtures.input("masked", 2, 3, 64, 64);
        INDArray garbage = ModelFixtures.input("garbage", 2, 3, 64, 64).muli(100).muli(mask.at(64, 64).rsub(1.0));
        List<INDArray> fa = a.features(x, mask);
        List<INDArray> fb = b.features(x.add(garbage), mask);
        for (int i = 0; i < 4; i++) {
            assertEquals(fa.get(i), fb.get(i), "stage " + i);
        }
        assertEquals(a.stateDict(), b.stateDict(), "running statistics saw masked positions");
        // and a dense pass on the same weights differs (the mask is really applied)
        assertTrue(!a.features(x, null).get(3).equalsWithEps(fb.get(3), 1e-3));
        assertTrue(Nd4j.math().abs(fb.get(0)).sumNumber().doubleValue() > 0);
    }
}
