package io.hgkd.train.finetune;

import io.hgkd.core.loss.CrossEntropy;
import io.hgkd.core.nn.Module;
import io.hgkd.train.data.Batch;
import java.util.Objects;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Evaluates a classifier over labelled batches in evaluation mode (BN running statistics, no drop-path), collecting
 * {@link ClassificationMetrics} with the plain cross-entropy (no smoothing) as the loss, as SparK's evaluation does.
 * The model's previous training/eval mode is restored afterwards.
 */
public final class Evaluator {
    private Evaluator() {
    }

    /**
     * Runs {@code model} on every batch.
     *
     * @param model      maps (B, C, H, W) images to (B, K) logits
     * @param batches    labelled batches (labels in [0, K); unlabelled samples, -1, are rejected)
     * @param numClasses K
     * @return the metrics over all batches
     */
    public static ClassificationMetrics evaluate(Module model, Iterable<Batch> batches, int numClasses) {
        return evaluate(model, batches, numClasses, false);
    }

    /**
     * As {@link #evaluate(Module, Iterable, int)}; with {@code closeImages} each batch's images are closed after its
     * forward pass, so that their native memory goes at once rather than at a later garbage collection (for batches
     * made for this evaluation only, such as a {@code Loader} epoch's: the trainer closes its batches the same way).
     */
    public static ClassificationMetrics evaluate(Module model, Iterable<Batch> batches, int numClasses,
            boolean closeImages) {
        Objects.requireNonNull(model, "model");
        Objects.requireNonNull(batches, "batches");
        ClassificationMetrics metrics = new ClassificationMetrics(numClasses);
        CrossEntropy ce = new CrossEntropy();
        boolean wasTraining = model.isTraining();
        model.eval();
        try {
            for (Batch b : batches) {
                INDArray logits = model.forward(b.images());
                int[] labels = b.labels();
                metrics.update(logits, labels, ce.forward(logits, labels));
                if (closeImages) {
                    b.images().close();
                }
            }
        } finally {
            model.train(wasTraining);
        }
        return metrics;
    }
}
