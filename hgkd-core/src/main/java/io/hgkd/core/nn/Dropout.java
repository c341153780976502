package io.hgkd.core.nn;

import org.apache.commons.math3.random.RandomGenerator;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Element-wise dropout, as {@code torch.nn.Dropout(p)}: in training each element is zeroed with probability p and the
 * rest are scaled by 1/(1-p); identity in evaluation or when p is 0. Draws come from the generator given at
 * construction, so a seed reproduces them.
 */
public class Dropout extends Module {
    private final double p;
    private final RandomGenerator rng;
    private INDArray keep;

    /** Dropout drawing from {@link Init#defaultRandom()}. */
    public Dropout(double p) {
        this(p, Init.defaultRandom());
    }

    /** Dropout drawing from {@code rng}. */
    public Dropout(double p, RandomGenerator rng) {
        if (!(p >= 0 && p < 1)) {
            throw new IllegalArgumentException(getClass().getSimpleName() + " probability must be in [0, 1), got " + p);
        }
        this.p = p;
        this.rng = rng;
    }

    public double p() {
        return p;
    }

    /** Shape of the keep mask, broadcast against the input: one draw per element here. */
    protected long[] maskShape(INDArray x) {
        return x.shape();
    }

    @Override
    public INDArray forward(INDArray x) {
        if (!isTraining() || p == 0) {
            keep = null;
            return x;
        }
        long[] shape = maskShape(x);
        double[] k = new double[Math.toIntExact(java.util.Arrays.stream(shape).reduce(1, (a, b) -> a * b))];
        double scale = 1.0 / (1.0 - p);
        for (int i = 0; i < k.length; i++) {
            k[i] = rng.nextDouble() < p ? 0.0 : scale;
        }
        keep = Nd4j.create(k, shape, x.dataType());
        return x.mul(keep);
    }

    @Override
    public INDArray backward(INDArray gradOutput) {
        return keep == null ? gradOutput : gradOutput.mul(keep);
    }
}
