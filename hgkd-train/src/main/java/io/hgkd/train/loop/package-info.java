/**
 * The training loop's event API and the listeners that turn its events into side effects: a console progress line,
 * JSONL metrics, PNG plots and the non-finite loss guard.
 *
 * <p>The loop stays pure: it calls {@link io.hgkd.train.loop.TrainingListener} methods (usually on one
 * {@link io.hgkd.train.loop.CompositeListener}) and never prints, logs metrics or draws itself.
 *
 * <p>Counting convention, used by every event: {@code epoch}, {@code step} (within the epoch) and {@code globalStep}
 * are 0-based indices of the step the event describes. A checkpoint taken after {@code n} completed optimizer steps
 * has step {@code n}, and a run resumed from it starts with {@link io.hgkd.train.loop.RunInfo#startGlobalStep()}
 * {@code = n}, so its first {@link io.hgkd.train.loop.StepEvent} has {@code globalStep == n}. Humans see 1-based
 * numbers in the progress line only.
 *
 * <p>Typical wiring (the guard last, so the bad step is still logged and shown before the run stops):
 * <pre>{@code
 * CompositeListener listeners = CompositeListener.of(
 *         ProgressListener.forConsole(false),
 *         new JsonlMetricsListener(config.logEvery()),
 *         new PlotListener(),
 *         new NonFiniteLossGuard());
 * listeners.onRunStart(runInfo);
 * RunSummary summary = null;
 * try {
 *     ... per step: LossChecks.requireFinite(epoch, step, globalStep, losses) before the update,
 *         then listeners.onStepEnd(new StepEvent(...));
 *     ... per epoch: listeners.onEpochEnd(...); write the checkpoint; listeners.onCheckpoint(dir, globalStep);
 *     summary = new RunSummary(Status.COMPLETED, ...);
 * } catch (RuntimeException e) {
 *     summary = new RunSummary(Status.FAILED, ..., e);
 *     throw e;
 * } finally {
 *     listeners.onRunEnd(summary);   // never throws over a training error
 * }
 * }</pre>
 */
package io.hgkd.train.loop;
