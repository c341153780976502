package io.hgkd.train.trainer;

/**
 * Settings of the {@link Trainer} loop shared by all jobs: epochs, optimizer, schedules and checkpointing.
 *
 * <p>The learning rate follows SparK: {@code baseLr} is per 256 images, the peak is
 * {@code baseLr * batchSize / 256}, reached after {@code warmupEpochs} by a per-iteration linear warmup and followed
 * by a half cosine to 0.001 x peak at the last step ({@link io.hgkd.core.optim.WarmupCosine#spark}). The weight
 * decay goes from {@code weightDecay} to {@code weightDecayEnd} by a half cosine over the run
 * ({@link io.hgkd.core.optim.CosineWeightDecay}; SparK pretraining uses 0.04 to 0.2).
 *
 * @param epochs          epochs of the whole run, &gt;= 1
 * @param optimizer       which optimizer and hyperparameter set
 * @param baseLr          learning rate per 256 images, &gt; 0
 * @param weightDecay     weight decay at step 0, &gt;= 0
 * @param weightDecayEnd  weight decay at the last step, &gt;= 0
 * @param warmupEpochs    epochs of linear warmup, &gt;= 0 and &lt; epochs
 * @param clipGradNorm    global gradient-norm clip before the update (torch's {@code clip_grad_norm_}); 0 = none
 *                        (LAMB clips inside the optimizer anyway)
 * @param checkpointEvery write a checkpoint every this many epochs (and always after the last), &gt;= 1
 * @param keepLast        complete checkpoints kept besides the best, &gt;= 1
 * @param logEvery        a {@code metrics.jsonl} record every this many steps, &gt;= 1
 * @param accumSteps      batches (micro-batches) per optimizer step, &gt;= 1: gradients are summed over them and
 *                        divided by {@code accumSteps} ({@link io.hgkd.core.optim.GradientAccumulator}), so the
 *                        effective batch is {@code accumSteps x batchSize}; 1 = no accumulation
 * @param evalEvery       run the job's evaluation every this many epochs, and always after the last and before a
 *                        requested stop, &gt;= 1. Epochs in between report no metrics and their checkpoints none, so
 *                        the best checkpoint is chosen among evaluated epochs. Short runs on small label budgets
 *                        spend most of their time evaluating otherwise (1% of Fashion-MNIST: 5 s of training, 40 s
 *                        of evaluation per epoch)
 */
public record TrainerConfig(int epochs, OptimizerKind optimizer, double baseLr, double weightDecay,
                            double weightDecayEnd, int warmupEpochs, double clipGradNorm, int checkpointEvery,
                            int keepLast, int logEvery, int accumSteps, int evalEvery) {

    /** Optimizer choices, each with the reference hyperparameters of the method it comes from. */
    public enum OptimizerKind {
        /** LAMB as SparK pretrains: betas (0.9, 0.95), eps 1e-6, global clip 5 ({@code Lamb.Config.sparkPretrain}). */
        LAMB,
        /** AdamW with torch's betas (0.9, 0.999) and eps 1e-8 (MAE pretraining uses betas (0.9, 0.95)). */
        ADAMW,
        /** AdamW with MAE's betas (0.9, 0.95), eps 1e-8. */
        ADAMW_MAE,
        /**
         * LAMB as SparK fine-tunes ResNets ({@code Lamb.Config.sparkFinetune}): betas (0.9, 0.999), eps 1e-6, no bias
         * correction, trust ratio on every parameter, no clipping.
         */
        LAMB_FINETUNE
    }

    /** Fields a resume may change: they do not affect the numbers of the run. */
    public static final java.util.List<String> RESUMABLE_CHANGES = java.util.List.of("trainer.checkpointEvery",
            "trainer.keepLast", "trainer.logEvery", "trainer.evalEvery");

    /** Validates every field; errors name the field and value. */
    public TrainerConfig {
        if (epochs < 1) {
            throw new IllegalArgumentException("epochs must be >= 1, got " + epochs);
        }
        if (optimizer == null) {
            throw new IllegalArgumentException("optimizer must not be null");
        }
        if (!(baseLr > 0) || Double.isInfinite(baseLr)) {
            throw new IllegalArgumentException("baseLr must be positive and finite, got " + baseLr);
        }
        if (!(weightDecay >= 0) || Double.isInfinite(weightDecay) || !(weightDecayEnd >= 0)
                || Double.isInfinite(weightDecayEnd)) {
            throw new IllegalArgumentException("weightDecay and weightDecayEnd must be finite and >= 0, got "
                    + weightDecay + ", " + weightDecayEnd);
        }
        if (warmupEpochs < 0 || warmupEpochs >= epochs) {
            throw new IllegalArgumentException("warmupEpochs must be in [0, epochs = " + epochs + "), got "
                    + warmupEpochs);
        }
        if (!(clipGradNorm >= 0) || Double.isInfinite(clipGradNorm)) {
            throw new IllegalArgumentException("clipGradNorm must be 0 (off) or positive and finite, got "
                    + clipGradNorm);
        }
        if (accumSteps < 1) {
            throw new IllegalArgumentException("accumSteps must be >= 1 (1 = no accumulation), got " + accumSteps);
        }
        if (checkpointEvery < 1 || keepLast < 1 || logEvery < 1 || evalEvery < 1) {
            throw new IllegalArgumentException("checkpointEvery, keepLast, logEvery and evalEvery must be >= 1, got "
                    + checkpointEvery + ", " + keepLast + ", " + logEvery + ", " + evalEvery);
        }
    }

    /**
     * SparK-style pretraining defaults for {@code epochs}: LAMB, base lr 2e-4 per 256, wd 0.04 to 0.2, warmup of
     * 1/40 of the run (SparK: 40 of 1600 epochs), no extra clip, a checkpoint every epoch, keep 2, log every 10 steps.
     */
    public static TrainerConfig sparkPretrain(int epochs) {
        return new TrainerConfig(epochs, OptimizerKind.LAMB, 2e-4, 0.04, 0.2, epochs / 40, 0, 1, 2, 10, 1, 1);
    }

    /** A copy with another optimizer and base lr. */
    public TrainerConfig withOptimizer(OptimizerKind kind, double lr) {
        return new TrainerConfig(epochs, kind, lr, weightDecay, weightDecayEnd, warmupEpochs, clipGradNorm,
                checkpointEvery, keepLast, logEvery, accumSteps, evalEvery);
    }

    /** A copy with another weight-decay range. */
    public TrainerConfig withWeightDecay(double start, double end) {
        return new TrainerConfig(epochs, optimizer, baseLr, start, end, warmupEpochs, clipGradNorm, checkpointEvery,
                keepLast, logEvery, accumSteps, evalEvery);
    }

    /** A copy with another epoch count and warmup. */
    public TrainerConfig withEpochs(int total, int warmup) {
        return new TrainerConfig(total, optimizer, baseLr, weightDecay, weightDecayEnd, warmup, clipGradNorm,
                checkpointEvery, keepLast, logEvery, accumSteps, evalEvery);
    }

    /** A copy with {@code k} batches per optimizer step. */
    public TrainerConfig withAccumSteps(int k) {
        return new TrainerConfig(epochs, optimizer, baseLr, weightDecay, weightDecayEnd, warmupEpochs, clipGradNorm,
                checkpointEvery, keepLast, logEvery, k, evalEvery);
    }

    /** A copy with another gradient clip (0 = off). */
    public TrainerConfig withClipGradNorm(double v) {
        return new TrainerConfig(epochs, optimizer, baseLr, weightDecay, weightDecayEnd, warmupEpochs, v,
                checkpointEvery, keepLast, logEvery, accumSteps, evalEvery);
    }

    /** A copy with other checkpoint and logging intervals. */
    public TrainerConfig withCheckpointing(int every, int keep, int log) {
        return new TrainerConfig(epochs, optimizer, baseLr, weightDecay, weightDecayEnd, warmupEpochs, clipGradNorm,
                every, keep, log, accumSteps, evalEvery);
    }
}
