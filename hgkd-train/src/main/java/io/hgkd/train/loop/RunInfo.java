package io.hgkd.train.loop;

import java.nio.file.Path;
import java.util.Objects;

/**
 * What a run is about to do, sent once to {@link TrainingListener#onRunStart}.
 *
 * @param jobName            the job, e.g. {@code distill}, {@code spark}, {@code mae}, {@code finetune}
 * @param totalEpochs        epochs of the whole run (not just what remains after a resume)
 * @param iterationsPerEpoch optimizer steps per epoch
 * @param batchSize          images per forward pass
 * @param effectiveBatchSize images per optimizer step (batch size x accumulation steps x devices)
 * @param baseLr             the configured learning rate before batch-size scaling
 * @param scaledLr           the peak learning rate actually used (e.g. {@code baseLr * effectiveBatchSize / 256})
 * @param outputDir          the run's output directory; file-writing listeners write there
 * @param startEpoch         the first epoch this process runs: 0 for a fresh run, the checkpoint's epoch on resume
 * @param startGlobalStep    steps already completed: 0 for a fresh run, the checkpoint's step on resume
 */
public record RunInfo(String jobName, int totalEpochs, int iterationsPerEpoch, int batchSize, int effectiveBatchSize,
        double baseLr, double scaledLr, Path outputDir, int startEpoch, long startGlobalStep) {

    /** Validates the counts, so listeners can divide by them. */
    public RunInfo {
        Objects.requireNonNull(jobName, "jobName");
        Objects.requireNonNull(outputDir, "outputDir");
        if (totalEpochs < 1 || iterationsPerEpoch < 1 || batchSize < 1 || effectiveBatchSize < 1) {
            throw new IllegalArgumentException("totalEpochs, iterationsPerEpoch, batchSize and effectiveBatchSize must "
                    + "be positive, got " + totalEpochs + ", " + iterationsPerEpoch + ", " + batchSize + ", "
                    + effectiveBatchSize);
        }
        if (startEpoch < 0 || startGlobalStep < 0) {
            throw new IllegalArgumentException("startEpoch and startGlobalStep must be >= 0, got " + startEpoch
                    + " and " + startGlobalStep);
        }
    }

    /** A fresh run (no resume). */
    public static RunInfo fresh(String jobName, int totalEpochs, int iterationsPerEpoch, int batchSize,
            int effectiveBatchSize, double baseLr, double scaledLr, Path outputDir) {
        return new RunInfo(jobName, totalEpochs, iterationsPerEpoch, batchSize, effectiveBatchSize, baseLr, scaledLr,
                outputDir, 0, 0);
    }

    /** Optimizer steps of the whole run. */
    public long totalSteps() {
        return (long) totalEpochs * iterationsPerEpoch;
    }

    /** True when this process continues a checkpoint. */
    public boolean resumed() {
        return startGlobalStep > 0;
    }
}
