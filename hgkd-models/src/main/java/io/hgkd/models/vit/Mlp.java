package io.hgkd.models.vit;

import io.hgkd.core.nn.Dropout;
import io.hgkd.core.nn.GELU;
import io.hgkd.core.nn.Linear;
import io.hgkd.core.nn.Module;
import org.apache.commons.math3.random.RandomGenerator;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * timm's {@code Mlp}: {@code fc1 -> GELU (exact erf form) -> drop1 -> fc2 -> drop2}, over the last dimension.
 */
public class Mlp extends Module {
    private final Linear fc1;
    private final GELU act;
    private final Dropout drop1;
    private final Linear fc2;
    private final Dropout drop2;

    /**
     * @param inFeatures     D
     * @param hiddenFeatures hidden width (timm: {@code int(D * mlp_ratio)})
     * @param dropRate       dropout after the activation and after {@code fc2}
     * @param rng            generator of the dropout draws
     */
    public Mlp(int inFeatures, int hiddenFeatures, double dropRate, RandomGenerator rng) {
        this.fc1 = registerModule("fc1", new Linear(inFeatures, hiddenFeatures));
        this.act = registerModule("act", new GELU());
        this.drop1 = registerModule("drop1", new Dropout(dropRate, rng));
        this.fc2 = registerModule("fc2", new Linear(hiddenFeatures, inFeatures));
        this.drop2 = registerModule("drop2", new Dropout(dropRate, rng));
    }

    public Linear fc1() {
        return fc1;
    }

    public Linear fc2() {
        return fc2;
    }

    @Override
    public INDArray forward(INDArray x) {
        return drop2.forward(fc2.forward(drop1.forward(act.forward(fc1.forward(x)))));
    }

    @Override
    public INDArray backward(INDArray gradOutput) {
        return fc1.backward(act.backward(drop1.backward(fc2.backward(drop2.backward(gradOutput)))));
    }

    /** Forward of 2-D {@code x2d} into the scratch buffer {@code "mlp_out"}, keeping nothing for backward. */
    INDArray forwardNoGrad(INDArray x2d, Scratch s) {
        DataType type = x2d.dataType();
        long rows = x2d.size(0);
        INDArray h = s.get("mlp_hidden", type, rows, fc1.outFeatures());
        Scratch.linear(x2d, fc1, h);
        Scratch.geluInPlace(h, s.get("mlp_tmp", type, rows, fc1.outFeatures()));
        INDArray out = s.get("mlp_out", type, rows, fc2.outFeatures());
        Scratch.linear(h, fc2, out);
        return out;
    }
}
