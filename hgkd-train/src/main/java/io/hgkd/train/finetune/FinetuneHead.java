package io.hgkd.train.finetune;

import io.hgkd.core.io.SafeTensors;
import io.hgkd.core.nn.LoadReport;
import io.hgkd.models.resnet.ResNet;
import io.hgkd.models.resnet.ResNetConfig;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Builds the dense ResNet classifier for fine-tuning from pretrained encoder weights with timm names (as written by
 * {@code hgkd export} / {@code EncoderExport}), with a new {@code fc} for K classes initialised as the ResNet does.
 *
 * <p>The load is checked rather than silently partial: after dropping any {@code fc.*} entries of the source (a
 * classifier checkpoint's head is replaced, never reused), the only keys the model may miss are {@code fc.weight}
 * and {@code fc.bias}, and {@code num_batches_tracked} counters (some exports omit them; they start at 0). Unexpected
 * keys or wrong shapes (a different depth or width, a student state dict with its decoder) throw with the full report.
 */
public final class FinetuneHead {
    private FinetuneHead() {
    }

    /**
     * The built model and what the load found.
     *
     * @param model   the classifier, in training mode
     * @param report  the load report of the encoder weights (missing = the new head and absent counters)
     * @param dropped {@code fc.*} keys of the source that were dropped
     */
    public record Result(ResNet model, LoadReport report, List<String> dropped) {
        /** Validates and copies. */
        public Result {
            Objects.requireNonNull(model, "model");
            Objects.requireNonNull(report, "report");
            dropped = List.copyOf(dropped);
        }
    }

    /**
     * Builds {@code config} (which must have {@code numClasses > 0}) and loads {@code encoder} into it.
     *
     * @param config  the architecture with the number of classes K
     * @param encoder encoder weights with timm names
     * @throws IllegalArgumentException when the weights do not fit the architecture (see the class comment)
     */
    public static Result build(ResNetConfig config, Map<String, INDArray> encoder) {
        Objects.requireNonNull(config, "config");
        Objects.requireNonNull(encoder, "encoder");
        if (config.numClasses() < 1) {
            throw new IllegalArgumentException("a fine-tuning classifier needs numClasses >= 1, got "
                    + config.numClasses());
        }
        Map<String, INDArray> weights = new LinkedHashMap<>();
        List<String> dropped = new ArrayList<>();
        encoder.forEach((k, v) -> {
            if (k.startsWith("fc.")) {
                dropped.add(k);
            } else {
                weights.put(k, v);
            }
        });
        if (weights.isEmpty()) {
            throw new IllegalArgumentException("no encoder weights to load (" + encoder.size() + " entries, all fc.*)");
        }
        ResNet model = new ResNet(config);
        LoadReport report = model.loadStateDict(weights, false);
        List<String> badMissing = report.missing().stream()
                .filter(k -> !k.startsWith("fc.") && !k.endsWith("num_batches_tracked")).toList();
        if (!badMissing.isEmpty() || !report.unexpected().isEmpty() || !report.wrongShape().isEmpty()) {
            throw new IllegalArgumentException("encoder weights do not fit " + config + ": only fc.* (and"
                    + " num_batches_tracked) may be missing; missing " + badMissing + ", unexpected "
                    + report.unexpected() + ", wrong shape " + report.wrongShape());
        }
        model.train(true);
        return new Result(model, report, dropped);
    }

    /** {@link #build(ResNetConfig, Map)} from a safetensors file. */
    public static Result build(ResNetConfig config, Path safetensors) throws IOException {
        return build(config, SafeTensors.read(Objects.requireNonNull(safetensors, "safetensors")));
    }
}
