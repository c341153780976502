package io.hgkd.train.finetune;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.hgkd.core.nn.Module;
import io.hgkd.core.testing.Fixtures;
import io.hgkd.core.testing.Parity;
import io.hgkd.models.resnet.ResNet;
import io.hgkd.models.resnet.ResNetConfig;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;

class ModelEmaTest {
    private static final List<String> KEYS = List.of("conv.weight", "conv.bias", "bn.weight", "bn.bias",
            "bn.running_mean", "bn.running_var", "bn.num_batches_tracked", "fc.weight", "fc.bias");

    private static Map<String, INDArray> state(Map<String, INDArray> f, String prefix) {
        Map<String, INDArray> out = new LinkedHashMap<>();
        for (String k : KEYS) {
            INDArray a = f.get(prefix + k);
            if (a == null) {
                throw new IllegalStateException("fixture has no " + prefix + k + "; keys " + f.keySet());
            }
            out.put(k, a.dup());
        }
        return out;
    }

    @Test
    void matchesTimmModelEmaV2() {
        Map<String, INDArray> f = Fixtures.load("finetune/ema.npz");
        int steps = f.get("steps").getInt(0);
        ModelEma ema = new ModelEma(state(f, "s0."), f.get("decay").getDouble(0));
        for (int i = 1; i <= steps; i++) {
            ema.update(state(f, "s" + i + "."));
            Map<String, INDArray> expected = state(f, "e" + i + ".");
            Map<String, INDArray> actual = ema.stateDict();
            for (String k : KEYS) {
                if (k.endsWith("num_batches_tracked")) {
                    Parity.exact("finetune_ema", "e" + i + "." + k, expected.get(k), actual.get(k));
                } else {
                    Parity.forward("finetune_ema", "e" + i + "." + k, expected.get(k), actual.get(k));
                }
            }
        }
        // the oracle's int64 counter truncates: 0 -> 0 -> 1 -> 3 -> 5 while the model has 8, 16, 24, 32
        assertEquals(5L, ema.stateDict().get("bn.num_batches_tracked").getLong(0));
    }

    @Test
    void updatesAndCopiesIntoAModule() {
        ResNetConfig cfg = ResNetConfig.resnet18().withBaseWidth(4).withNumClasses(3).withStem(ResNetConfig.Stem.SMALL);
        ResNet model = new ResNet(cfg);
        ModelEma ema = new ModelEma(model, 0.75);
        INDArray w0 = model.stateDict().get("fc.weight").dup();
        model.namedParameters().get("fc.weight").data().addi(4.0);
        ema.update(model);
        // 0.75 w0 + 0.25 (w0 + 4) = w0 + 1
        Parity.forward("finetune_ema", "fc.weight", w0.add(1.0), ema.stateDict().get("fc.weight"));

        ResNet evalCopy = new ResNet(cfg.withSeed(99));
        assertNotEquals(model.stateDict().get("conv1.weight"), evalCopy.stateDict().get("conv1.weight"));
        ema.copyTo(evalCopy);
        Map<String, INDArray> s = evalCopy.stateDict();
        ema.stateDict().forEach((k, v) -> assertEquals(v, s.get(k), k));

        // the exported state is a copy: changing it does not change the EMA
        ema.stateDict().get("fc.bias").addi(100);
        assertEquals(ema.stateDict().get("fc.bias"), s.get("fc.bias"));
    }

    @Test
    void rejectsMismatches() {
        Module a = new ResNet(ResNetConfig.resnet18().withBaseWidth(4).withNumClasses(3));
        Module b = new ResNet(ResNetConfig.resnet18().withBaseWidth(4).withNumClasses(5));
        Module c = new ResNet(ResNetConfig.resnet18().withBaseWidth(4));
        ModelEma ema = new ModelEma(a, 0.9);
        assertThrows(IllegalArgumentException.class, () -> ema.update(b));
        assertThrows(IllegalArgumentException.class, () -> ema.update(c));
        assertThrows(IllegalArgumentException.class, () -> new ModelEma(a, 1.5));
    }
}
