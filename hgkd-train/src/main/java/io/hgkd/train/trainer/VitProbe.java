package io.hgkd.train.trainer;

import io.hgkd.core.optim.Optimizer;
import io.hgkd.core.optim.WarmupCosine;
import io.hgkd.models.checkpoint.Checkpoints;
import io.hgkd.models.vit.VisionTransformer;
import io.hgkd.train.data.Batch;
import io.hgkd.train.data.Dataset;
import io.hgkd.train.data.Loader;
import io.hgkd.train.finetune.ClassificationMetrics;
import io.hgkd.train.finetune.LinearProbe;
import io.hgkd.train.finetune.VitClassifier;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** Runs the linear probe of a {@link VitProbeConfig}: teacher quality as one number. */
public final class VitProbe {
    private VitProbe() {
    }

    /**
     * What a probe measured.
     *
     * @param top1           top-1 on the evaluation split
     * @param top5           top-5 (k clipped to the class count)
     * @param evalLoss       mean cross-entropy on the evaluation split
     * @param trainTop1      top-1 on the probe's own training features
     * @param trainSize      labelled training examples used
     * @param evalSize       evaluation examples
     * @param featureDim     D
     * @param epochLosses    mean training loss of every probe epoch
     * @param featureSeconds wall time of the feature extraction
     * @param probeSeconds   wall time of the probe training and evaluation
     */
    public record Result(double top1, double top5, double evalLoss, double trainTop1, int trainSize, int evalSize,
                         int featureDim, List<Double> epochLosses, double featureSeconds, double probeSeconds) {
        /** Copies the list. */
        public Result {
            epochLosses = List.copyOf(epochLosses);
        }
    }

    /** Features and labels of a dataset. */
    record Features(INDArray x, int[] y) {
    }

    /**
     * Builds the encoder (loading its weights if given), extracts the features and trains and evaluates the probe.
     *
     * @throws IOException if the weights or the data cannot be read
     */
    public static Result run(VitProbeConfig config) throws IOException {
        VisionTransformer vit = encoder(config);
        long t0 = System.nanoTime();
        Features train = features(vit, config.data(), config.data().trainForFeatures(), config.seed(), "train");
        Features eval = features(vit, config.data(), config.data().eval(), config.seed(), "eval");
        double featureSeconds = (System.nanoTime() - t0) / 1e9;
        long t1 = System.nanoTime();
        int k = config.data().classes();
        int d = (int) train.x().size(1);
        LinearProbe probe = new LinearProbe(d, k, config.batchNorm(), Seeds.derive(config.seed(), "init.probe", 0));
        double peak = config.baseLr() * config.batchSize() / 256.0;
        Optimizer sgd = probe.sgd(peak);
        // MAE's schedule in half epochs, read at the middle of each epoch: the first warmup epoch does not run at 0
        WarmupCosine lr = WarmupCosine.mae(peak, 0, 2L * config.warmupEpochs(), 2L * config.epochs());
        List<Double> losses = new ArrayList<>();
        for (int e = 0; e < config.epochs(); e++) {
            sgd.setLr(lr.valueAt(2L * e + 1));
            losses.add(probe.trainEpoch(train.x(), train.y(), Math.min(config.batchSize(), train.y().length), sgd,
                    Seeds.derive(config.seed(), "probe.data", e)));
        }
        ClassificationMetrics m = probe.evaluate(eval.x(), eval.y());
        ClassificationMetrics mt = probe.evaluate(train.x(), train.y());
        return new Result(m.top1(), m.top5(), m.meanLoss(), mt.top1(), train.y().length, eval.y().length, d, losses,
                featureSeconds, (System.nanoTime() - t1) / 1e9);
    }

    /** The frozen encoder of {@code config}: random from its seed, or with the weights loaded (checked). */
    public static VisionTransformer encoder(VitProbeConfig config) throws IOException {
        VisionTransformer vit = new VisionTransformer(config.encoder());
        if (config.encoderWeights() != null) {
            Path file = Path.of(config.encoderWeights());
            var r = vit.loadStateDict(Checkpoints.read(file), false);
            if (!r.missing().isEmpty() || !r.wrongShape().isEmpty()) {
                throw new IllegalArgumentException(file + " does not fit the ViT encoder " + config.encoder() + ": "
                        + r);
            }
        }
        return vit.freeze();
    }

    /**
     * Mean-pooled final tokens of every example of {@code dataset}, in order; prints progress on standard output
     * every half minute (a 70k-image extraction takes minutes on a small CPU).
     */
    static Features features(VisionTransformer vit, DataConfig data, Dataset dataset, long seed, String split) {
        int n = dataset.size();
        long start = System.nanoTime();
        long lastReport = start;
        INDArray x = Nd4j.create(DataType.FLOAT, n, vit.config().embedDim());
        int[] y = new int[n];
        int row = 0;
        try (Loader loader = data.loader(dataset, Seeds.derive(seed, "probe.features", 0), false)) {
            for (Batch b : loader.epoch(0)) {
                INDArray f = VitClassifier.meanPatchTokens(vit.forwardTokens(b.images()), vit.numPrefixTokens());
                int m = b.size();
                x.get(org.nd4j.linalg.indexing.NDArrayIndex.interval(row, row + m),
                        org.nd4j.linalg.indexing.NDArrayIndex.all()).assign(f);
                System.arraycopy(b.labels(), 0, y, row, m);
                row += m;
                long now = System.nanoTime();
                if (now - lastReport > 30_000_000_000L) {
                    lastReport = now;
                    double rate = row / ((now - start) / 1e9);
                    System.out.printf("probe features (%s): %d/%d images, %.1f img/s, ETA %.0f s%n", split, row, n,
                            rate, (n - row) / rate);
                }
            }
        }
        if (row != n) {
            // the loader skips unreadable images; keep only the rows filled
            x = x.get(org.nd4j.linalg.indexing.NDArrayIndex.interval(0, row),
                    org.nd4j.linalg.indexing.NDArrayIndex.all()).dup();
            y = java.util.Arrays.copyOf(y, row);
        }
        return new Features(x, y);
    }
}
