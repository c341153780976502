package io.hgkd.core.nn;

import org.apache.commons.math3.random.RandomGenerator;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Stochastic depth per sample, as timm's {@code DropPath(drop_prob, scale_by_keep=True)}: in training each sample's
 * residual branch is kept with probability 1-p and then scaled by 1/(1-p); identity in evaluation or when p is 0.
 */
public class DropPath extends Module {
    private final double p;
    private final RandomGenerator rng;
    private INDArray keep;

    /** DropPath drawing from {@link Init#defaultRandom()}. */
    public DropPath(double p) {
        this(p, Init.defaultRandom());
    }

    /** DropPath drawing one value per sample from {@code rng}. */
    public DropPath(double p, RandomGenerator rng) {
        if (!(p >= 0 && p < 1)) {
            throw new IllegalArgumentException("DropPath probability must be in [0, 1), got " + p);
        }
        this.p = p;
        this.rng = rng;
    }

    public double p() {
        return p;
    }

    @Override
    public INDArray forward(INDArray x) {
        if (!isTraining() || p == 0) {
            keep = null;
            return x;
        }
        long b = x.size(0);
        double[] k = new double[(int) b];
        for (int i = 0; i < k.length; i++) {
            k[i] = rng.nextDouble() < p ? 0.0 : 1.0 / (1.0 - p);
        }
        long[] shape = new long[x.rank()];
        java.util.Arrays.fill(shape, 1);
        shape[0] = b;
        keep = Nd4j.create(k, shape, x.dataType());
        return x.mul(keep);
    }

    @Override
    public INDArray backward(INDArray gradOutput) {
        return keep == null ? gradOutput : gradOutput.mul(keep);
    }
}
