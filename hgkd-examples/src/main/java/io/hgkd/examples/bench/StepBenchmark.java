package io.hgkd.examples.bench;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.hgkd.core.io.Npz;
import io.hgkd.core.loss.CrossEntropy;
import io.hgkd.core.mim.MaskGenerator;
import io.hgkd.core.optim.AdamW;
import io.hgkd.core.optim.Lamb;
import io.hgkd.core.optim.Optimizer;
import io.hgkd.core.optim.ParamGroup;
import io.hgkd.core.optim.ParamGroups;
import io.hgkd.core.sparse.ActiveMask;
import io.hgkd.models.mae.MaeConfig;
import io.hgkd.models.mae.MaskedAutoencoderViT;
import io.hgkd.models.resnet.ResNet;
import io.hgkd.models.resnet.ResNetConfig;
import io.hgkd.models.student.SparkStudent;
import io.hgkd.models.student.StudentConfig;
import io.hgkd.models.vit.VisionTransformer;
import io.hgkd.models.vit.VitConfig;
import io.hgkd.train.loop.MemoryListener;
import io.hgkd.train.distill.DistillConfig;
import io.hgkd.train.distill.DistillLoss;
import io.hgkd.train.distill.DistillStep;
import io.hgkd.train.trainer.DistillJobConfig;
import io.hgkd.train.trainer.FinetuneJobConfig;
import io.hgkd.train.trainer.MaePretrainJobConfig;
import io.hgkd.train.trainer.Trainer;
import io.hgkd.train.trainer.TrainerConfig;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.function.IntToDoubleFunction;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Training-step benchmark: one row (a whole training step of one setting) per JVM, so the peak RSS is the row's.
 * The PyTorch twin is {@code tools/bench/step_bench.py}; {@code tools/bench/run_step_bench.sh} runs both sides of
 * every row back to back. Not a test: a plain {@code main}.
 *
 * <pre>
 *   StepBenchmark --row NAME [--warmup 2] [--steps 8] [--out FILE.json] [--inputs FILE.npz] [--gc-every 25]
 *                 [--lockstep]
 *   StepBenchmark --list
 * </pre>
 *
 * <p>Each row is built the way its training job builds it ({@code DistillJob}, {@code FinetuneJob},
 * {@code MaePretrainJob} and {@code Trainer}: same models, losses, parameter groups and optimizer), with random
 * weights. A timed step is {@code optimizer.zeroGrad()}, the job's step (forward, loss, backward) and
 * {@code optimizer.step()}; the learning rate is the trainer's peak lr, constant. As the trainer's
 * {@code GcListener} does, {@link System#gc()} runs after every {@code --gc-every}-th step, inside the timed region
 * (ND4J frees native buffers only when their wrappers are collected).
 *
 * <p>The inputs (images, labels, the SparK mask or MAE noise of every step) are drawn here from fixed seeds and
 * written to {@code --inputs} so the PyTorch side uses exactly the same ones. The JSON (stdout and {@code --out})
 * holds the raw step times in ms, the loss of the first and last step, the trainable parameter count (the two
 * sides must agree), RSS after the warmup and at the end, and the peak RSS ({@code VmHWM}).
 */
public final class StepBenchmark {

    /** Reads the bundled JSON run configs (comments allowed), as the CLI does. */
    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(JsonParser.Feature.ALLOW_COMMENTS)
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

    /** A built row: the timed step (returns the loss, or a checksum for forward-only rows) and its inputs. */
    private record Bench(String description, int batch, IntToDoubleFunction step, long trainableParams,
                         Map<String, INDArray> inputs) {
    }

    /** The student width of docs/results.md (run.sh's STUDENT_WIDTH); keep in sync with step_bench.py. */
    static final int FMNIST_STUDENT_WIDTH = 32;

    /** Row names in table order; keep in sync with ROWS in tools/bench/step_bench.py. */
    static final List<String> ROWS = List.of("hgkd_r50_vitb", "hgkd_r18_vits", "finetune_r50", "mae_vitb",
            "hgkd_fmnist", "mae_fmnist", "finetune_fmnist", "teacher_vitb");

    private StepBenchmark() {
    }

    public static void main(String[] args) throws IOException {
        String row = null;
        int warmup = 2;
        int steps = 8;
        int gcEvery = 25;
        String out = null;
        String inputs = null;
        boolean lockstep = false;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--row" -> row = need(args, ++i);
                case "--warmup" -> warmup = Integer.parseInt(need(args, ++i));
                case "--steps" -> steps = Integer.parseInt(need(args, ++i));
                case "--gc-every" -> gcEvery = Integer.parseInt(need(args, ++i));
                case "--out" -> out = need(args, ++i);
                case "--inputs" -> inputs = need(args, ++i);
                case "--lockstep" -> lockstep = true;
                case "--list" -> {
                    ROWS.forEach(System.out::println);
                    return;
                }
                case "-h", "--help" -> {
                    System.err.println("usage: StepBenchmark --row NAME [--warmup N] [--steps N] [--gc-every N]"
                            + " [--out FILE.json] [--inputs FILE.npz] [--lockstep] | --list\nrows: " + ROWS
                            + "\nthreads: set OMP_NUM_THREADS before starting the JVM");
                    return;
                }
                default -> throw new IllegalArgumentException("unknown argument " + args[i] + " (try --help)");
            }
        }
        if (row == null || !ROWS.contains(row)) {
            throw new IllegalArgumentException("--row must be one of " + ROWS + ", got " + row);
        }
        if (steps < 1 || warmup < 0 || gcEvery < 0) {
            throw new IllegalArgumentException("need --steps >= 1, --warmup >= 0, --gc-every >= 0 (0 = never)");
        }
        Map<String, Object> env = OpsBenchmark.environment();
        int total = warmup + steps;

        long t0 = System.nanoTime();
        Bench bench = build(row, total);
        double buildSeconds = (System.nanoTime() - t0) / 1e9;
        System.err.printf(Locale.ROOT, "%s: %s; built in %.1f s, %d trainable parameters%n", row,
                bench.description(), buildSeconds, bench.trainableParams());
        if (inputs != null) {
            Npz.write(Path.of(inputs), bench.inputs());
        }

        // --lockstep: a coordinator (tools/bench/lockstep.py) alternates the steps of this process and of the PyTorch
        // twin, so that both sides see the same machine speed; it sends a line before each step and reads
        // "SYNC done" after it
        BufferedReader sync = lockstep
                ? new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8)) : null;
        if (lockstep) {
            System.out.println("SYNC ready");
            System.out.flush();
        }
        double[] times = new double[steps];
        double firstLoss = Double.NaN;
        double lastLoss = Double.NaN;
        double rssAfterWarmup = Double.NaN;
        for (int i = 0; i < total; i++) {
            if (i == warmup) {
                rssAfterWarmup = procStatusMb("VmRSS");
            }
            if (sync != null && sync.readLine() == null) {
                throw new IOException("--lockstep: the coordinator closed standard input before step " + i);
            }
            long s = System.nanoTime();
            double loss = bench.step().applyAsDouble(i);
            if (gcEvery > 0 && (i + 1) % gcEvery == 0) {
                System.gc();
            }
            double ms = (System.nanoTime() - s) / 1e6;
            if (i >= warmup) {
                times[i - warmup] = ms;
            }
            if (i == 0) {
                firstLoss = loss;
            }
            lastLoss = loss;
            System.err.printf(Locale.ROOT, "%s step %d%s: %.1f ms, loss %.6g%n", row, i, i < warmup ? " (warmup)" : "",
                    ms, loss);
            if (sync != null) {
                System.out.printf(Locale.ROOT, "SYNC done %d %.3f%n", i, ms);
                System.out.flush();
            }
        }

        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("row", row);
        doc.put("side", "hgkd");
        doc.put("description", bench.description());
        doc.put("batch", bench.batch());
        doc.put("warmup", warmup);
        doc.put("steps", steps);
        doc.put("gc_every", gcEvery);
        doc.put("lockstep", lockstep);
        doc.put("times_ms", Arrays.stream(times).map(v -> Math.round(v * 1000.0) / 1000.0).boxed().toList());
        doc.put("loss_first", firstLoss);
        doc.put("loss_last", lastLoss);
        doc.put("trainable_params", bench.trainableParams());
        doc.put("build_seconds", Math.round(buildSeconds * 10.0) / 10.0);
        doc.put("rss_after_warmup_mb", rssAfterWarmup);
        doc.put("rss_end_mb", procStatusMb("VmRSS"));
        doc.put("peak_rss_mb", procStatusMb("VmHWM"));
        doc.put("nd4j_version", env.remove("nd4j_version"));
        doc.put("threads", env.get("omp_threads"));
        doc.put("env", env);
        String text = OpsBenchmark.Json.write(doc);
        System.out.println(text);
        if (out != null) {
            Files.writeString(Path.of(out), text + "\n", StandardCharsets.UTF_8);
        }
        if (!Double.isFinite(lastLoss)) {
            System.err.println("ERROR: the last step's loss is not finite");
            System.exit(2);
        }
    }

    private static String need(String[] args, int i) {
        if (i >= args.length) {
            throw new IllegalArgumentException(args[i - 1] + " needs a value");
        }
        return args[i];
    }

    // ---------------------------------------------------------------- rows

    private static Bench build(String row, int total) throws IOException {
        return switch (row) {
            case "hgkd_r50_vitb" -> hgkd("H-GKD step: sparse ResNet-50 SparK student (LightDecoder 768, feature head)"
                            + " + frozen ViT-B/16 teacher forward, 224 px, mask 0.6, L_feat + L_sim (queue 65536), LAMB",
                    VitConfig.vitBasePatch16().withNumClasses(0),
                    StudentConfig.hgkd(ResNetConfig.resnet50().withNumClasses(0), 224, 16, 768),
                    DistillConfig.defaults(), 0.6, 8, TrainerConfig.sparkPretrain(100), total);
            case "hgkd_r18_vits" -> hgkd("H-GKD step: sparse ResNet-18 SparK student (LightDecoder 768, feature head)"
                            + " + frozen ViT-S/16 teacher forward, 224 px, mask 0.6, L_feat + L_sim (queue 65536), LAMB",
                    VitConfig.vitSmallPatch16().withNumClasses(0),
                    StudentConfig.hgkd(ResNetConfig.resnet18().withNumClasses(0), 224, 16, 384),
                    DistillConfig.defaults(), 0.6, 8, TrainerConfig.sparkPretrain(100), total);
            case "hgkd_fmnist" -> {
                JsonNode tree = config("distill-fashion-mnist.json");
                DistillJobConfig c = JSON.treeToValue(tree.get("job"), DistillJobConfig.class);
                TrainerConfig tc = JSON.treeToValue(tree.get("trainer"), TrainerConfig.class);
                yield hgkd("H-GKD step of configs/distill-fashion-mnist.json: sparse ResNet-18 small stem, 32 px,"
                                + " decoder 256 + ViT (D 192, 12 blocks, patch 8) teacher, L_feat + L_sim (queue "
                                + c.loss().queueSize() + "), " + tc.optimizer(),
                        c.teacher(), c.student(), c.loss(), c.maskRatio(), c.data().batchSize(), tc, total);
            }
            case "finetune_r50" -> finetune("fine-tuning step: dense ResNet-50, 224 px, 1000 classes, cross-entropy"
                    + " (label smoothing 0.1), AdamW (0.9, 0.999), SparK's groups", ResNetConfig.resnet50(), 8, 224);
            case "finetune_fmnist" -> {
                // docs/results.md's students: the config's ResNet-18 at the experiment's width (run.sh's
                // STUDENT_WIDTH); drop path off, as in the PyTorch twin (its reference ResNet has none)
                JsonNode tree = config("finetune-fashion-mnist.json");
                FinetuneJobConfig c = JSON.treeToValue(tree.get("job"), FinetuneJobConfig.class);
                ResNetConfig m = c.model().withBaseWidth(FMNIST_STUDENT_WIDTH).withDropPathRate(0);
                yield finetune("fine-tuning step of configs/finetune-fashion-mnist.json at width "
                                + FMNIST_STUDENT_WIDTH + " (docs/results.md's students): dense ResNet-18 small stem, 32 px,"
                                + " 10 classes, cross-entropy (label smoothing 0.1), AdamW (0.9, 0.999), no drop path",
                        m, c.data().batchSize(), c.data().imageSize());
            }
            case "mae_vitb" -> mae("MAE step: ViT-B/16 encoder, decoder 512 wide, 8 blocks, 224 px, mask 0.75,"
                    + " norm-pix loss, AdamW (0.9, 0.95)", MaeConfig.maeVitBasePatch16(), 8, 1.5e-4, 0.05, total);
            case "mae_fmnist" -> {
                JsonNode tree = config("pretrain-teacher-fashion-mnist.json");
                MaePretrainJobConfig c = JSON.treeToValue(tree.get("job"), MaePretrainJobConfig.class);
                TrainerConfig tc = JSON.treeToValue(tree.get("trainer"), TrainerConfig.class);
                if (tc.optimizer() != TrainerConfig.OptimizerKind.ADAMW_MAE) {
                    throw new IllegalStateException("pretrain-teacher-fashion-mnist.json: expected ADAMW_MAE, got "
                            + tc.optimizer());
                }
                yield mae("MAE step of configs/pretrain-teacher-fashion-mnist.json: ViT (D 192, 12 blocks, patch 8),"
                                + " 32 px, decoder 128 wide, 2 blocks, mask " + c.mae().maskRatio() + ", AdamW (0.9, 0.95)",
                        c.mae(), c.data().batchSize(), tc.baseLr(), tc.weightDecay(), total);
            }
            case "teacher_vitb" -> teacherForward(total);
            default -> throw new IllegalArgumentException("unknown row " + row);
        };
    }

    /** The H-GKD step as DistillJob + Trainer run it: DistillStep and LAMB (or AdamW) over SparK's groups. */
    private static Bench hgkd(String description, VitConfig teacherConfig, StudentConfig studentConfig,
                              DistillConfig lossConfig, double maskRatio, int batch, TrainerConfig trainer,
                              int total) {
        VisionTransformer teacher = new VisionTransformer(teacherConfig).freeze();
        SparkStudent student = new SparkStudent(studentConfig);
        student.train(true);
        DistillLoss loss = new DistillLoss(lossConfig, studentConfig.teacherDim());
        DistillStep step = new DistillStep(teacher, student, loss, 0);
        List<ParamGroup> groups = ParamGroups.spark(student.namedParameters());
        Optimizer opt = Trainer.optimizer(trainer.optimizer(), groups, trainer.baseLr() * batch / 256.0,
                trainer.weightDecay());

        int size = studentConfig.inputSize();
        int grid = studentConfig.maskGrid();
        INDArray images = gaussian(new Random(1), batch, studentConfig.encoder().inChans(), size, size);
        MaskGenerator gen = new MaskGenerator(maskRatio, 2);
        ActiveMask[] masks = new ActiveMask[total];
        INDArray all = Nd4j.create(DataType.FLOAT, total, batch, 1, grid, grid);
        for (int i = 0; i < total; i++) {
            masks[i] = gen.next(batch, grid, grid);
            all.slice(i).assign(masks[i].grid());
        }
        Map<String, INDArray> inputs = new LinkedHashMap<>();
        inputs.put("images", images);
        inputs.put("masks", all);
        return new Bench(description, batch, i -> {
            opt.zeroGrad();
            double l = step.run(images, masks[i]).total();
            opt.step();
            return l;
        }, count(groups), inputs);
    }

    /** The fine-tuning step as FinetuneJob + Trainer run it for a dense ResNet (no mixup, no EMA update). */
    private static Bench finetune(String description, ResNetConfig config, int batch, int size) {
        ResNet model = new ResNet(config);
        model.train(true);
        CrossEntropy ce = new CrossEntropy(0.1);
        List<ParamGroup> groups = ParamGroups.spark(model.namedParameters());
        Optimizer opt = Trainer.optimizer(TrainerConfig.OptimizerKind.ADAMW, groups, 1e-3 * batch / 256.0, 0.05);
        INDArray images = gaussian(new Random(1), batch, config.inChans(), size, size);
        Random r = new Random(3);
        int[] labels = new int[batch];
        float[] lf = new float[batch];
        for (int i = 0; i < batch; i++) {
            labels[i] = r.nextInt(config.numClasses());
            lf[i] = labels[i];
        }
        Map<String, INDArray> inputs = new LinkedHashMap<>();
        inputs.put("images", images);
        inputs.put("labels", Nd4j.create(lf, new long[] {batch}, 'c'));
        return new Bench(description, batch, i -> {
            opt.zeroGrad();
            double l = ce.forward(model.forward(images), labels);
            model.backward(ce.backward());
            opt.step();
            return l;
        }, count(groups), inputs);
    }

    /** The MAE step as MaePretrainJob + Trainer (ADAMW_MAE) run it, with explicit per-step noise. */
    private static Bench mae(String description, MaeConfig config, int batch, double baseLr, double wd, int total) {
        MaskedAutoencoderViT model = new MaskedAutoencoderViT(config);
        model.train(true);
        List<ParamGroup> groups = ParamGroups.spark(model.namedParameters());
        Optimizer opt = Trainer.optimizer(TrainerConfig.OptimizerKind.ADAMW_MAE, groups, baseLr * batch / 256.0, wd);
        VitConfig e = config.encoder();
        INDArray images = gaussian(new Random(1), batch, e.inChans(), e.imgSize(), e.imgSize());
        Random r = new Random(4);
        int l = e.numPatches();
        INDArray noise = Nd4j.create(DataType.FLOAT, total, batch, l);
        float[] v = new float[batch * l];
        INDArray[] perStep = new INDArray[total];
        for (int i = 0; i < total; i++) {
            for (int j = 0; j < v.length; j++) {
                v[j] = r.nextFloat();
            }
            perStep[i] = Nd4j.create(v.clone(), new long[] {batch, l}, 'c');
            noise.slice(i).assign(perStep[i]);
        }
        Map<String, INDArray> inputs = new LinkedHashMap<>();
        inputs.put("images", images);
        inputs.put("noise", noise);
        return new Bench(description, batch, i -> {
            opt.zeroGrad();
            double loss = model.forwardMae(images, perStep[i]).loss();
            model.backwardParameters(1.0);
            opt.step();
            return loss;
        }, count(groups), inputs);
    }

    /** The frozen teacher's forward alone (what DistillStep runs before the student), no gradients. */
    private static Bench teacherForward(int total) {
        int batch = 8;
        VisionTransformer teacher = new VisionTransformer(VitConfig.vitBasePatch16().withNumClasses(0)).freeze();
        INDArray images = gaussian(new Random(1), batch, 3, 224, 224);
        return new Bench("teacher forward: frozen ViT-B/16, 224 px, final-norm tokens, no gradients", batch,
                i -> i == total - 1 ? teacher.forwardTokens(images).sumNumber().doubleValue()
                        : teacher.forwardTokens(images).getDouble(0), 0, Map.of("images", images));
    }

    private static long count(List<ParamGroup> groups) {
        return groups.stream().mapToLong(ParamGroup::numElements).sum();
    }

    private static JsonNode config(String name) throws IOException {
        try (InputStream in = StepBenchmark.class.getResourceAsStream("/configs/" + name)) {
            if (in == null) {
                throw new IOException("resource /configs/" + name + " not found on the classpath");
            }
            return JSON.readTree(in);
        }
    }

    /** Standard-normal float array from a Java generator (fixed inputs, written to --inputs for PyTorch). */
    private static INDArray gaussian(Random rnd, long... shape) {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        float[] v = new float[Math.toIntExact(n)];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) rnd.nextGaussian();
        }
        return Nd4j.create(v, shape, 'c');
    }

    /** A field of /proc/self/status (kB) in MiB, NaN when unavailable. */
    static double procStatusMb(String field) {
        long bytes = MemoryListener.procStatusBytes(field);
        return bytes < 0 ? Double.NaN : Math.round(bytes / 1024 / 1024.0 * 10.0) / 10.0;
    }
}
