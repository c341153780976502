package io.hgkd.examples.cli;

import io.hgkd.core.io.Npz;
import io.hgkd.core.nn.LoadReport;
import io.hgkd.core.nn.Module;
import io.hgkd.models.registry.CreatedModel;
import io.hgkd.models.registry.ModelRegistry;
import io.hgkd.models.resnet.ResNet;
import io.hgkd.models.vit.VisionTransformer;
import io.hgkd.models.vit.VitConfig;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.Callable;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code hgkd forward}: one evaluation-mode forward pass of a registered model on an NCHW float32 batch, written as
 * {@code .npy} (or {@code .npz} for ResNet stage features), so outputs can be compared with PyTorch's.
 */
@Command(name = "forward", mixinStandardHelpOptions = true,
        header = "Run one eval-mode forward pass and write the output as .npy/.npz.",
        description = {"Builds MODEL from the registry (timm names: resnet18..resnet152, vit_tiny_patch16_224 .. "
            + "vit_huge_patch14_224), loads --weights if given, runs one forward pass in evaluation mode on --input "
            + "(an NCHW float32 .npy; a seeded random batch when absent) and writes:",
            "  ResNet: logits [B, classes] (pooled features when --num-classes 0); with --features an .npz with "
            + "layer1..layer4.",
            "  ViT: the final-norm tokens [B, 1+N, D] (cls first, patches row-major); logits instead when the model "
            + "has a head (--num-classes > 0) and --features is not given.",
            "Weights load by name; a missing classifier head (fc.*, head.*) or unexpected keys are reported as "
            + "warnings, any other mismatch is an error (--strict: every mismatch is an error)."})
final class ForwardCommand implements Callable<Integer> {
    @Option(names = {"-m", "--model"}, required = true, paramLabel = "NAME", description = "Registry name.")
    String model;

    @Option(names = {"-w", "--weights"}, paramLabel = "FILE", description = ".safetensors or .npz weights.")
    Path weights;

    @Option(names = {"-i", "--input"}, paramLabel = "X.npy", description = "NCHW float32 input batch.")
    Path input;

    @Option(names = {"-o", "--output"}, required = true, paramLabel = "Y.npy", description = "Where to write.")
    Path output;

    @Option(names = "--features", description = "ResNet: the four stage outputs (npz); ViT: tokens, not logits.")
    boolean features;

    @Option(names = "--strict", description = "Fail on any missing, unexpected or wrong-shape key.")
    boolean strict;

    @Option(names = "--img-size", paramLabel = "N", description = "Input size (ViT: also the token grid).")
    Integer imgSize;

    @Option(names = "--patch-size", paramLabel = "N", description = "ViT patch size.")
    Integer patchSize;

    @Option(names = "--in-chans", paramLabel = "N", description = "Input channels.")
    Integer inChans;

    @Option(names = "--num-classes", paramLabel = "N", description = "Classifier outputs (0: no head).")
    Integer numClasses;

    @Option(names = "--stem", paramLabel = "imagenet|small", description = "ResNet stem.")
    String stem;

    @Option(names = "--batch", paramLabel = "B", defaultValue = "1",
            description = "Batch size of the random input when --input is absent (default: ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--seed", paramLabel = "S", defaultValue = "0",
            description = "Seed of the random input when --input is absent (default: ${DEFAULT-VALUE}).")
    long seed;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        ModelRegistry.Family family;
        try {
            family = ModelRegistry.family(model);
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), e.getMessage());
        }
        if (family == ModelRegistry.Family.MAE) {
            throw new ParameterException(spec.commandLine(), model + " is an MAE pretraining model; run its encoder"
                    + " as the matching vit_* model (MAE weights load into it)");
        }
        if (batch <= 0) {
            throw new ParameterException(spec.commandLine(), "--batch must be positive, got " + batch);
        }
        CreatedModel created;
        try {
            created = ModelRegistry.create(model, overrides(family));
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), e.getMessage());
        }
        Module m = created.model();
        m.eval();
        if (weights != null) {
            LoadReport r = created.loadWeights(weights, strict);
            report(r, err);
        }
        INDArray x = input != null ? readInput(created) : randomInput(created);
        long t0 = System.nanoTime();
        Map<String, INDArray> result = run(created, x);
        double ms = (System.nanoTime() - t0) / 1e6;
        if (result.size() == 1) {
            Npz.writeNpy(output, result.values().iterator().next());
        } else {
            Npz.write(output, result);
        }
        out.printf("%s (%,d parameters) on input %s in %.0f ms%n", model, m.numParameters(),
                java.util.Arrays.toString(x.shape()), ms);
        result.forEach((k, v) -> out.printf("  %s %s%n", k, java.util.Arrays.toString(v.shape())));
        out.println("wrote " + output);
        return Hgkd.OK;
    }

    private Map<String, String> overrides(ModelRegistry.Family family) {
        Map<String, String> o = new LinkedHashMap<>();
        if (imgSize != null) {
            o.put("img_size", imgSize.toString());
        }
        if (patchSize != null) {
            o.put("patch_size", patchSize.toString());
        }
        if (inChans != null) {
            o.put("in_chans", inChans.toString());
        }
        if (numClasses != null) {
            o.put("num_classes", numClasses.toString());
        }
        if (stem != null) {
            o.put("stem", stem);
        }
        return o;
    }

    /** Missing head keys and unexpected keys are warnings; anything else fails unless the load was strict. */
    private void report(LoadReport r, PrintWriter err) {
        List<String> missingBody = r.missing().stream()
                .filter(k -> !k.startsWith("fc.") && !k.startsWith("head.")).toList();
        if (!missingBody.isEmpty() || !r.wrongShape().isEmpty()) {
            throw new IllegalArgumentException(weights + " does not fit " + model + ": missing " + missingBody
                    + ", wrong shape " + r.wrongShape() + " (check --num-classes, --img-size, --patch-size, --in-chans,"
                    + " --stem)");
        }
        if (!r.missing().isEmpty()) {
            err.println("warning: " + weights + " has no " + r.missing() + "; the classifier head keeps its random"
                    + " initialisation");
        }
        if (!r.unexpected().isEmpty()) {
            err.println("warning: " + weights + " has keys the model does not use: " + r.unexpected());
        }
    }

    private INDArray readInput(CreatedModel created) throws IOException {
        INDArray x = Npz.readNpy(input);
        int c = created.cfg().inputSize()[0];
        if (x.rank() != 4 || x.size(1) != c) {
            throw new IllegalArgumentException(input + ": expected an NCHW batch with " + c + " channels, got shape "
                    + java.util.Arrays.toString(x.shape()));
        }
        if (created.config() instanceof VitConfig vc && (x.size(2) != vc.imgSize() || x.size(3) != vc.imgSize())) {
            throw new IllegalArgumentException(input + ": " + model + " takes " + vc.imgSize() + "x" + vc.imgSize()
                    + " images, got " + x.size(2) + "x" + x.size(3) + " (use --img-size; weights for another grid"
                    + " have their pos_embed resampled)");
        }
        return x.castTo(DataType.FLOAT);
    }

    private INDArray randomInput(CreatedModel created) {
        int[] s = created.cfg().inputSize();
        Random r = new Random(seed);
        float[] v = new float[Math.toIntExact((long) batch * s[0] * s[1] * s[2])];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) r.nextGaussian();
        }
        return Nd4j.create(v, new long[] {batch, s[0], s[1], s[2]}, DataType.FLOAT);
    }

    private Map<String, INDArray> run(CreatedModel created, INDArray x) {
        Map<String, INDArray> result = new LinkedHashMap<>();
        if (created.model() instanceof ResNet resnet) {
            if (features) {
                List<INDArray> f = resnet.features(x, null);
                for (int i = 0; i < f.size(); i++) {
                    result.put("layer" + (i + 1), f.get(i).dup());
                }
            } else {
                result.put(resnet.config().numClasses() > 0 ? "logits" : "pooled", resnet.forward(x).dup());
            }
        } else if (created.model() instanceof VisionTransformer vit) {
            vit.setGradEnabled(false);
            if (vit.config().numClasses() > 0 && !features) {
                result.put("logits", vit.forward(x).dup());
            } else {
                result.put("tokens", vit.forwardTokens(x).dup());
            }
        }
        return result;
    }
}
