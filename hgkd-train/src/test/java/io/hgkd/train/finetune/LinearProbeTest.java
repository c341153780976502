package io.hgkd.train.finetune;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hgkd.core.optim.Optimizer;
import io.hgkd.models.resnet.ResNet;
import io.hgkd.models.resnet.ResNetConfig;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

class LinearProbeTest {

    @Test
    void learnsSeparableFeaturesAndKeepsBnAffineFrozen() {
        // three classes with well-separated means in 8-D, offset and scaled so the BN has work to do
        int n = 300;
        int d = 8;
        Nd4j.getRandom().setSeed(17);
        INDArray means = Nd4j.randn(DataType.FLOAT, 3, d).muli(3);
        INDArray x = Nd4j.randn(DataType.FLOAT, n, d).muli(0.5);
        int[] y = new int[n];
        for (int i = 0; i < n; i++) {
            y[i] = i % 3;
            x.getRow(i).addi(means.getRow(y[i]));
        }
        x.muli(10).addi(50);
        LinearProbe probe = new LinearProbe(d, 3, true, 0);
        Optimizer opt = probe.sgd(0.1);
        double first = probe.trainEpoch(x, y, 32, opt, 1);
        double last = first;
        for (int e = 0; e < 10; e++) {
            last = probe.trainEpoch(x, y, 32, opt, 2 + e);
        }
        assertTrue(last < first / 2, "loss " + first + " -> " + last);
        ClassificationMetrics m = probe.evaluate(x, y);
        assertTrue(m.top1() > 0.95, m.toString());
        Map<String, INDArray> s = probe.stateDict();
        assertEquals(Nd4j.ones(DataType.FLOAT, d), s.get("bn.weight"), "affine-free BN weight stays 1");
        assertEquals(Nd4j.zeros(DataType.FLOAT, d), s.get("bn.bias"));
        assertTrue(s.get("bn.running_mean").meanNumber().doubleValue() > 10, "running stats follow the features");
    }

    @Test
    void extractsFeaturesFromAFrozenEncoder() {
        ResNet encoder = new ResNet(ResNetConfig.resnet18().withBaseWidth(4).withNumClasses(0)
                .withStem(ResNetConfig.Stem.SMALL));
        INDArray before = encoder.stateDict().get("bn1.running_mean").dup();
        INDArray f = LinearProbe.extractFeatures(encoder, Nd4j.randn(DataType.FLOAT, 2, 3, 16, 16));
        assertEquals(2, f.size(0));
        assertEquals(encoder.numFeatures(), f.size(1));
        assertTrue(encoder.isTraining(), "mode restored");
        assertEquals(before, encoder.stateDict().get("bn1.running_mean"), "eval mode: BN statistics untouched");

        assertThrows(IllegalArgumentException.class,
                () -> new LinearProbe(4, 5, false, 0).forward(Nd4j.zeros(2, 3)), "wrong feature width");
    }
}
