package io.hgkd.train.finetune;

import io.hgkd.core.loss.CrossEntropy;
import io.hgkd.core.nn.BatchNorm2d;
import io.hgkd.core.nn.Init;
import io.hgkd.core.nn.Linear;
import io.hgkd.core.nn.Module;
import io.hgkd.core.optim.Optimizer;
import io.hgkd.core.optim.ParamGroups;
import io.hgkd.core.optim.Sgd;
import java.util.Arrays;
import java.util.Objects;
import java.util.Random;
import org.apache.commons.math3.random.MersenneTwister;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Linear probing: a linear classifier trained on features of a frozen encoder, with MAE's head
 * ({@code main_linprobe.py}: {@code BatchNorm1d(D, affine=False, eps=1e-6)} then {@code Linear(D, K)} with
 * {@code trunc_normal_(std=0.01)} weights and zero bias). The BN is optional.
 *
 * <p>The affine-free BN is a {@link BatchNorm2d} over (B, D, 1, 1) whose weight (1) and bias (0) are frozen, so it
 * computes the same function; its state-dict keys therefore include {@code bn.weight} and {@code bn.bias}, unlike
 * PyTorch's affine-free BN. Training uses plain cross-entropy and an SGD of the caller's choice (MAE uses LARS; not
 * available here, so {@link #sgd} builds momentum SGD without weight decay as the default).
 */
public final class LinearProbe extends Module {
    private final BatchNorm2d bn;
    private final Linear head;
    private final int dim;

    /**
     * @param dim        feature dimension D
     * @param numClasses K
     * @param batchNorm  whether to normalise features with an affine-free BN first (MAE's default)
     * @param seed       seed of the head initialisation
     */
    public LinearProbe(int dim, int numClasses, boolean batchNorm, long seed) {
        if (dim < 1 || numClasses < 1) {
            throw new IllegalArgumentException("LinearProbe needs dim >= 1 and numClasses >= 1, got " + dim + ", "
                    + numClasses);
        }
        this.dim = dim;
        if (batchNorm) {
            bn = registerModule("bn", new BatchNorm2d(dim, 1e-6, 0.1));
            bn.weight().setRequiresGrad(false);
            bn.bias().setRequiresGrad(false);
        } else {
            bn = null;
        }
        head = registerModule("head", new Linear(dim, numClasses));
        Init.truncNormal(head.weight().data(), 0.01, new MersenneTwister(seed));
        head.bias().data().assign(0);
    }

    /**
     * Pooled features of {@code images} from a frozen encoder, in evaluation mode (the encoder's mode is restored).
     *
     * @param encoder maps images to (B, D) features, e.g. a ResNet built with {@code numClasses = 0}
     * @return a (B, D) copy
     */
    public static INDArray extractFeatures(Module encoder, INDArray images) {
        Objects.requireNonNull(encoder, "encoder");
        boolean wasTraining = encoder.isTraining();
        encoder.eval();
        try {
            INDArray f = encoder.forward(images);
            if (f.rank() != 2) {
                throw new IllegalArgumentException("the encoder must return (B, D) features, got shape "
                        + Arrays.toString(f.shape()) + " (build the ResNet with numClasses = 0)");
            }
            return f.dup();
        } finally {
            encoder.train(wasTraining);
        }
    }

    /** Momentum-0.9 SGD with learning rate {@code lr} and no weight decay over the head's trainable parameters. */
    public Optimizer sgd(double lr) {
        return new Sgd(ParamGroups.single(namedParameters()), Sgd.Config.of(lr).withMomentum(0.9));
    }

    @Override
    public INDArray forward(INDArray features) {
        if (features.rank() != 2 || features.size(1) != dim) {
            throw new IllegalArgumentException("LinearProbe expects (B, " + dim + ") features, got shape "
                    + Arrays.toString(features.shape()));
        }
        INDArray x = features.castTo(DataType.FLOAT);
        if (bn != null) {
            x = bn.forward(x.reshape(x.size(0), dim, 1, 1)).reshape(x.size(0), dim);
        }
        return head.forward(x);
    }

    @Override
    public INDArray backward(INDArray gradOutput) {
        INDArray g = head.backward(gradOutput);
        if (bn != null) {
            g = bn.backward(g.reshape(g.size(0), dim, 1, 1)).reshape(g.size(0), dim);
        }
        return g;
    }

    /**
     * One epoch of mini-batch training on precomputed features, in a seeded random order.
     *
     * @param features  (N, D)
     * @param labels    N class indices
     * @param batchSize samples per step (a last partial batch of one sample is skipped, as BN needs two)
     * @param optimizer built over this probe's parameters (e.g. {@link #sgd})
     * @param seed      shuffling seed
     * @return the mean training loss over the steps
     */
    public double trainEpoch(INDArray features, int[] labels, int batchSize, Optimizer optimizer, long seed) {
        Objects.requireNonNull(optimizer, "optimizer");
        if (features.rank() != 2 || features.size(0) != labels.length || batchSize < 2) {
            throw new IllegalArgumentException("trainEpoch needs (N, D) features for N labels and batchSize >= 2, got "
                    + Arrays.toString(features.shape()) + ", " + labels.length + " labels, batch " + batchSize);
        }
        int n = labels.length;
        int[] order = new int[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        Random rnd = new Random(seed);
        for (int i = n - 1; i > 0; i--) {
            int j = rnd.nextInt(i + 1);
            int t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
        train(true);
        CrossEntropy ce = new CrossEntropy();
        double lossSum = 0;
        int steps = 0;
        for (int start = 0; start < n; start += batchSize) {
            int end = Math.min(n, start + batchSize);
            if (end - start < 2) {
                break;
            }
            int[] idx = Arrays.copyOfRange(order, start, end);
            int[] y = new int[idx.length];
            for (int i = 0; i < idx.length; i++) {
                y[i] = labels[idx[i]];
            }
            INDArray x = Nd4j.pullRows(features, 1, idx);
            optimizer.zeroGrad();
            lossSum += ce.forward(forward(x), y);
            backward(ce.backward());
            optimizer.step();
            steps++;
        }
        return lossSum / steps;
    }

    /** Metrics of the probe on (N, D) features, in evaluation mode (BN running statistics). */
    public ClassificationMetrics evaluate(INDArray features, int[] labels) {
        boolean wasTraining = isTraining();
        eval();
        try {
            ClassificationMetrics m = new ClassificationMetrics((int) head.outFeatures());
            INDArray logits = forward(features);
            m.update(logits, labels, new CrossEntropy().forward(logits, labels));
            return m;
        } finally {
            train(wasTraining);
        }
    }
}
