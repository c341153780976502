/**
 * The training loop that composes the building blocks: one {@link io.hgkd.train.trainer.Trainer} for every
 * {@link io.hgkd.train.trainer.TrainingJob}.
 *
 * <h2>Jobs</h2>
 * <ul>
 *   <li>{@link io.hgkd.train.trainer.DistillJob} ({@code distill}): H-GKD, a frozen ViT teacher into a SparK student;
 *       with {@link io.hgkd.train.distill.DistillConfig#sparkOnly()} and no teacher it is plain SparK.</li>
 *   <li>{@link io.hgkd.train.trainer.FinetuneJob} ({@code finetune}): dense ResNet classifier, label-smoothed
 *       cross-entropy, top-1/top-5 evaluation every epoch.</li>
 *   <li>{@link io.hgkd.train.trainer.MaePretrainJob} ({@code mae}): MAE pretraining of a ViT teacher.</li>
 * </ul>
 * Each has an immutable, validated, Jackson-serialisable config record; the checkpoint stores
 * {@code {"trainer": TrainerConfig, "job": <job config>}} and a resume compares it field by field.
 *
 * <h2>Use</h2>
 * <pre>{@code
 * try (DistillJob job = new DistillJob(jobConfig)) {
 *     Trainer trainer = new Trainer(job, TrainerConfig.sparkPretrain(100), outputDir, CompositeListener.of(
 *             ProgressListener.forConsole(false), new JsonlMetricsListener(10), new PlotListener(),
 *             new NonFiniteLossGuard()));
 *     RunSummary summary = resume ? trainer.resume() : trainer.fit();
 * }
 * }</pre>
 *
 * <h2>Determinism and resume</h2>
 * One seed per job config. Nested seeds (model init, queue init) are rewritten from it by the config's constructor;
 * the data order and per-sample randomness come from (seed, epoch) through the {@link io.hgkd.train.data.Loader};
 * masks from (seed, global step) via {@link io.hgkd.train.trainer.Seeds#derive}; the LR and weight-decay schedules
 * are functions of the global step. No generator state therefore needs saving, and a run resumed at an epoch
 * boundary reproduces the uninterrupted run bit for bit (tested in one JVM and across a SIGKILLed child JVM, with
 * ND4J's default thread count on this machine). Checkpoints are written at epoch ends only, so only epoch-boundary
 * resume exists; a killed run loses the steps since the last checkpoint and recomputes them identically. Not
 * covered: drop-path/dropout streams inside the models (keep their rates at 0 for exact resume).
 */
package io.hgkd.train.trainer;
