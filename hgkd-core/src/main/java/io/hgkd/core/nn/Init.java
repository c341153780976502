package io.hgkd.core.nn;

import org.apache.commons.math3.random.MersenneTwister;
import org.apache.commons.math3.random.RandomGenerator;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Weight initialisation matching PyTorch and timm ({@code torch.nn.init}, {@code timm.layers.trunc_normal_}).
 *
 * <p>Values are drawn on the host from a {@link RandomGenerator}, so a seed gives the same weights on every backend.
 * Layers draw their PyTorch-default initialisation from {@link #defaultRandom()}, which {@link #manualSeed(long)}
 * reseeds (the analogue of {@code torch.manual_seed}); models pass their own generator when they re-initialise.
 */
public final class Init {
    private static RandomGenerator defaultRandom = new MersenneTwister(0);

    private Init() {
    }

    /** Reseeds the generator used for layers' default initialisation. */
    public static synchronized void manualSeed(long seed) {
        defaultRandom = new MersenneTwister(seed);
    }

    /** The generator used for layers' default initialisation. */
    public static synchronized RandomGenerator defaultRandom() {
        return defaultRandom;
    }

    /** PyTorch's fan-in: {@code size(1) * prod(kernel dims)}. */
    public static long fanIn(INDArray w) {
        if (w.rank() < 2) {
            throw new IllegalArgumentException("fan-in needs a tensor of rank >= 2, got shape " + Tensors.shape(w));
        }
        return w.size(1) * receptive(w);
    }

    /** PyTorch's fan-out: {@code size(0) * prod(kernel dims)}. */
    public static long fanOut(INDArray w) {
        if (w.rank() < 2) {
            throw new IllegalArgumentException("fan-out needs a tensor of rank >= 2, got shape " + Tensors.shape(w));
        }
        return w.size(0) * receptive(w);
    }

    private static long receptive(INDArray w) {
        long r = 1;
        for (int i = 2; i < w.rank(); i++) {
            r *= w.size(i);
        }
        return r;
    }

    private static void fill(INDArray w, double[] values) {
        w.assign(Nd4j.create(values, w.shape(), w.dataType()));
    }

    /** {@code nn.init.normal_}. */
    public static void normal(INDArray w, double mean, double std, RandomGenerator rng) {
        double[] v = new double[(int) w.length()];
        for (int i = 0; i < v.length; i++) {
            v[i] = mean + std * rng.nextGaussian();
        }
        fill(w, v);
    }

    /** {@code nn.init.uniform_(w, low, high)}. */
    public static void uniform(INDArray w, double low, double high, RandomGenerator rng) {
        double[] v = new double[(int) w.length()];
        for (int i = 0; i < v.length; i++) {
            v[i] = low + (high - low) * rng.nextDouble();
        }
        fill(w, v);
    }

    /**
     * {@code trunc_normal_(w, mean, std, a, b)} with absolute bounds, as timm and PyTorch define them (so the
     * default ±2 bounds with std 0.02 are effectively a plain normal, while SparK's mask tokens use ±0.02).
     */
    public static void truncNormal(INDArray w, double mean, double std, double a, double b, RandomGenerator rng) {
        if (!(a < b)) {
            throw new IllegalArgumentException("truncNormal needs a < b, got a=" + a + ", b=" + b);
        }
        double[] v = new double[(int) w.length()];
        for (int i = 0; i < v.length; i++) {
            double s;
            int tries = 0;
            do {
                s = mean + std * rng.nextGaussian();
                if (++tries > 10_000) {
                    throw new IllegalArgumentException("truncNormal bounds [" + a + ", " + b
                            + "] are too far from mean " + mean + " with std " + std);
                }
            } while (s < a || s > b);
            v[i] = s;
        }
        fill(w, v);
    }

    /** {@code trunc_normal_(w, std=std)} with timm's default bounds ±2 (absolute). */
    public static void truncNormal(INDArray w, double std, RandomGenerator rng) {
        truncNormal(w, 0, std, -2, 2, rng);
    }

    /** {@code kaiming_normal_(w, mode='fan_out', nonlinearity='relu')}: std = sqrt(2 / fan_out), as timm ResNet. */
    public static void kaimingNormalFanOut(INDArray w, RandomGenerator rng) {
        normal(w, 0, Math.sqrt(2.0 / fanOut(w)), rng);
    }

    /** {@code kaiming_normal_(w, mode='fan_in', nonlinearity='relu')}. */
    public static void kaimingNormalFanIn(INDArray w, RandomGenerator rng) {
        normal(w, 0, Math.sqrt(2.0 / fanIn(w)), rng);
    }

    /** {@code kaiming_uniform_(w, a)} with fan-in mode and leaky-relu gain sqrt(2 / (1 + a^2)). */
    public static void kaimingUniform(INDArray w, double a, RandomGenerator rng) {
        double gain = Math.sqrt(2.0 / (1 + a * a));
        double bound = gain * Math.sqrt(3.0 / fanIn(w));
        uniform(w, -bound, bound, rng);
    }

    /** PyTorch's default Conv/Linear weight init: kaiming-uniform with a = sqrt(5), i.e. U(±1/sqrt(fan_in)). */
    public static void pytorchDefault(INDArray w, RandomGenerator rng) {
        kaimingUniform(w, Math.sqrt(5), rng);
    }

    /** PyTorch's default Conv/Linear bias init: U(±1/sqrt(fan_in)). */
    public static void pytorchDefaultBias(INDArray b, long fanIn, RandomGenerator rng) {
        double bound = fanIn > 0 ? 1.0 / Math.sqrt(fanIn) : 0;
        uniform(b, -bound, bound, rng);
    }

    /** {@code xavier_uniform_(w, gain)}: U(±gain * sqrt(6 / (fan_in + fan_out))), as MAE's Linear layers. */
    public static void xavierUniform(INDArray w, double gain, RandomGenerator rng) {
        double bound = gain * Math.sqrt(6.0 / (fanIn(w) + fanOut(w)));
        uniform(w, -bound, bound, rng);
    }

    /** Fills with a constant. */
    public static void constant(INDArray w, double value) {
        w.assign(value);
    }
}
