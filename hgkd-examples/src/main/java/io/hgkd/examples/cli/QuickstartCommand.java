package io.hgkd.examples.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.hgkd.models.student.StudentConfig;
import io.hgkd.train.checkpoint.CheckpointManager;
import io.hgkd.train.distill.DistillConfig;
import io.hgkd.train.loop.RunSummary;
import io.hgkd.train.preview.PreviewListener;
import io.hgkd.train.trainer.DistillJob;
import io.hgkd.train.trainer.DistillJobConfig;
import io.hgkd.train.trainer.Exports;
import io.hgkd.train.trainer.FinetuneJob;
import io.hgkd.train.trainer.FinetuneJobConfig;
import io.hgkd.train.trainer.MaePretrainJob;
import io.hgkd.train.trainer.MaePretrainJobConfig;
import io.hgkd.train.trainer.Trainer;
import io.hgkd.train.trainer.TrainerConfig;
import io.hgkd.train.trainer.TrainingJob;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code hgkd quickstart}: the whole method on the embedded Fashion-MNIST subset (4000 training, 500 test images) in
 * minutes. Stages: (1) MAE-pretrain a small ViT teacher and export its encoder; (2) H-GKD-distil it into a SparK
 * ResNet student; (3) a SparK baseline student from the same init with the pixel loss only (no teacher); (4-6)
 * fine-tune the two pretrained encoders and a scratch ResNet with the same recipe and evaluate each on the 500 test
 * images. Prints and writes {@code results.md} / {@code results.json} (top-1 per student, wall time per stage) and
 * copies the last preview picture of each pretraining stage to the output folder.
 *
 * <p>Sizes and recipes come from the bundled {@code configs/quickstart.json} (or {@code --config}), one
 * {@code {"trainer", "job"}} pair per stage ({@code teacher}, {@code distill}, {@code finetune}); the SparK baseline is
 * the distill stage with {@link DistillConfig#sparkOnly()}, no teacher and a pixel head; the three fine-tunes share
 * the finetune stage and differ only in {@code encoderWeights}.
 */
@Command(name = "quickstart", mixinStandardHelpOptions = true,
        header = "Run the whole H-GKD pipeline on the embedded Fashion-MNIST subset and print a results table.",
        description = {"MAE teacher -> H-GKD student and SparK baseline (same init) -> fine-tune them and a scratch "
            + "student with the same recipe -> top-1 on the 500 test images. Sizes: the bundled "
            + "configs/quickstart.json (see --print-config), changed with --set STAGE.trainer.X=... or "
            + "--set STAGE.job.X=... (STAGE = teacher, distill, finetune).",
            "Writes OUTPUT/results.md, results.json, the preview pictures (*-previews.png) and one run folder per "
            + "stage (teacher, hgkd, spark, finetune-*) with config.json, metrics, plots and checkpoints."})
public final class QuickstartCommand implements Callable<Integer> {
    /** The bundled config resource. */
    public static final String CONFIG_RESOURCE = "/configs/quickstart.json";

    @Option(names = {"-o", "--output"}, paramLabel = "DIR", defaultValue = "runs/quickstart",
            description = "Output folder (default ${DEFAULT-VALUE}); if it exists and is not empty, DIR-2, DIR-3, ... "
                    + "is used instead.")
    Path output;

    @Option(names = {"-c", "--config"}, paramLabel = "FILE.json",
            description = "Use this config instead of the bundled one: {\"previews\": N, \"teacher\": {\"trainer\","
                    + " \"job\"}, \"distill\": {...}, \"finetune\": {...}}.")
    Path config;

    @Option(names = "--set", paramLabel = "KEY.PATH=VALUE",
            description = "Override a config field, e.g. --set distill.trainer.epochs=10. Repeatable.")
    List<String> sets = new ArrayList<>();

    @Option(names = "--print-config", description = "Print the effective config and exit.")
    boolean printConfig;

    @Spec
    CommandSpec spec;

    /** What one stage produced. */
    record Stage(String name, String what, double seconds, double cpuSeconds, Map<String, Double> metrics) {
    }

    /** CPU seconds of the whole process (all threads, native ones included), NaN where the JVM cannot tell. */
    static double processCpuSeconds() {
        if (java.lang.management.ManagementFactory.getOperatingSystemMXBean()
                instanceof com.sun.management.OperatingSystemMXBean os) {
            long ns = os.getProcessCpuTime();
            return ns < 0 ? Double.NaN : ns / 1e9;
        }
        return Double.NaN;
    }

    @Override
    public Integer call() throws IOException {
        PrintWriter out = spec.commandLine().getOut();
        ObjectNode tree = readConfig();
        for (String s : sets) {
            TrainingRun.applySet(spec, tree, s);
        }
        if (printConfig) {
            out.println(TrainingRun.JSON.writeValueAsString(tree));
            out.flush();
            return Hgkd.OK;
        }
        int previews = tree.path("previews").asInt(PreviewListener.DEFAULT_IMAGES);
        TrainerConfig teacherTrainer = convert(tree, "teacher", "trainer", TrainerConfig.class);
        MaePretrainJobConfig teacherJob = convert(tree, "teacher", "job", MaePretrainJobConfig.class);
        TrainerConfig distillTrainer = convert(tree, "distill", "trainer", TrainerConfig.class);
        DistillJobConfig distillJob = convert(tree, "distill", "job", DistillJobConfig.class);
        TrainerConfig finetuneTrainer = convert(tree, "finetune", "trainer", TrainerConfig.class);
        FinetuneJobConfig finetuneJob = convert(tree, "finetune", "job", FinetuneJobConfig.class);

        int testImages = finetuneJob.data().eval().size();
        Path dir = freshDir(output);
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("quickstart-config.json"), TrainingRun.JSON.writeValueAsString(tree) + "\n");
        out.println("hgkd quickstart: MAE teacher -> H-GKD and SparK students -> fine-tune (+ scratch) -> top-1 on "
                + testImages + " test images (" + finetuneJob.data().source() + ")");
        out.println("output: " + dir.toAbsolutePath() + " (config: " + (config == null ? "bundled "
                + CONFIG_RESOURCE.substring(1) : config) + (sets.isEmpty() ? "" : " with " + sets) + ")");
        out.flush();
        long start = System.nanoTime();
        double cpuStart = processCpuSeconds();
        List<Stage> stages = new ArrayList<>();

        // 1. teacher
        Path teacherDir = dir.resolve("teacher");
        Path teacherWeights = teacherDir.resolve("vit_encoder.safetensors");
        stages.add(stage(out, "1/6 teacher", "MAE pretraining of the ViT teacher", teacherDir, () -> {
            train(new MaePretrainJob(teacherJob), teacherTrainer, teacherJob, teacherDir, previews);
            Exports.maeTeacher(latest(teacherDir), teacherWeights);
            return Map.of();
        }));

        // 2. H-GKD student, 3. SparK baseline from the same init
        DistillJobConfig hgkd = new DistillJobConfig(distillJob.seed(), distillJob.teacher(),
                teacherWeights.toString(), distillJob.student(), distillJob.loss(), distillJob.maskRatio(),
                distillJob.teacherChunk(), distillJob.data());
        StudentConfig sc = distillJob.student();
        DistillJobConfig spark = new DistillJobConfig(distillJob.seed(), null, null,
                new StudentConfig(sc.encoder(), sc.inputSize(), sc.decoderWidth(), true, 0, 0),
                DistillConfig.sparkOnly(), distillJob.maskRatio(), 0, distillJob.data());
        Map<String, Path> encoders = new LinkedHashMap<>();
        for (Object[] s : new Object[][] {{"2/6 hgkd", "H-GKD distillation (teacher features + similarity)", hgkd},
            {"3/6 spark", "SparK baseline (pixel reconstruction only, no teacher)", spark}}) {
            String name = ((String) s[0]).substring(4);
            Path runDir = dir.resolve(name);
            Path enc = runDir.resolve("student_encoder.safetensors");
            encoders.put(name, enc);
            DistillJobConfig jc = (DistillJobConfig) s[2];
            stages.add(stage(out, (String) s[0], (String) s[1], runDir, () -> {
                train(new DistillJob(jc), distillTrainer, jc, runDir, previews);
                Exports.studentEncoder(latest(runDir), enc);
                return Map.of();
            }));
        }
        encoders.put("scratch", null);

        // 4-6. fine-tune each with the same recipe
        int k = 4;
        for (Map.Entry<String, Path> e : encoders.entrySet()) {
            String name = "finetune-" + e.getKey();
            Path runDir = dir.resolve(name);
            FinetuneJobConfig jc = finetuneJob.withEncoderWeights(e.getValue() == null ? null : e.getValue().toString());
            stages.add(stage(out, k++ + "/6 " + name, "fine-tuning " + (e.getValue() == null ? "from scratch"
                    : "the " + e.getKey() + " encoder") + " and evaluation", runDir,
                    () -> train(new FinetuneJob(jc), finetuneTrainer, jc, runDir, 0).finalMetrics()));
        }
        double total = (System.nanoTime() - start) / 1e9;
        double totalCpu = processCpuSeconds() - cpuStart;

        for (String name : List.of("teacher", "hgkd", "spark")) {
            Path last = lastPreview(dir.resolve(name));
            if (last != null) {
                Files.copy(last, dir.resolve(name + "-previews.png"), StandardCopyOption.REPLACE_EXISTING);
            }
        }
        String table = table(stages, total, totalCpu);
        Files.writeString(dir.resolve("results.md"), "Top-1 on " + testImages + " test images after fine-tuning"
                + " with the same recipe; wall time per stage.\n\n" + table);
        Files.writeString(dir.resolve("results.json"), json(stages, total, totalCpu, testImages));
        out.println();
        out.print(table);
        out.println();
        out.println("written: " + dir.resolve("results.md") + ", results.json; pictures: " + dir
                + "/{teacher,hgkd,spark}-previews.png (one per epoch in each stage's previews/ folder)");
        out.flush();
        return Hgkd.OK;
    }

    /** A stage's work; returns its metrics. */
    @FunctionalInterface
    interface Work {
        Map<String, Double> run() throws IOException;
    }

    private static Stage stage(PrintWriter out, String title, String what, Path dir, Work work) throws IOException {
        out.println();
        out.println("== " + title + ": " + what + " -> " + dir.getFileName());
        out.flush();
        long t = System.nanoTime();
        double cpu = processCpuSeconds();
        Map<String, Double> m = work.run();
        double s = (System.nanoTime() - t) / 1e9;
        cpu = processCpuSeconds() - cpu;
        out.printf(Locale.ROOT, "== %s done in %s (CPU time %s)%s%n", title, clock(s), clock(cpu),
                m.containsKey("top1") ? String.format(Locale.ROOT, ": top-1 %.1f%%", 100 * m.get("top1")) : "");
        out.flush();
        return new Stage(title.substring(4), what, s, cpu, m);
    }

    private static RunSummary train(TrainingJob job, TrainerConfig tc, Object jobConfig, Path dir, int previews)
            throws IOException {
        try (job) {
            ObjectNode effective = TrainingRun.JSON.createObjectNode();
            effective.set("trainer", TrainingRun.JSON.valueToTree(tc));
            effective.set("job", TrainingRun.JSON.valueToTree(jobConfig));
            Trainer trainer = new Trainer(job, tc, dir, TrainingRun.listeners(job, tc,
                    TrainingRun.JSON.writeValueAsString(effective), true, previews, 0));
            RunSummary s = trainer.fit();
            if (s.status() != RunSummary.Status.COMPLETED) {
                throw new IllegalStateException(dir + ": training " + s.status());
            }
            return s;
        }
    }

    private static Path latest(Path runDir) throws IOException {
        Path c = runDir.resolve(Trainer.CHECKPOINTS);
        return new CheckpointManager(c, Integer.MAX_VALUE, null).latest()
                .orElseThrow(() -> new IllegalStateException(c + ": no checkpoint"));
    }

    private static Path lastPreview(Path runDir) throws IOException {
        Path p = runDir.resolve(PreviewListener.DIR);
        if (!Files.isDirectory(p)) {
            return null;
        }
        try (var s = Files.list(p)) {
            return s.filter(f -> f.getFileName().toString().endsWith(".png")).sorted().reduce((a, b) -> b)
                    .orElse(null);
        }
    }

    /** {@code dir}, or {@code dir-2}, {@code dir-3}, ... if it exists and is not empty. */
    public static Path freshDir(Path dir) throws IOException {
        Path d = dir;
        for (int i = 2; !isEmptyOrMissing(d); i++) {
            d = dir.resolveSibling(dir.getFileName() + "-" + i);
        }
        return d;
    }

    private static boolean isEmptyOrMissing(Path d) throws IOException {
        if (!Files.exists(d)) {
            return true;
        }
        try (var s = Files.list(d)) {
            return s.findAny().isEmpty();
        }
    }

    private ObjectNode readConfig() throws IOException {
        JsonNode n;
        if (config != null) {
            n = TrainingRun.JSON.readTree(config.toFile());
        } else {
            try (InputStream in = QuickstartCommand.class.getResourceAsStream(CONFIG_RESOURCE)) {
                if (in == null) {
                    throw new IOException("the bundled " + CONFIG_RESOURCE + " is missing from the classpath");
                }
                n = TrainingRun.JSON.readTree(in);
            }
        }
        if (!(n instanceof ObjectNode o)) {
            throw new ParameterException(spec.commandLine(), (config == null ? CONFIG_RESOURCE : config)
                    + ": expected a JSON object");
        }
        return o;
    }

    private <T> T convert(ObjectNode tree, String stage, String field, Class<T> type) {
        JsonNode n = tree.path(stage).path(field);
        if (n.isMissingNode() || n.isNull()) {
            throw new ParameterException(spec.commandLine(), "quickstart config: missing " + stage + "." + field);
        }
        TrainingRun.fillOptionalDefaults(n, type);
        try {
            return TrainingRun.JSON.treeToValue(n, type);
        } catch (com.fasterxml.jackson.databind.JsonMappingException e) {
            throw new ParameterException(spec.commandLine(), "quickstart config: "
                    + TrainingRun.describe(stage + "." + field, e), e);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new ParameterException(spec.commandLine(), "quickstart config: " + stage + "." + field + ": "
                    + e.getOriginalMessage(), e);
        }
    }

    static String clock(double seconds) {
        if (!Double.isFinite(seconds)) {
            return "?";
        }
        Duration d = Duration.ofMillis(Math.round(seconds * 1000));
        return String.format(Locale.ROOT, "%d:%02d", d.toMinutes(), d.toSecondsPart());
    }

    private static final Map<String, String> LABELS = Map.of(
            "finetune-hgkd", "H-GKD (ViT teacher -> ResNet)",
            "finetune-spark", "SparK (pixel reconstruction)",
            "finetune-scratch", "scratch (no pretraining)");

    static String table(List<Stage> stages, double total, double totalCpu) {
        StringBuilder b = new StringBuilder();
        b.append("| student | pretraining | top-1 (%) | top-5 (%) |\n|---|---|---:|---:|\n");
        for (Stage s : stages) {
            if (LABELS.containsKey(s.name())) {
                String[] l = LABELS.get(s.name()).split(" \\(", 2);
                b.append(String.format(Locale.ROOT, "| %s | %s | %.1f | %.1f |%n", l[0], l[1].replace(")", ""),
                        100 * s.metrics().getOrDefault("top1", Double.NaN),
                        100 * s.metrics().getOrDefault("top5", Double.NaN)));
            }
        }
        b.append("\n| stage | what | wall time | CPU time |\n|---|---|---:|---:|\n");
        for (Stage s : stages) {
            b.append("| ").append(s.name()).append(" | ").append(s.what()).append(" | ").append(clock(s.seconds()))
                    .append(" | ").append(clock(s.cpuSeconds())).append(" |\n");
        }
        b.append("| total | | ").append(clock(total)).append(" | ").append(clock(totalCpu)).append(" |\n");
        return b.toString();
    }

    private static String json(List<Stage> stages, double total, double totalCpu, int testImages)
            throws IOException {
        ObjectNode root = TrainingRun.JSON.createObjectNode();
        ArrayNode a = root.putArray("stages");
        for (Stage s : stages) {
            ObjectNode n = a.addObject();
            n.put("stage", s.name());
            n.put("what", s.what());
            n.put("seconds", s.seconds());
            n.put("cpu_seconds", s.cpuSeconds());
            n.set("metrics", TrainingRun.JSON.valueToTree(s.metrics())); // top1, top5 as fractions
        }
        root.put("total_seconds", total);
        root.put("total_cpu_seconds", totalCpu);
        root.put("cores", Runtime.getRuntime().availableProcessors());
        root.put("test_images", testImages);
        return TrainingRun.JSON.writeValueAsString(root) + "\n";
    }
}
