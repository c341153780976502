package io.hgkd.core.nn;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.nd4j.linalg.api.ndarray.INDArray;

/** Modules applied in order, named {@code 0, 1, 2, ...} as in {@code torch.nn.Sequential}. */
public class Sequential extends Module {
    private final List<Module> layers = new ArrayList<>();

    public Sequential(Module... modules) {
        for (Module m : modules) {
            add(m);
        }
    }

    /** Appends a module under the next index and returns this. */
    public final Sequential add(Module m) {
        registerModule(Integer.toString(layers.size()), m);
        layers.add(m);
        return this;
    }

    /** The layers in order. */
    public final List<Module> layers() {
        return Collections.unmodifiableList(layers);
    }

    @Override
    public INDArray forward(INDArray x) {
        INDArray h = x;
        for (Module m : layers) {
            h = m.forward(h);
        }
        return h;
    }

    @Override
    public INDArray backward(INDArray gradOutput) {
        INDArray g = gradOutput;
        for (int i = layers.size() - 1; i >= 0; i--) {
            g = layers.get(i).backward(g);
        }
        return g;
    }
}
