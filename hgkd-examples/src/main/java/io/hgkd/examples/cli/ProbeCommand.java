package io.hgkd.examples.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.hgkd.train.trainer.VitProbe;
import io.hgkd.train.trainer.VitProbeConfig;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code hgkd probe --config FILE --output DIR}: linear probe of a (pretrained or random) ViT encoder. */
@Command(name = "probe", mixinStandardHelpOptions = true,
        header = "Linear-probe a ViT encoder (teacher quality).",
        description = {"Extracts mean-pooled final tokens (patch tokens after the final norm, class token left out) "
            + "of a frozen ViT for the labelled training subset (job.data.labels) and the evaluation split, trains "
            + "MAE's probe head (affine-free BN + Linear, SGD, warmup-cosine) and reports top-1/top-5. "
            + "job.encoderWeights: 'hgkd export' of a pretrain-teacher or finetune-vit run; null = a random ViT "
            + "of the same shape (init from job.seed). Config: {\"job\": VitProbeConfig}; fields in "
            + "docs/training.md. Example: hgkd-examples/src/main/resources/configs/probe-fashion-mnist.json.",
            "Writes DIR/config.json and DIR/probe.json (top1, top5, eval_loss, train_top1, sizes, per-epoch losses, "
            + "wall times)."})
final class ProbeCommand implements Callable<Integer> {
    /** The result file in the output directory. */
    static final String RESULT = "probe.json";

    @Option(names = {"-c", "--config"}, required = true, paramLabel = "FILE.json",
            description = "A JSON object {\"job\": {...}} (VitProbeConfig; comments allowed).")
    Path config;

    @Option(names = "--set", paramLabel = "KEY.PATH=VALUE",
            description = "Override one config field, e.g. --set job.epochs=10. VALUE is JSON or a plain string. "
                    + "Repeatable.")
    List<String> sets = new ArrayList<>();

    @Option(names = {"-o", "--output"}, required = true, paramLabel = "DIR",
            description = "Output directory: config.json and " + RESULT + ".")
    Path output;

    @Option(names = "--print-config", description = "Print the effective config and exit.")
    boolean printConfig;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        ObjectNode root;
        try {
            JsonNode n = TrainingRun.JSON.readTree(config.toFile());
            if (n == null) {
                throw new IOException(config + ": no such file or empty");
            }
            if (!(n instanceof ObjectNode o)) {
                throw new ParameterException(spec.commandLine(), config + ": expected a JSON object with \"job\"");
            }
            root = o;
        } catch (JsonProcessingException e) {
            throw new ParameterException(spec.commandLine(), config + ": not valid JSON: " + e.getOriginalMessage());
        }
        for (String s : sets) {
            TrainingRun.applySet(spec, root, s);
        }
        for (Iterator<String> it = root.fieldNames(); it.hasNext(); ) {
            String k = it.next();
            if (!k.equals("job")) {
                throw new ParameterException(spec.commandLine(), config + ": unknown top-level field '" + k
                        + "' (expected \"job\")");
            }
        }
        JsonNode job = root.get("job");
        if (job == null || job.isNull()) {
            throw new ParameterException(spec.commandLine(), config + ": missing \"job\"");
        }
        TrainingRun.fillOptionalDefaults(job, VitProbeConfig.class);
        VitProbeConfig c;
        try {
            c = TrainingRun.JSON.treeToValue(job, VitProbeConfig.class);
        } catch (JsonMappingException e) {
            throw new ParameterException(spec.commandLine(), config + ": " + TrainingRun.describe("job", e), e);
        }
        ObjectNode effective = TrainingRun.JSON.createObjectNode();
        effective.set("job", TrainingRun.JSON.valueToTree(c));
        String text = TrainingRun.JSON.writeValueAsString(effective);
        PrintWriter out = spec.commandLine().getOut();
        if (printConfig) {
            out.println(text);
            out.flush();
            return Hgkd.OK;
        }
        Files.createDirectories(output);
        Files.writeString(output.resolve("config.json"), text + System.lineSeparator());
        out.println("probe: " + (c.encoderWeights() == null ? "random ViT (seed " + c.encoder().seed() + ")"
                : c.encoderWeights()) + ", " + c.epochs() + " epochs");
        out.flush();
        VitProbe.Result r = VitProbe.run(c);
        ObjectNode res = TrainingRun.JSON.createObjectNode();
        res.put("top1", r.top1());
        res.put("top5", r.top5());
        res.put("eval_loss", r.evalLoss());
        res.put("train_top1", r.trainTop1());
        res.put("train_size", r.trainSize());
        res.put("eval_size", r.evalSize());
        res.put("feature_dim", r.featureDim());
        res.put("encoder_weights", c.encoderWeights());
        res.put("label_fraction", c.data().labels() == null ? 1.0 : c.data().labels().fraction());
        res.put("feature_seconds", r.featureSeconds());
        res.put("probe_seconds", r.probeSeconds());
        res.set("epoch_losses", TrainingRun.JSON.valueToTree(r.epochLosses()));
        String resText = TrainingRun.JSON.writeValueAsString(res);
        Path tmp = output.resolve(RESULT + ".tmp");
        Files.writeString(tmp, resText + System.lineSeparator());
        Files.move(tmp, output.resolve(RESULT), java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        out.printf(Locale.ROOT, "probe: top1 %.4f top5 %.4f (train top1 %.4f; %d train / %d eval examples, D=%d;"
                + " features %.1f s, probe %.1f s)%n", r.top1(), r.top5(), r.trainTop1(), r.trainSize(), r.evalSize(),
                r.featureDim(), r.featureSeconds(), r.probeSeconds());
        out.println(output.resolve(RESULT));
        out.flush();
        return Hgkd.OK;
    }
}
