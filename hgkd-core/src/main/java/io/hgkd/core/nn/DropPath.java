package io.hgkd.core.nn;

import java.util.Arrays;
import org.apache.commons.math3.random.RandomGenerator;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Stochastic depth per sample, as timm's {@code DropPath(drop_prob, scale_by_keep=True)}: in training each sample's
 * residual branch is kept with probability 1-p and then scaled by 1/(1-p); identity in evaluation or when p is 0.
 * It is {@link Dropout} with one draw per sample instead of per element.
 */
public class DropPath extends Dropout {
    /** DropPath drawing from {@link Init#defaultRandom()}. */
    public DropPath(double p) {
        this(p, Init.defaultRandom());
    }

    /** DropPath drawing one value per sample from {@code rng}. */
    public DropPath(double p, RandomGenerator rng) {
        super(p, rng);
    }

    @Override
    protected long[] maskShape(INDArray x) {
        long[] shape = new long[x.rank()];
        Arrays.fill(shape, 1);
        shape[0] = x.size(0);
        return shape;
    }
}
