package io.hgkd.examples.cli;

import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.NullNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.hgkd.train.checkpoint.Checkpoint;
import io.hgkd.train.checkpoint.CheckpointManager;
import io.hgkd.train.checkpoint.Snapshot;
import io.hgkd.train.finetune.ClassificationMetrics;
import io.hgkd.train.trainer.FinetuneJob;
import io.hgkd.train.trainer.FinetuneJobConfig;
import io.hgkd.train.trainer.Trainer;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code hgkd eval CHECKPOINT}: top-1/top-5 of a finetune checkpoint on its evaluation data. */
@Command(name = "eval", mixinStandardHelpOptions = true,
        header = "Evaluate a finetune checkpoint (top-1, top-5, loss, per-class accuracy).",
        description = {"Rebuilds the classifier from the job config stored in a 'finetune' checkpoint, loads its "
            + "weights (and the EMA's, if any) and evaluates it on the config's evaluation split (Fashion-MNIST's "
            + "test set; other synthetic images). --set changes the stored job config first, e.g. "
            + "--set data.limit=0 or --set data.path=/data/fashion-mnist. Fields: FinetuneJobConfig in "
            + "docs/training.md.",
            "CHECKPOINT is a checkpoint directory or a run directory (its best checkpoint by top1, else the latest)."})
final class EvalCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "CHECKPOINT", description = "A checkpoint directory or a run directory.")
    Path checkpoint;

    @Option(names = "--set", paramLabel = "KEY.PATH=VALUE",
            description = "Override a field of the stored job config (paths relative to the job, e.g. data.limit=0)."
                    + " Repeatable.")
    List<String> sets = new ArrayList<>();

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        Path dir = resolve();
        Checkpoint ckpt = Checkpoint.load(dir);
        if (!ckpt.state().jobKind().equals(FinetuneJob.KIND)) {
            throw new IllegalArgumentException(dir + " is a '" + ckpt.state().jobKind() + "' checkpoint; eval handles '"
                    + FinetuneJob.KIND + "' checkpoints");
        }
        ObjectNode job = ckpt.state().config().get("job").deepCopy();
        job.set("encoderWeights", NullNode.getInstance()); // the weights come from the checkpoint
        for (String s : sets) {
            TrainingRun.applySet(spec, job, s);
        }
        TrainingRun.fillOptionalDefaults(job, FinetuneJobConfig.class);
        FinetuneJobConfig config;
        try {
            config = TrainingRun.JSON.treeToValue(job, FinetuneJobConfig.class);
        } catch (JsonMappingException e) {
            throw new ParameterException(spec.commandLine(), TrainingRun.describe("job", e), e);
        }
        PrintWriter out = spec.commandLine().getOut();
        try (FinetuneJob j = new FinetuneJob(config)) {
            ckpt.restoreModule(Snapshot.MODEL, j.model());
            for (String name : j.extraModules().keySet()) {
                if (ckpt.modules().containsKey(name)) {
                    j.loadExtraModule(name, ckpt.module(name));
                }
            }
            Map<String, Double> metrics = j.evaluate();
            ClassificationMetrics m = j.lastMetrics();
            out.printf(Locale.ROOT, "checkpoint: %s (epoch %d, step %d)%n", dir, ckpt.state().epoch(),
                    ckpt.state().globalStep());
            out.printf(Locale.ROOT, "images:     %d%n", m.count());
            metrics.forEach((k, v) -> out.printf(Locale.ROOT, "%-11s %.4f%n", k + ":", v));
            double[] perClass = m.perClassAccuracy();
            StringBuilder b = new StringBuilder("per class:  ");
            for (int c = 0; c < perClass.length; c++) {
                b.append(String.format(Locale.ROOT, "%s%d %.3f", c == 0 ? "" : ", ", c, perClass[c]));
            }
            out.println(b);
        }
        out.flush();
        return Hgkd.OK;
    }

    private Path resolve() throws IOException {
        Path runCheckpoints = checkpoint.resolve(Trainer.CHECKPOINTS);
        if (!Files.isDirectory(runCheckpoints)) {
            return checkpoint;
        }
        CheckpointManager m = new CheckpointManager(runCheckpoints, Integer.MAX_VALUE,
                CheckpointManager.Goal.MAXIMIZE);
        return m.best().or(() -> {
            try {
                return m.latest();
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }).orElseThrow(() -> new IllegalArgumentException(runCheckpoints + ": no checkpoint"));
    }
}
