package io.hgkd.examples.cli;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.databind.exc.ValueInstantiationException;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import io.hgkd.train.loop.CompositeListener;
import io.hgkd.train.loop.JsonlMetricsListener;
import io.hgkd.train.loop.MemoryListener;
import io.hgkd.train.loop.NonFiniteLossGuard;
import io.hgkd.train.loop.PlotListener;
import io.hgkd.train.loop.ProgressListener;
import io.hgkd.train.loop.RunInfo;
import io.hgkd.train.loop.RunSummary;
import io.hgkd.train.loop.TrainingListener;
import io.hgkd.train.preview.PreviewListener;
import io.hgkd.train.preview.Previewable;
import io.hgkd.train.trainer.DataConfig;
import io.hgkd.train.trainer.FinetuneJobConfig;
import io.hgkd.train.trainer.GcListener;
import io.hgkd.train.trainer.Trainer;
import io.hgkd.train.trainer.TrainerConfig;
import io.hgkd.train.trainer.TrainingJob;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;

/**
 * The options and the run shared by the training commands ({@code distill}, {@code finetune},
 * {@code pretrain-teacher}): a picocli mixin plus {@link #run}, which reads the config, applies {@code --set},
 * builds the job and trains it with the standard listeners.
 */
final class TrainingRun {
    /** Reads config files: comments allowed, unknown fields and missing fields refused. */
    static final ObjectMapper JSON = new ObjectMapper()
            .enable(JsonParser.Feature.ALLOW_COMMENTS)
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
            .enable(DeserializationFeature.FAIL_ON_MISSING_CREATOR_PROPERTIES)
            .enable(SerializationFeature.INDENT_OUTPUT);

    /** Collections every this many optimizer steps (see {@link GcListener}). */
    static final int GC_EVERY = 25;

    @Option(names = {"-c", "--config"}, required = true, paramLabel = "FILE.json",
            description = "The run's config: a JSON object {\"trainer\": {...}, \"job\": {...}} (// and /* */ "
                    + "comments allowed). Fields: docs/training.md and the records TrainerConfig and the job's "
                    + "config; examples in hgkd-examples/src/main/resources/configs/, also readable as "
                    + "classpath:configs/NAME.json.")
    Path config;

    @Option(names = "--set", paramLabel = "KEY.PATH=VALUE",
            description = "Override one config field before it is read, e.g. --set trainer.epochs=2 or "
                    + "--set job.data.batchSize=64. VALUE is JSON (number, true, null, [1,2], \"text\") or else a "
                    + "plain string. Repeatable.")
    List<String> sets = new ArrayList<>();

    @Option(names = {"-o", "--output"}, required = true, paramLabel = "DIR",
            description = "Run directory: config.json, metrics.jsonl, plots and checkpoints/.")
    Path output;

    @Option(names = "--resume", description = "Continue from the latest checkpoint in DIR (the config must match it"
            + " except trainer.checkpointEvery, keepLast, logEvery). Without it a DIR that holds checkpoints is "
            + "refused.")
    boolean resume;

    @Option(names = "--print-config", description = "Print the effective config (file + --set, derived seeds "
            + "filled in) and exit without training.")
    boolean printConfig;

    @Option(names = "--no-gc", description = "Do not call System.gc() every " + GC_EVERY + " steps and at epoch "
            + "ends (ND4J's native memory is freed only when its Java wrappers are collected; without it RSS can grow "
            + "by GBs).")
    boolean noGc;

    @Option(names = "--previews", paramLabel = "N", defaultValue = "" + PreviewListener.DEFAULT_IMAGES,
            description = "Pretraining jobs (distill, pretrain-teacher): write DIR/previews/epoch-NNNN.png every epoch"
                    + " for N fixed images (input, mask, masked input, reconstruction, student and teacher features);"
                    + " 0 = off. Default: ${DEFAULT-VALUE}.")
    int previews;

    @Option(names = "--memory-every", paramLabel = "K", defaultValue = "0",
            description = "Print the process RSS, JavaCPP's native byte counts and the Java heap every K steps and at"
                    + " each epoch end (to check that native memory stays flat); 0 = off. Default: ${DEFAULT-VALUE}.")
    int memoryEvery;

    /**
     * The standard listeners of a training run: the effective config written to {@code DIR/config.json} at start,
     * console progress, JSONL metrics, plots, preview pictures (when the job is {@link Previewable} and
     * {@code previews > 0}), the non-finite loss guard, (optionally) a GC every {@link #GC_EVERY} steps and (when
     * {@code memoryEvery > 0}) a {@link MemoryListener}.
     */
    static CompositeListener listeners(TrainingJob job, TrainerConfig trainerConfig, String effectiveConfig,
                                       boolean gc, int previews, int memoryEvery) {
        if (memoryEvery < 0) {
            throw new IllegalArgumentException("--memory-every must be >= 0 (0 = off), got " + memoryEvery);
        }
        if (previews < 0) {
            throw new IllegalArgumentException("--previews must be >= 0 (0 = off), got " + previews);
        }
        List<TrainingListener> listeners = new ArrayList<>();
        listeners.add(new ConfigWriter(effectiveConfig));
        listeners.add(ProgressListener.forConsole(false));
        listeners.add(new JsonlMetricsListener(trainerConfig.logEvery()));
        listeners.add(new PlotListener());
        if (previews > 0 && job instanceof Previewable p) {
            listeners.add(new PreviewListener(p, previews));
        }
        listeners.add(new NonFiniteLossGuard());
        if (gc) {
            listeners.add(new GcListener(GC_EVERY));
        }
        if (memoryEvery > 0) {
            listeners.add(new MemoryListener(memoryEvery, System.out));
        }
        return new CompositeListener(listeners);
    }

    /** Builds a job from its config. */
    @FunctionalInterface
    interface JobFactory<C> {
        TrainingJob create(C config) throws IOException;
    }

    /** Reads, overrides and deserialises the config, then prints it or trains; returns the exit code. */
    <C> int run(CommandSpec spec, Class<C> jobConfigType, JobFactory<C> factory) throws IOException {
        PrintWriter out = spec.commandLine().getOut();
        ObjectNode tree = readConfig(spec);
        TrainerConfig trainerConfig = convert(spec, tree, "trainer", TrainerConfig.class);
        C jobConfig = convert(spec, tree, "job", jobConfigType);
        ObjectNode effective = JSON.createObjectNode();
        effective.set("trainer", JSON.valueToTree(trainerConfig));
        effective.set("job", JSON.valueToTree(jobConfig));
        String effectiveText = JSON.writeValueAsString(effective);
        if (printConfig) {
            out.println(effectiveText);
            out.flush();
            return Hgkd.OK;
        }
        if (!resume && hasCheckpoints(output)) {
            throw new IllegalStateException(output.resolve(Trainer.CHECKPOINTS) + " already holds checkpoints: pass"
                    + " --resume to continue the run, or choose an empty output directory");
        }
        out.println("config (" + config + (sets.isEmpty() ? "" : " with " + sets) + "):");
        out.println(effectiveText);
        try (TrainingJob job = factory.create(jobConfig)) {
            Trainer trainer = new Trainer(job, trainerConfig, output,
                    listeners(job, trainerConfig, effectiveText, !noGc, previews, memoryEvery));
            out.printf(Locale.ROOT, "%s: batch size %d, accumulation %d, effective batch %d, base lr %g per 256,"
                            + " scaled (peak) lr %g, %d steps per epoch, %d steps%n", job.kind(), job.batchSize(),
                    trainerConfig.accumSteps(), trainer.effectiveBatchSize(), trainerConfig.baseLr(), trainer.peakLr(),
                    trainer.stepsPerEpoch(), trainer.totalSteps());
            out.println("output: " + output.toAbsolutePath() + (resume ? " (resuming)" : ""));
            out.flush();
            withStopOnSignal(trainer, () -> resume ? trainer.resume() : trainer.fit(), summary -> {
                out.printf(Locale.ROOT, "%s: %s after %d epochs, %d steps, %.1f s; metrics %s%n", job.kind(),
                        summary.status().name().toLowerCase(Locale.ROOT), summary.epochs(), summary.globalSteps(),
                        summary.seconds(), summary.finalMetrics());
                if (summary.status() == RunSummary.Status.STOPPED) {
                    out.println("stopped early: continue with --resume");
                }
                out.flush();
            });
            return Hgkd.OK;
        }
    }

    /** A training call that may throw IOException. */
    @FunctionalInterface
    interface Fit {
        RunSummary call() throws IOException;
    }

    /**
     * Runs {@code fit} with a shutdown hook that asks the trainer to stop at the end of the current epoch (SIGTERM,
     * Ctrl-C), then {@code report}s its summary; the hook holds the JVM's exit until both are done, so a stopped run's
     * checkpoint and summary lines are always written.
     */
    private static void withStopOnSignal(Trainer trainer, Fit fit, Consumer<RunSummary> report) throws IOException {
        CountDownLatch done = new CountDownLatch(1);
        Thread hook = new Thread(() -> {
            System.err.println("hgkd: stop requested; finishing the current epoch and writing a checkpoint"
                    + " (kill -9 aborts)");
            trainer.requestStop();
            try {
                done.await(1, TimeUnit.HOURS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "hgkd-stop");
        boolean installed = false;
        try {
            Runtime.getRuntime().addShutdownHook(hook);
            installed = true;
        } catch (IllegalStateException | SecurityException e) {
            // already shutting down or not allowed: run without
        }
        try {
            report.accept(fit.call());
        } finally {
            done.countDown();
            if (installed) {
                try {
                    Runtime.getRuntime().removeShutdownHook(hook);
                } catch (IllegalStateException e) {
                    // shutting down: the hook is running and returns now
                }
            }
        }
    }

    static boolean hasCheckpoints(Path dir) throws IOException {
        Path c = dir.resolve(Trainer.CHECKPOINTS);
        if (!Files.isDirectory(c)) {
            return false;
        }
        try (var s = Files.list(c)) {
            return s.anyMatch(Files::isDirectory);
        }
    }

    private ObjectNode readConfig(CommandSpec spec) throws IOException {
        JsonNode root;
        try {
            root = readTree(config);
        } catch (JsonProcessingException e) {
            throw new ParameterException(spec.commandLine(), config + ": not valid JSON: " + e.getOriginalMessage()
                    + location(e));
        }
        if (root == null) {
            throw new IOException(config + ": no such file or empty");
        }
        if (!(root instanceof ObjectNode obj)) {
            throw new ParameterException(spec.commandLine(), config + ": expected a JSON object with \"trainer\" and"
                    + " \"job\"");
        }
        for (String s : sets) {
            applySet(spec, obj, s);
        }
        for (Iterator<String> it = obj.fieldNames(); it.hasNext(); ) {
            String k = it.next();
            if (!k.equals("trainer") && !k.equals("job")) {
                throw new ParameterException(spec.commandLine(), config + ": unknown top-level field '" + k
                        + "' (expected \"trainer\" and \"job\")");
            }
        }
        return obj;
    }

    /** Prefix of a config bundled with hgkd-examples, e.g. {@code classpath:configs/distill-tiny.json}. */
    static final String CLASSPATH = "classpath:";

    /** Reads a JSON file, or a bundled resource named {@code classpath:PATH}; null when a resource is missing. */
    static JsonNode readTree(Path file) throws IOException {
        String name = file.toString();
        if (!name.startsWith(CLASSPATH)) {
            return JSON.readTree(file.toFile());
        }
        String resource = "/" + name.substring(CLASSPATH.length()).replaceFirst("^/+", "");
        try (java.io.InputStream in = TrainingRun.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new java.nio.file.NoSuchFileException(name, null, "no such bundled config (see "
                        + "hgkd-examples/src/main/resources/configs/)");
            }
            return JSON.readTree(in);
        }
    }

    /** Applies {@code a.b.c=value} to the tree: missing objects on the way are created. */
    static void applySet(CommandSpec spec, ObjectNode root, String assignment) {
        applySet(spec, root, assignment, "--set");
    }

    /** As {@link #applySet(CommandSpec, ObjectNode, String)}, naming {@code option} in errors. */
    static void applySet(CommandSpec spec, ObjectNode root, String assignment, String option) {
        int eq = assignment.indexOf('=');
        if (eq <= 0) {
            throw new ParameterException(spec.commandLine(), option + " expects KEY.PATH=VALUE, got '" + assignment
                    + "'");
        }
        String[] path = assignment.substring(0, eq).trim().split("\\.");
        String raw = assignment.substring(eq + 1);
        JsonNode value;
        try {
            value = JSON.readTree(raw);
            if (value == null || value.isMissingNode()) {
                value = TextNode.valueOf(raw);
            }
        } catch (JsonProcessingException e) {
            value = TextNode.valueOf(raw);
        }
        ObjectNode node = root;
        for (int i = 0; i < path.length - 1; i++) {
            JsonNode child = node.get(path[i]);
            if (child == null || child.isNull()) {
                child = node.putObject(path[i]);
            } else if (!child.isObject()) {
                throw new ParameterException(spec.commandLine(), option + " " + assignment + ": "
                        + String.join(".", java.util.Arrays.copyOf(path, i + 1)) + " is not an object");
            }
            node = (ObjectNode) child;
        }
        node.set(path[path.length - 1], value);
    }

    /**
     * Adds the optional fields a config of {@code type} may omit ({@code data.labels}, see
     * {@link DataConfig#fillOptionalDefaults}; a fine-tuning job's {@code convScale}, see
     * {@link FinetuneJobConfig#fillOptionalDefaults}), since {@link #JSON} otherwise refuses every missing field.
     */
    static void fillOptionalDefaults(JsonNode job, Class<?> type) {
        if (type == FinetuneJobConfig.class && job instanceof ObjectNode o) {
            FinetuneJobConfig.fillOptionalDefaults(o);
        } else if (job != null && job.get("data") instanceof ObjectNode data) {
            DataConfig.fillOptionalDefaults(data);
        }
    }

    /** Deserialises {@code tree.field}; errors become usage errors naming the dotted field. */
    private <T> T convert(CommandSpec spec, ObjectNode tree, String field, Class<T> type) {
        JsonNode n = tree.get(field);
        if (n == null || n.isNull()) {
            throw new ParameterException(spec.commandLine(), config + ": missing \"" + field + "\"");
        }
        fillOptionalDefaults(n, type);
        try {
            return JSON.treeToValue(n, type);
        } catch (JsonMappingException e) {
            throw new ParameterException(spec.commandLine(), config + ": " + describe(field, e), e);
        } catch (JsonProcessingException e) {
            throw new ParameterException(spec.commandLine(), config + ": " + field + ": " + e.getOriginalMessage(), e);
        }
    }

    /** {@code job.data.batchSiz: unknown field (known: ...)} and the like. */
    static String describe(String root, JsonMappingException e) {
        StringBuilder path = new StringBuilder(root);
        for (JsonMappingException.Reference r : e.getPath()) {
            if (r.getFieldName() != null) {
                path.append('.').append(r.getFieldName());
            } else if (r.getIndex() >= 0) {
                path.append('[').append(r.getIndex()).append(']');
            }
        }
        if (e instanceof UnrecognizedPropertyException u) {
            return path + ": unknown field (known: " + u.getKnownPropertyIds() + ")";
        }
        if (e instanceof ValueInstantiationException && e.getCause() != null) {
            return path + ": " + e.getCause().getMessage();
        }
        return path + ": " + e.getOriginalMessage();
    }

    private static String location(JsonProcessingException e) {
        return e.getLocation() == null ? "" : " (line " + e.getLocation().getLineNr() + ", column "
                + e.getLocation().getColumnNr() + ")";
    }

    /** Writes the effective config to {@code DIR/config.json} once the run has really started. */
    static final class ConfigWriter implements TrainingListener {
        private final String text;

        ConfigWriter(String text) {
            this.text = text;
        }

        @Override
        public void onRunStart(RunInfo run) {
            try {
                Files.writeString(run.outputDir().resolve("config.json"), text + System.lineSeparator());
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }
}
