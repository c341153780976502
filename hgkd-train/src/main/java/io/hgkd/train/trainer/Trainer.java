package io.hgkd.train.trainer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.hgkd.core.optim.AdamW;
import io.hgkd.core.optim.CosineWeightDecay;
import io.hgkd.core.optim.Gradients;
import io.hgkd.core.optim.Lamb;
import io.hgkd.core.optim.Optimizer;
import io.hgkd.core.optim.ParamGroup;
import io.hgkd.core.optim.Schedule;
import io.hgkd.core.optim.WarmupCosine;
import io.hgkd.train.checkpoint.Checkpoint;
import io.hgkd.train.checkpoint.CheckpointManager;
import io.hgkd.train.checkpoint.Snapshot;
import io.hgkd.train.checkpoint.TrainingState;
import io.hgkd.train.data.Batch;
import io.hgkd.train.loop.CompositeListener;
import io.hgkd.train.loop.EpochEvent;
import io.hgkd.train.loop.LossChecks;
import io.hgkd.train.loop.RunInfo;
import io.hgkd.train.loop.RunSummary;
import io.hgkd.train.loop.StepEvent;
import io.hgkd.train.loop.TrainingListener;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The one training loop of all jobs ({@link TrainingJob}): schedules, optimizer, non-finite check, listeners and
 * checkpoints.
 *
 * <p>Per iteration at global step {@code g}: lr and weight decay from the schedules at {@code g}, zero the
 * gradients, {@link TrainingJob#step}, {@link LossChecks#requireFinite} (before the update, so the weights never
 * see a NaN), optional gradient clip, optimizer step, {@link TrainingJob#afterOptimizerStep},
 * {@link TrainingListener#onStepEnd}. Per epoch: the job's
 * evaluation (every {@link TrainerConfig#evalEvery()} epochs, after the last and before a requested stop; other epochs
 * report no metrics), {@link TrainingListener#onEpochEnd}, and every {@link TrainerConfig#checkpointEvery()} epochs and after
 * the last one a checkpoint in {@code <outputDir>/checkpoints} (last {@link TrainerConfig#keepLast()} plus the best
 * by {@link TrainingJob#metricName()}), then {@link TrainingListener#onCheckpoint}.
 *
 * <p><b>Checkpoint fields.</b> {@code epoch} is the number of completed epochs (the epoch a resume starts with),
 * {@code step_in_epoch} is 0 (checkpoints are only written at epoch ends), {@code global_step} the completed
 * optimizer steps, {@code config} is {@code {"trainer": TrainerConfig, "job": job config}}.
 *
 * <p><b>Resume.</b> {@link #resume()} loads the newest checkpoint, refuses a job kind or config that differs (except
 * {@link TrainerConfig#RESUMABLE_CHANGES} and the caller's extra allowed paths), restores the model, the job's extra
 * modules (EMA), optimizer, extra state and RNG states, and continues with the next epoch. Because the schedules are functions of the global
 * step and the job's randomness is a function of (seed, epoch) and (seed, step), the resumed run computes exactly
 * what the uninterrupted run computes from that epoch on. Only epoch-boundary resume exists (no mid-epoch
 * checkpoints).
 *
 * <p>Not thread-safe; one run per instance.
 */
public final class Trainer {
    /** Sub-directory of the output directory holding the checkpoints. */
    public static final String CHECKPOINTS = "checkpoints";

    static final ObjectMapper JSON = new ObjectMapper();

    private final TrainingJob job;
    private final TrainerConfig config;
    private final Path outputDir;
    private final TrainingListener listener;
    private final Optimizer optimizer;
    private final Schedule lrSchedule;
    private final Schedule wdSchedule;
    private final double peakLr;
    private final long totalSteps;
    private final int stepsPerEpoch;
    private final List<String> allowedChanges;
    private boolean used;
    private volatile boolean stopRequested;

    /**
     * @param job       the job to train (its models are built; the trainer takes its parameter groups)
     * @param config    loop settings
     * @param outputDir where metrics, plots and {@code checkpoints/} go (created if missing)
     * @param listener  receives every event (usually a {@link CompositeListener}); may be null
     */
    public Trainer(TrainingJob job, TrainerConfig config, Path outputDir, TrainingListener listener) {
        this(job, config, outputDir, listener, List.of());
    }

    /**
     * As {@link #Trainer(TrainingJob, TrainerConfig, Path, TrainingListener)}, letting a resume accept differences
     * in {@code allowedChanges} (dotted config paths such as {@code job.data.workers}) besides
     * {@link TrainerConfig#RESUMABLE_CHANGES} and the job's {@link TrainingJob#resumableChanges()}.
     */
    public Trainer(TrainingJob job, TrainerConfig config, Path outputDir, TrainingListener listener,
                   Collection<String> allowedChanges) {
        this.job = Objects.requireNonNull(job, "job");
        this.config = Objects.requireNonNull(config, "config");
        this.outputDir = Objects.requireNonNull(outputDir, "outputDir");
        this.listener = listener == null ? new TrainingListener() { } : listener;
        List<String> allowed = new ArrayList<>(TrainerConfig.RESUMABLE_CHANGES);
        allowed.addAll(job.resumableChanges());
        allowed.addAll(allowedChanges);
        this.allowedChanges = List.copyOf(allowed);
        int batches = job.batchesPerEpoch();
        // with accumulation, the batches left over at an epoch's end (fewer than accumSteps) are not used
        int steps = batches / config.accumSteps();
        if (steps < 1) {
            throw new IllegalArgumentException(job.kind() + " job has " + batches + " batches per epoch, fewer than"
                    + " the " + config.accumSteps() + " of one optimizer step (too little data for batch size "
                    + job.batchSize() + "?)");
        }
        this.stepsPerEpoch = steps;
        this.totalSteps = (long) steps * config.epochs();
        long warmupSteps = (long) steps * config.warmupEpochs();
        if (totalSteps < warmupSteps + 2) {
            throw new IllegalArgumentException("the run has " + totalSteps + " steps (" + config.epochs() + " epochs x "
                    + steps + "), too few for " + warmupSteps + " warmup steps plus a cosine (needs warmup + 2)");
        }
        this.peakLr = config.baseLr() * effectiveBatchSize() / 256.0;
        this.lrSchedule = WarmupCosine.spark(peakLr, warmupSteps, totalSteps);
        this.wdSchedule = new CosineWeightDecay(config.weightDecay(), config.weightDecayEnd(), totalSteps);
        this.optimizer = optimizer(config.optimizer(), job.paramGroups(), peakLr, config.weightDecay());
    }

    /**
     * The optimizer of {@code kind} over {@code groups} at learning rate {@code lr} (the schedule's peak) and weight
     * decay {@code weightDecay}: LAMB as SparK pretrains or fine-tunes, AdamW with PyTorch's or MAE's betas.
     */
    public static Optimizer optimizer(TrainerConfig.OptimizerKind kind, List<ParamGroup> groups, double lr,
                                      double weightDecay) {
        return switch (kind) {
            case LAMB -> new Lamb(groups, Lamb.Config.sparkPretrain(lr, weightDecay));
            case LAMB_FINETUNE -> new Lamb(groups, Lamb.Config.sparkFinetune(lr, weightDecay));
            case ADAMW -> new AdamW(groups, new AdamW.Config(lr, 0.9, 0.999, 1e-8, weightDecay));
            case ADAMW_MAE -> new AdamW(groups, new AdamW.Config(lr, 0.9, 0.95, 1e-8, weightDecay));
        };
    }

    /**
     * Asks the run to stop cleanly at the end of the current epoch: it writes a checkpoint there (if the schedule
     * did not anyway) and returns a {@link RunSummary.Status#STOPPED} summary. Safe to call from any thread (a
     * signal handler, a listener, a time limit).
     */
    public void requestStop() {
        stopRequested = true;
    }

    /** The optimizer (for inspection and tests). */
    public Optimizer optimizer() {
        return optimizer;
    }

    /** The peak learning rate, {@code baseLr * batchSize / 256}. */
    public double peakLr() {
        return peakLr;
    }

    /** Images per optimizer step: batch size x accumulation steps. */
    public int effectiveBatchSize() {
        return job.batchSize() * config.accumSteps();
    }

    /** Optimizer steps per epoch: the job's batches per epoch divided by the accumulation steps (rounded down). */
    public int stepsPerEpoch() {
        return stepsPerEpoch;
    }

    /** Optimizer steps of the whole run. */
    public long totalSteps() {
        return totalSteps;
    }

    /** The checkpoint directory, {@code <outputDir>/checkpoints}. */
    public Path checkpointDir() {
        return outputDir.resolve(CHECKPOINTS);
    }

    /** The config stored in checkpoints and compared on resume: {@code {"trainer": ..., "job": ...}}. */
    public JsonNode runConfig() {
        ObjectNode n = JSON.createObjectNode();
        n.set("trainer", JSON.valueToTree(config));
        n.set("job", JSON.valueToTree(job.config()));
        return n;
    }

    /**
     * Trains from the start.
     *
     * @throws IllegalStateException if the checkpoint directory already holds checkpoints (use {@link #resume()})
     * @throws io.hgkd.train.loop.NonFiniteLossException when a loss is NaN or infinite (the step is named)
     */
    public RunSummary fit() throws IOException {
        CheckpointManager manager = manager();
        if (!manager.checkpoints().isEmpty()) {
            throw new IllegalStateException(checkpointDir() + " already holds checkpoints (latest "
                    + manager.latest().map(Path::getFileName).orElse(null)
                    + "): resume the run, or choose an empty output directory");
        }
        return loop(manager, 0, 0, null, 0);
    }

    /**
     * Continues from the newest checkpoint in {@link #checkpointDir()}.
     *
     * @throws IllegalStateException if there is none
     * @throws io.hgkd.train.checkpoint.ConfigMismatchException if the config differs outside the allowed fields
     */
    public RunSummary resume() throws IOException {
        CheckpointManager manager = manager();
        Optional<Path> latest = manager.latest();
        if (latest.isEmpty()) {
            throw new IllegalStateException("nothing to resume: no checkpoint in " + checkpointDir());
        }
        Checkpoint ckpt = Checkpoint.load(latest.get());
        TrainingState s = ckpt.state();
        if (!s.jobKind().equals(job.kind())) {
            throw new IllegalArgumentException(ckpt.dir() + " is a '" + s.jobKind() + "' checkpoint, not '"
                    + job.kind() + "'");
        }
        if (s.stepInEpoch() != 0) {
            throw new IllegalArgumentException(ckpt.dir() + " was taken mid-epoch (step " + s.stepInEpoch()
                    + "); this trainer resumes only at epoch boundaries");
        }
        ckpt.restore(runConfig(), allowedChanges, job.model(), optimizer);
        for (String name : job.extraModules().keySet()) {
            job.loadExtraModule(name, ckpt.module(name));
        }
        job.loadExtraState(ckpt.extra());
        job.loadRngState(s.rng());
        if (s.epoch() >= config.epochs()) {
            throw new IllegalStateException(ckpt.dir() + " is the end of the run (epoch " + s.epoch() + " of "
                    + config.epochs() + "): nothing left to train");
        }
        return loop(manager, (int) s.epoch(), s.globalStep(), s.bestMetric(), s.wallTimeSeconds());
    }

    private CheckpointManager manager() throws IOException {
        Files.createDirectories(outputDir);
        return new CheckpointManager(checkpointDir(), config.keepLast(), job.metricName() == null ? null : job.goal());
    }

    private RunSummary loop(CheckpointManager manager, int startEpoch, long startStep, Double best, double wallBefore)
            throws IOException {
        if (used) {
            throw new IllegalStateException("a Trainer runs once; build a new one (and job) to train again");
        }
        used = true;
        long runStart = System.nanoTime();
        long g = startStep;
        int epoch = startEpoch;
        Map<String, Double> lastMetrics = Map.of();
        RunInfo info = new RunInfo(job.kind(), config.epochs(), stepsPerEpoch, job.batchSize(),
                effectiveBatchSize(), config.baseLr(), peakLr, outputDir, startEpoch, startStep);
        listener.onRunStart(info);
        RunSummary summary = null;
        try {
            for (; epoch < config.epochs(); epoch++) {
                long epochStart = System.nanoTime();
                Map<String, Double> sums = new LinkedHashMap<>();
                long images = 0;
                int step = 0;
                long last = System.nanoTime();
                int accum = config.accumSteps();
                int micro = 0;
                Map<String, Double> stepLosses = new LinkedHashMap<>();
                double lr = 0;
                double wd = 0;
                int stepImages = 0;
                for (Batch b : job.batches(epoch)) {
                    if (micro == 0) {
                        if (step == stepsPerEpoch) {
                            break; // leftover batches that cannot fill an accumulation group
                        }
                        if (g >= totalSteps) {
                            throw new IllegalStateException("epoch " + epoch + " runs past the schedule's "
                                    + totalSteps + " steps");
                        }
                        lr = lrSchedule.valueAt(g);
                        wd = wdSchedule.valueAt(g);
                        optimizer.setLr(lr);
                        optimizer.setWeightDecay(wd);
                        optimizer.zeroGrad();
                        stepLosses.clear();
                        stepImages = 0;
                    }
                    Map<String, Double> losses = job.step(b, g * accum + micro);
                    if (b.images().closeable()) {
                        b.images().close(); // its native memory goes now, not at the next garbage collection
                    }
                    // per micro-batch, before anything is updated, naming the optimizer step
                    LossChecks.requireFinite(epoch, step, g, losses);
                    losses.forEach((k, v) -> stepLosses.merge(k, v / accum, Double::sum));
                    stepImages += b.size();
                    if (++micro < accum) {
                        continue;
                    }
                    micro = 0;
                    if (accum > 1) {
                        Gradients.scale(optimizer.parameters(), 1.0 / accum);
                    }
                    double gradNorm = config.clipGradNorm() > 0
                            ? Gradients.clipGradNorm(optimizer.parameters(), config.clipGradNorm()) : Double.NaN;
                    optimizer.step();
                    job.afterOptimizerStep(g);
                    if (Double.isNaN(gradNorm) && optimizer instanceof Lamb lamb) {
                        gradNorm = lamb.lastGlobalGradNorm();
                    }
                    long now = System.nanoTime();
                    Map<String, Double> reported = accum == 1 ? losses : new LinkedHashMap<>(stepLosses);
                    listener.onStepEnd(new StepEvent(epoch, step, g, reported, lr, wd, gradNorm, stepImages,
                            (now - last) / 1e9));
                    last = now;
                    reported.forEach((k, v) -> sums.merge(k, v, Double::sum));
                    images += stepImages;
                    step++;
                    g++;
                }
                if (step == 0) {
                    throw new IllegalStateException("epoch " + epoch + " produced no batches");
                }
                Map<String, Double> means = new LinkedHashMap<>();
                int n = step;
                sums.forEach((k, v) -> means.put(k, v / n));
                boolean evaluated = (epoch + 1) % config.evalEvery() == 0 || epoch + 1 == config.epochs()
                        || stopRequested;
                Map<String, Double> metrics = evaluated ? job.evaluate() : Map.of();
                if (evaluated) {
                    lastMetrics = metrics;
                }
                double seconds = (System.nanoTime() - epochStart) / 1e9;
                listener.onEpochEnd(new EpochEvent(epoch, g, means, metrics, images, seconds));
                boolean stop = stopRequested && epoch + 1 < config.epochs(); // a listener may have asked just now
                if ((epoch + 1) % config.checkpointEvery() == 0 || epoch + 1 == config.epochs() || stop) {
                    Double metric = metricOf(means, metrics, evaluated);
                    if (metric != null && (best == null || better(metric, best))) {
                        best = metric;
                    }
                    double wall = wallBefore + (System.nanoTime() - runStart) / 1e9;
                    TrainingState state = TrainingState.of(job.kind(), epoch + 1, 0, g, job.metricName(), metric,
                            best, job.rngState(), wall, runConfig());
                    Snapshot snap = Snapshot.of(state, job.model(), optimizer).withExtra(job.extraState());
                    for (Map.Entry<String, Map<String, INDArray>> m : job.extraModules().entrySet()) {
                        snap = snap.withModule(m.getKey(), m.getValue());
                    }
                    Path dir = manager.save(snap);
                    listener.onCheckpoint(dir, g);
                }
                if (stop) {
                    epoch++;
                    summary = new RunSummary(RunSummary.Status.STOPPED, epoch, g,
                            (System.nanoTime() - runStart) / 1e9, lastMetrics, null);
                    return summary;
                }
            }
            summary = new RunSummary(RunSummary.Status.COMPLETED, epoch, g, (System.nanoTime() - runStart) / 1e9,
                    lastMetrics, null);
            return summary;
        } catch (RuntimeException | IOException | Error e) {
            summary = new RunSummary(RunSummary.Status.FAILED, epoch, g, (System.nanoTime() - runStart) / 1e9,
                    lastMetrics, e);
            throw e;
        } finally {
            listener.onRunEnd(summary);
        }
    }

    /** The checkpoint metric of an epoch: null when the job names none, or names an evaluation metric unevaluated. */
    private Double metricOf(Map<String, Double> means, Map<String, Double> metrics, boolean evaluated) {
        String name = job.metricName();
        if (name == null) {
            return null;
        }
        Double v = metrics.containsKey(name) ? metrics.get(name) : means.get(name);
        if (v == null && !evaluated) {
            return null;
        }
        if (v == null) {
            throw new IllegalStateException(job.kind() + " job names the metric '" + name + "', but the epoch has"
                    + " only " + metrics.keySet() + " and losses " + means.keySet());
        }
        return Double.isFinite(v) ? v : null;
    }

    private boolean better(double v, double best) {
        return job.goal() == CheckpointManager.Goal.MAXIMIZE ? v > best : v < best;
    }
}
